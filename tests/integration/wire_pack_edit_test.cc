// The wire pack is data: a copy edited at run time (an opcode renumbered, a
// greeting field moved, an auth plugin added) changes the protocol the
// Session speaks to the scripted fake server (tests/support/
// fake_mysql_server.py, scenario `edited_protocol`) with no rebuild; broken
// copies fail naming the file and JSON pointer.
//
// Each test starts one server process for one scenario, checks what the
// client saw, then checks what the server saw: its exit status (0 = it
// verified what the scenario expects) and its `OK:` / `FAIL:` line on stderr.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "fake_server.h"

namespace sqlx::transports {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using sqlx::testing::FakeServerTest;
using sqlx::testing::kFirstConnectionId;
using sqlx::testing::kSourcePacks;
using sqlx::testing::ReadFile;
using sqlx::testing::WriteFile;
using Json = nlohmann::ordered_json;

class WirePackEditTest : public FakeServerTest {
 protected:
  // Copies registry.json into a fresh pack directory and returns the parsed
  // mysql.wire.json for editing; SavePack() writes it there. Each call uses a
  // new directory: packs are cached per file for the life of the process.
  Json CopyPack() {
    pack_dir_ = scratch_.path() + "/packs" + std::to_string(++pack_dirs_);
    std::filesystem::create_directories(pack_dir_);
    std::filesystem::copy_file(kSourcePacks + "/registry.json", pack_dir_ + "/registry.json");
    return Json::parse(ReadFile(kSourcePacks + "/mysql.wire.json"));
  }
  void SavePack(const Json& pack) { WriteFile(pack_dir_ + "/mysql.wire.json", pack.dump(2)); }

  // The three edits the `edited_protocol` scenario speaks.
  enum class Edit { kPingOpcode, kGreetingOrder, kHmacPlugin };
  static constexpr Edit kAllEdits[] = {Edit::kPingOpcode, Edit::kGreetingOrder, Edit::kHmacPlugin};

  static void Apply(Edit edit, Json& pack) {
    switch (edit) {
      case Edit::kPingOpcode:
        pack["constants"]["COM_PING"] = 0x3e;
        return;
      case Edit::kGreetingOrder: {
        // The u32 connection id comes right after the protocol version.
        Json& greeting = pack["layouts"]["greeting"];
        auto named = [&](const std::string& name) {
          for (auto it = greeting.begin(); it != greeting.end(); ++it)
            if (it->value("name", "") == name) return it;
          return greeting.end();
        };
        auto conn_id = named("connection_id");
        ASSERT_NE(conn_id, greeting.end());
        Json field = *conn_id;
        greeting.erase(conn_id);
        auto version = named("protocol_version");
        ASSERT_NE(version, greeting.end());
        greeting.insert(version + 1, field);
        return;
      }
      case Edit::kHmacPlugin:
        // HMAC-SHA256(key = the 20-byte scramble, message = SHA-256(password)).
        pack["tables"]["auth_plugins"]["sqlx_hmac_password"] = Json::parse(R"json({
          "initial": [{"set": {"auth_response": "hmac_sha256(slice(auth_data, 0, 20), sha256(password))"}}]
        })json");
        return;
    }
  }

  // Writes a pack dir holding the source pack with `edits` applied.
  void WriteEditedPack(const std::vector<Edit>& edits) {
    Json pack = CopyPack();
    for (Edit e : edits) ASSERT_NO_FATAL_FAILURE(Apply(e, pack));
    SavePack(pack);
  }

  Result<std::unique_ptr<Session>> OpenWithPackDir(const std::string& dir) {
    return Connect("", "pw", dir);
  }

  std::string pack_dir_;
  int pack_dirs_ = 0;
};

