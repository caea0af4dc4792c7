// Idempotent creation of streams and durable consumers: create when absent,
// update what the server can change, refuse what it cannot.
#include <algorithm>
#include <string>
#include <vector>

#include "connection.h"
#include "payload_format.h"

namespace sqlx::bus {
namespace {

bool NotFound(natsStatus s, jsErrCode e, jsErrCode which) {
  return s == NATS_NOT_FOUND || e == which;
}

// The stream's subjects as stored: the caller's, then their chunk subjects.
std::vector<std::string> StoredSubjects(const StreamConfig& config) {
  std::vector<std::string> out = config.subjects;
  for (const auto& s : config.subjects) out.push_back(std::string(kChunkSubjectPrefix) + s);
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

Status ValidateStream(const StreamConfig& config) {
  if (config.name.empty() ||
      config.name.find_first_of(".*> \t\r\n") != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "stream name '" + config.name + "' must be non-empty without . * > or spaces");
  }
  if (config.subjects.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "stream " + config.name + " needs a subject");
  }
  for (const auto& s : config.subjects) {
    if (s.empty() || s.rfind(kChunkSubjectPrefix, 0) == 0 || s == ">" || s.rfind("_sqlx.", 0) == 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "stream " + config.name + ": subject '" + s +
                           "' is empty, a catch-all or inside the bus's reserved _sqlx. space");
    }
  }
  return Status::Ok();
}

}  // namespace

Status Bus::EnsureStream(const StreamConfig& config) {
  SQLX_RETURN_IF_ERROR(ValidateStream(config));
  const std::vector<std::string> subjects = StoredSubjects(config);
  std::vector<const char*> subject_ptrs;
  for (const auto& s : subjects) subject_ptrs.push_back(s.c_str());

  jsStreamConfig want;
  jsStreamConfig_Init(&want);
  want.Name = config.name.c_str();
  want.Subjects = subject_ptrs.data();
  want.SubjectsLen = static_cast<int>(subject_ptrs.size());
  want.Retention =
      config.retention == Retention::kWorkQueue ? js_WorkQueuePolicy : js_LimitsPolicy;
  want.Storage = js_FileStorage;
  want.Duplicates = Nanos(config.duplicate_window);
  want.MaxAge = Nanos(config.max_age);
  want.MaxBytes = config.max_bytes > 0 ? config.max_bytes : -1;
  want.AllowDirect = true;  // chunks are read back by direct get

  jsOptions jo = conn_->JsOptions();
  jsErrCode jerr = jsErrCode(0);
  OwnedStreamInfo info;
  natsStatus s = js_GetStreamInfo(&info.p, conn_->js, config.name.c_str(), &jo, &jerr);
  if (NotFound(s, jerr, JSStreamNotFoundErr)) {
    OwnedStreamInfo created;
    jerr = jsErrCode(0);
    s = js_AddStream(&created.p, conn_->js, &want, &jo, &jerr);
    if (s != NATS_OK) return NatsError(s, "create stream " + config.name, jerr);
    return Status::Ok();
  }
  if (s != NATS_OK) return NatsError(s, "read stream " + config.name, jerr);

  const jsStreamConfig& have = *info.p->Config;
  if (have.Retention != want.Retention || have.Storage != want.Storage) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "stream " + config.name +
                         " exists with another retention or storage than asked (work queue vs "
                         "limits, file): delete it or use another name");
  }
  std::vector<std::string> have_subjects;
  for (int i = 0; i < have.SubjectsLen; ++i) have_subjects.emplace_back(have.Subjects[i]);
  const bool same = Sorted(have_subjects) == Sorted(subjects) &&
                    have.Duplicates == want.Duplicates && have.MaxAge == want.MaxAge &&
                    have.MaxBytes == want.MaxBytes && have.AllowDirect;
  if (same) return Status::Ok();
  OwnedStreamInfo updated;
  jerr = jsErrCode(0);
  s = js_UpdateStream(&updated.p, conn_->js, &want, &jo, &jerr);
  if (s != NATS_OK) return NatsError(s, "update stream " + config.name, jerr);
  return Status::Ok();
}

Status Bus::DeleteStream(std::string_view name) {
  const std::string n(name);
  jsOptions jo = conn_->JsOptions();
  jsErrCode jerr = jsErrCode(0);
  const natsStatus s = js_DeleteStream(conn_->js, n.c_str(), &jo, &jerr);
  if (s != NATS_OK) return NatsError(s, "delete stream " + n, jerr);
  return Status::Ok();
}

