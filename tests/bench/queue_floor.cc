// The floor of tests/bench/queue: the job round trip of `sqlx jobs probe`
// with bare NATS.c and nothing else (no FlatBuffers, no store, no sqlx
// code). A publisher stores COUNT jobs in a work-queue stream, each with its
// msg id and waiting for its PubAck; WORKERS threads (a connection each)
// fetch them, publish a result per job to a second stream (msg id
// "result:<job>", PubAck awaited) and only then ack the job (AckSync); a
// consumer on the publisher's connection fetches and acks (AckSync) every
// result. Both streams use file storage, as the sqlx streams do; every
// connection sends at once (natsOptions_SetSendAsap), as the sqlx bus does.
// Timed from the first publish to the last distinct result acked.
//
//   bench_queue_floor NATS_URL PREFIX COUNT [WORKERS=2] [WORKER_BATCH=1] [PAYLOAD_BYTES=64]
//     prints one line: FLOOR jobs=<n> seconds=<s> jobs_per_s=<r> redelivered=<n>
//   bench_queue_floor NATS_URL PREFIX --delete-sqlx-streams
//     deletes PREFIX_JOBS and PREFIX_EVENTS (the streams an orchestrator made)
//
// Streams PREFIX_FJOBS and PREFIX_FRESULTS are created fresh and deleted at
// the end. NATS.c 3.4.1's fetch may end at once with a stale timeout
// (docs/bus.md): every fetch loop treats a timeout as an empty batch.
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kNsPerSecond = 1000000000;

[[noreturn]] void Die(const std::string& what, natsStatus s, jsErrCode jerr = jsErrCode(0)) {
  std::fprintf(stderr, "bench_queue_floor: %s: %s (%d) jerr=%d %s\n", what.c_str(), natsStatus_GetText(s), s,
               static_cast<int>(jerr), nats_GetLastError(nullptr) ? nats_GetLastError(nullptr) : "");
  std::exit(1);
}

void Check(natsStatus s, const std::string& what, jsErrCode jerr = jsErrCode(0)) {
  if (s != NATS_OK) Die(what, s, jerr);
}

struct Connection {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  explicit Connection(const std::string& url) {
    // Send at once, as the sqlx bus does: NATS.c's flusher would hold each
    // pull request about 1 ms.
    natsOptions* opts = nullptr;
    Check(natsOptions_Create(&opts), "NATS options");
    Check(natsOptions_SetURL(opts, url.c_str()), "NATS options");
    Check(natsOptions_SetSendAsap(opts, true), "NATS options");
    const natsStatus s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    Check(s, "connect to " + url);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 10000;
    Check(natsConnection_JetStream(&js, nc, &jo), "JetStream context");
  }
  ~Connection() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
};

void DeleteStream(jsCtx* js, const std::string& name) {
  jsErrCode jerr = jsErrCode(0);
  const natsStatus s = js_DeleteStream(js, name.c_str(), nullptr, &jerr);
  if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) Die("delete stream " + name, s, jerr);
}

void AddStream(jsCtx* js, const std::string& name, const std::string& subjects, jsRetentionPolicy retention) {
  DeleteStream(js, name);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  const char* subs[] = {subjects.c_str()};
  cfg.Subjects = subs;
  cfg.SubjectsLen = 1;
  cfg.Retention = retention;
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = 120 * kNsPerSecond;  // the sqlx streams' 2-minute window
  jsErrCode jerr = jsErrCode(0);
  Check(js_AddStream(nullptr, js, &cfg, nullptr, &jerr), "add stream " + name, jerr);
}

void AddConsumer(jsCtx* js, const std::string& stream, const std::string& durable, int64_t max_ack_pending) {
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = durable.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.AckWait = 30 * kNsPerSecond;
  cfg.MaxDeliver = 5;
  cfg.MaxAckPending = max_ack_pending;
  jsErrCode jerr = jsErrCode(0);
  Check(js_AddConsumer(nullptr, js, stream.c_str(), &cfg, nullptr, &jerr), "add consumer " + durable, jerr);
}

natsSubscription* Bind(jsCtx* js, const std::string& stream, const std::string& subject, const std::string& durable) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Consumer = durable.c_str();
  natsSubscription* sub = nullptr;
  jsErrCode jerr = jsErrCode(0);
  Check(js_PullSubscribe(&sub, js, subject.c_str(), durable.c_str(), nullptr, &so, &jerr), "bind " + durable, jerr);
  return sub;
}

// Publishes and waits for the PubAck; the server dedupes on `msg_id`.
void Publish(jsCtx* js, const std::string& subject, const std::string& payload, const std::string& msg_id) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = msg_id.c_str();
  po.MaxWait = 10000;
  jsErrCode jerr = jsErrCode(0);
  jsPubAck* ack = nullptr;
  Check(js_Publish(&ack, js, subject.c_str(), payload.data(), static_cast<int>(payload.size()), &po, &jerr),
        "publish on " + subject, jerr);
  jsPubAck_Destroy(ack);
}