TEST_F(WirePackEditTest, SessionFollowsAnEditedPackWithoutRebuild) {
  ASSERT_NO_FATAL_FAILURE(WriteEditedPack({std::begin(kAllEdits), std::end(kAllEdits)}));
  ASSERT_NO_FATAL_FAILURE(StartServer("edited_protocol"));

  auto session = OpenWithPackDir(pack_dir_);
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  Session& s = **session;
  EXPECT_EQ(s.server().auth_plugin, "sqlx_hmac_password");
  EXPECT_EQ(s.server().greeting.connection_id, kFirstConnectionId);
  EXPECT_EQ(s.server().greeting.server_version, "8.0.36-sqlx-fake");
  Status ping = s.Ping();  // the server answers only opcode 0x3e
  EXPECT_TRUE(ping.ok()) << ping.error().ToString();
  s.Close();
  ExpectServerOk("sqlx_hmac_password verified");
  EXPECT_THAT(server_->Stderr(), AllOf(HasSubstr("PING"), Not(HasSubstr("unknown 0x0e"))));
}

// Proves each edit mattered: a pack missing any one of them (or all of them)
// cannot talk to the edited server.
TEST_F(WirePackEditTest, PackMissingAnyEditCannotSpeakTheEditedProtocol) {
  struct Case {
    const char* name;
    std::optional<Edit> left_out;  // nullopt: the unedited source pack
    const char* client_error;      // in the Open or Ping error
    const char* server_fail;       // in the server's FAIL line
  };
  const Case cases[] = {
      {"unedited pack", std::nullopt, "does not speak protocol 4.1", "waited for handshake response"},
      {"standard ping opcode", Edit::kPingOpcode, "Unknown command", "standard opcode 0x0e"},
      {"standard greeting order", Edit::kGreetingOrder, "protocol 4.1", "waited for handshake response"},
      {"no hmac plugin", Edit::kHmacPlugin, "sqlx_hmac_password", "waited for handshake response"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string dir = kSourcePacks;
    if (c.left_out) {
      std::vector<Edit> edits;
      for (Edit e : kAllEdits)
        if (e != *c.left_out) edits.push_back(e);
      ASSERT_NO_FATAL_FAILURE(WriteEditedPack(edits));
      dir = pack_dir_;
    }
    ASSERT_NO_FATAL_FAILURE(StartServer("edited_protocol"));
    auto session = OpenWithPackDir(dir);
    std::string client_error;
    if (!session.ok()) {
      client_error = session.error().ToString();
    } else {
      Status ping = (*session)->Ping();
      ASSERT_FALSE(ping.ok()) << "the edited server refuses opcode 0x0e";
      client_error = ping.error().ToString();
      (*session)->Close();
    }
    EXPECT_THAT(client_error, HasSubstr(c.client_error));
    ExpectServerFail(c.server_fail);
  }
}

TEST_F(WirePackEditTest, MissingPackFileIsNotFoundNamingTheFile) {
  CopyPack();  // registry.json only
  auto session = OpenWithPackDir(pack_dir_);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, ErrorCode::kNotFound) << session.error().ToString();
  EXPECT_THAT(session.error().message, HasSubstr(pack_dir_ + "/mysql.wire.json"));
}

TEST_F(WirePackEditTest, MalformedPackJsonIsAPackErrorNamingTheFile) {
  CopyPack();
  std::string text = ReadFile(kSourcePacks + "/mysql.wire.json");
  WriteFile(pack_dir_ + "/mysql.wire.json", text.substr(0, text.size() / 2));
  auto session = OpenWithPackDir(pack_dir_);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, ErrorCode::kPack) << session.error().ToString();
  EXPECT_THAT(session.error().message,
              AllOf(HasSubstr(pack_dir_ + "/mysql.wire.json"), HasSubstr("not valid JSON")));
}

TEST_F(WirePackEditTest, ExpressionSyntaxErrorNamesTheJsonPointer) {
  Json pack = CopyPack();
  Json& ping = pack["procedures"]["ping"];
  ASSERT_TRUE(ping.is_array());
  ASSERT_GE(ping.size(), 2u);
  ping[1] = Json{{"send_raw", "concat(x'0e', "}};
  SavePack(pack);
  auto session = OpenWithPackDir(pack_dir_);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, ErrorCode::kPack) << session.error().ToString();
  EXPECT_THAT(session.error().message,
              AllOf(HasSubstr(pack_dir_ + "/mysql.wire.json"), HasSubstr("/procedures/ping/1/send_raw"),
                    HasSubstr("concat(x'0e', ")));
}

}  // namespace
}  // namespace sqlx::transports