Result<StreamState> Bus::GetStreamState(std::string_view name) {
  const std::string n(name);
  jsOptions jo = conn_->JsOptions();
  jsErrCode jerr = jsErrCode(0);
  OwnedStreamInfo info;
  const natsStatus s = js_GetStreamInfo(&info.p, conn_->js, n.c_str(), &jo, &jerr);
  if (s != NATS_OK) return NatsError(s, "read stream " + n, jerr);
  StreamState out;
  out.messages = info.p->State.Msgs;
  out.bytes = info.p->State.Bytes;
  out.first_sequence = info.p->State.FirstSeq;
  out.last_sequence = info.p->State.LastSeq;
  return out;
}

namespace {

Status ValidateConsumer(const ConsumerConfig& config) {
  if (config.durable.empty() || config.durable.find_first_of(".*> ") != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "durable name '" + config.durable + "' must be non-empty without . * > or spaces");
  }
  if (config.max_deliver < 1 || config.ack_wait.count() <= 0 || config.max_ack_pending < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "consumer " + config.durable +
                         ": max_deliver, ack_wait and max_ack_pending must be positive");
  }
  return Status::Ok();
}

// The stream's only own subject (chunk subjects aside), for an empty filter.
Result<std::string> DefaultFilter(Bus::Connection& conn, const std::string& stream,
                                  const std::string& durable) {
  jsOptions jo = conn.JsOptions();
  jsErrCode jerr = jsErrCode(0);
  OwnedStreamInfo si;
  const natsStatus s = js_GetStreamInfo(&si.p, conn.js, stream.c_str(), &jo, &jerr);
  if (s != NATS_OK) return NatsError(s, "read stream " + stream, jerr);
  std::vector<std::string> own;
  for (int i = 0; i < si.p->Config->SubjectsLen; ++i) {
    std::string_view subj = si.p->Config->Subjects[i];
    if (subj.rfind(kChunkSubjectPrefix, 0) != 0) own.emplace_back(subj);
  }
  if (own.size() != 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "stream " + stream + " has " + std::to_string(own.size()) +
                         " subjects: give consumer " + durable + " a filter_subject");
  }
  return own.front();
}

}  // namespace

Status Bus::EnsureConsumer(std::string_view stream, const ConsumerConfig& config) {
  const std::string stream_name(stream);
  SQLX_RETURN_IF_ERROR(ValidateConsumer(config));
  std::string filter = config.filter_subject;
  if (filter.empty()) {
    SQLX_ASSIGN_OR_RETURN(filter, DefaultFilter(*conn_, stream_name, config.durable));
  }
  if (filter.rfind("_sqlx.", 0) == 0 || filter == ">") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "consumer filter '" + filter + "' would see the bus's chunk messages");
  }
  jsOptions jo = conn_->JsOptions();
  jsErrCode jerr = jsErrCode(0);

  jsConsumerConfig want;
  jsConsumerConfig_Init(&want);
  want.Durable = config.durable.c_str();
  want.AckPolicy = js_AckExplicit;
  want.DeliverPolicy = js_DeliverAll;
  want.AckWait = Nanos(config.ack_wait);
  want.MaxDeliver = config.max_deliver;
  want.MaxAckPending = config.max_ack_pending;
  want.FilterSubject = filter.c_str();

  OwnedConsumerInfo info;
  natsStatus s = js_GetConsumerInfo(&info.p, conn_->js, stream_name.c_str(),
                                    config.durable.c_str(), &jo, &jerr);
  if (NotFound(s, jerr, JSConsumerNotFoundErr)) {
    OwnedConsumerInfo created;
    jerr = jsErrCode(0);
    s = js_AddConsumer(&created.p, conn_->js, stream_name.c_str(), &want, &jo, &jerr);
    if (s != NATS_OK) {
      return NatsError(s, "create consumer " + config.durable + " on " + stream_name, jerr);
    }
    return Status::Ok();
  }
  if (s != NATS_OK) return NatsError(s, "read consumer " + config.durable, jerr);

  const jsConsumerConfig& have = *info.p->Config;
  const std::string have_filter = have.FilterSubject ? have.FilterSubject : "";
  if (have_filter != filter || have.AckPolicy != js_AckExplicit ||
      have.DeliverSubject != nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "consumer " + config.durable + " on " + stream_name +
                         " exists with filter '" + have_filter +
                         "' (or is not an explicit-ack pull consumer), asked for '" + filter +
                         "': delete it or use another durable name");
  }
  if (have.AckWait == want.AckWait && have.MaxDeliver == want.MaxDeliver &&
      have.MaxAckPending == want.MaxAckPending) {
    return Status::Ok();
  }
  OwnedConsumerInfo updated;
  jerr = jsErrCode(0);
  s = js_UpdateConsumer(&updated.p, conn_->js, stream_name.c_str(), &want, &jo, &jerr);
  if (s != NATS_OK) return NatsError(s, "update consumer " + config.durable, jerr);
  return Status::Ok();
}

}  // namespace sqlx::bus