// One fetch; a timeout (stale or real) is an empty batch.
bool Fetch(natsSubscription* sub, int batch, natsMsgList* list) {
  jsErrCode jerr = jsErrCode(0);
  const natsStatus s = natsSubscription_Fetch(list, sub, batch, 200, &jerr);
  if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) return false;
  Check(s, "fetch", jerr);
  return true;
}

void AckSync(natsMsg* m) {
  jsErrCode jerr = jsErrCode(0);
  Check(natsMsg_AckSync(m, nullptr, &jerr), "ack", jerr);
}

std::string MsgId(natsMsg* m) {
  const char* id = nullptr;
  if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || id == nullptr) return "";
  return id;
}

int Usage() {
  std::fprintf(stderr,
               "usage: bench_queue_floor NATS_URL PREFIX COUNT [WORKERS=2] [WORKER_BATCH=1] [PAYLOAD_BYTES=64]\n"
               "       bench_queue_floor NATS_URL PREFIX --delete-sqlx-streams\n");
  return 2;
}

int Run(int argc, char** argv) {
  if (argc < 4) return Usage();
  const std::string url = argv[1];
  const std::string prefix = argv[2];
  if (std::strcmp(argv[3], "--delete-sqlx-streams") == 0) {
    Connection c(url);
    DeleteStream(c.js, prefix + "_JOBS");
    DeleteStream(c.js, prefix + "_EVENTS");
    return 0;
  }
  const long count = std::atol(argv[3]);
  const int workers = argc > 4 ? std::atoi(argv[4]) : 2;
  const int worker_batch = argc > 5 ? std::atoi(argv[5]) : 1;
  const size_t payload_bytes = argc > 6 ? static_cast<size_t>(std::atol(argv[6])) : 64;
  if (count < 1 || workers < 1 || worker_batch < 1) return Usage();

  const std::string jobs_stream = prefix + "_FJOBS", results_stream = prefix + "_FRESULTS";
  const std::string jobs_subject = prefix + ".fjobs.probe", results_subject = prefix + ".fresults.result";
  Connection main_conn(url);
  AddStream(main_conn.js, jobs_stream, prefix + ".fjobs.>", js_WorkQueuePolicy);
  AddStream(main_conn.js, results_stream, prefix + ".fresults.>", js_LimitsPolicy);
  AddConsumer(main_conn.js, jobs_stream, "workers", 1000);
  AddConsumer(main_conn.js, results_stream, "orchestrator", 10000);

  std::atomic<bool> stop{false};
  std::atomic<long> redelivered{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      Connection c(url);
      natsSubscription* sub = Bind(c.js, jobs_stream, jobs_subject, "workers");
      const std::string result(payload_bytes, 'r');
      while (!stop) {
        natsMsgList list{nullptr, 0};
        if (!Fetch(sub, worker_batch, &list)) continue;
        for (int i = 0; i < list.Count; ++i) {
          natsMsg* m = list.Msgs[i];
          Publish(c.js, results_subject, result, "result:" + MsgId(m));
          AckSync(m);
        }
        natsMsgList_Destroy(&list);
      }
      natsSubscription_Destroy(sub);
      (void)w;
    });
  }

  const std::string job(payload_bytes, 'j');
  Clock::time_point start, end;
  std::thread publisher([&] {
    start = Clock::now();
    for (long i = 0; i < count; ++i) Publish(main_conn.js, jobs_subject, job, "floor.p" + std::to_string(i));
  });
  {
    natsSubscription* sub = Bind(main_conn.js, results_stream, results_subject, "orchestrator");
    std::set<std::string> seen;
    while (static_cast<long>(seen.size()) < count) {
      natsMsgList list{nullptr, 0};
      if (!Fetch(sub, 256, &list)) continue;
      for (int i = 0; i < list.Count; ++i) {
        if (!seen.insert(MsgId(list.Msgs[i])).second) ++redelivered;
        AckSync(list.Msgs[i]);
      }
      natsMsgList_Destroy(&list);
    }
    end = Clock::now();
    natsSubscription_Destroy(sub);
  }
  publisher.join();
  stop = true;
  for (std::thread& t : threads) t.join();
  DeleteStream(main_conn.js, jobs_stream);
  DeleteStream(main_conn.js, results_stream);

  const double seconds = std::chrono::duration<double>(end - start).count();
  std::printf("FLOOR jobs=%ld seconds=%.3f jobs_per_s=%.1f redelivered=%ld\n", count, seconds,
              static_cast<double>(count) / seconds, redelivered.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int rc = Run(argc, argv);  // every connection is closed by now
  nats_Close();
  return rc;
}
