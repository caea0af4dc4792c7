// Secrets (sqlx/messages/secrets.h): a sealed secret opens with its key and
// associated data only, and never once altered, truncated or extended; key
// files are read only when well-formed and private, and written once, mode
// 0600; KeyId names a key without showing it; API tokens and their digests.
#include "sqlx/messages/secrets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <string>
#include <type_traits>
#include <vector>

#include "temp_dir.h"

namespace sqlx::secrets {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// 00 01 02 ... 1f.
std::string KeyBytes() {
  std::string bytes;
  for (int i = 0; i < static_cast<int>(kKeySize); ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}
constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

SecretKey MakeKey(const std::string& bytes) {
  auto key = SecretKey::FromBytes(bytes);
  if (!key.ok()) ADD_FAILURE() << key.error().message;
  return std::move(key).value();
}
SecretKey FixedKey() { return MakeKey(KeyBytes()); }
SecretKey OtherKey() { return MakeKey(std::string(kKeySize, '\x5a')); }

std::string SealOrDie(const SecretKey& key, std::string_view plaintext, std::string_view ad) {
  auto sealed = Seal(key, plaintext, ad);
  if (!sealed.ok()) ADD_FAILURE() << sealed.error().message;
  return sealed.ok() ? *sealed : std::string();
}

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

mode_t ModeOf(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// A file holding `text`, with exactly `mode`.
std::string WriteWithMode(const testing::TempDir& dir, const std::string& name, const std::string& text,
                          mode_t mode) {
  const std::string path = dir.path() + "/" + name;
  testing::WriteFile(path, text);
  ::chmod(path.c_str(), mode);
  return path;
}

// ---- sealing ---------------------------------------------------------------

TEST(SecretSealTest, OpensWhatItSealed) {
  const SecretKey key = FixedKey();
  const std::vector<std::string> plaintexts = {"", "p", "correct horse battery staple",
                                               std::string("a\0b\xff", 4), std::string(100000, 'x')};
  for (const std::string& plaintext : plaintexts) {
    const std::string sealed = SealOrDie(key, plaintext, "connection/prod-db");
    EXPECT_EQ(sealed.size(), kSealOverhead + plaintext.size());
    ASSERT_FALSE(sealed.empty());
    EXPECT_EQ(static_cast<unsigned char>(sealed[0]), kSealVersion);
    auto opened = Open(key, sealed, "connection/prod-db");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(SecretSealTest, OpensABlobWrittenByAnotherImplementation) {
  // Python's `cryptography`, following docs/formats/secrets.md:
  //   nonce = a0..ab; AESGCM(key 00..1f).encrypt(nonce, b"hunter2", b"\x01" + b"connection/prod-db")
  const std::string blob = FromHex(
      "01a0a1a2a3a4a5a6a7a8a9aaab8e6d125920b930cee6b77de3306fad8271d9aea78f44c6");
  auto opened = Open(FixedKey(), blob, "connection/prod-db");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "hunter2");
}

TEST(SecretSealTest, TwoSealsOfTheSamePlaintextDiffer) {
  const SecretKey key = FixedKey();
  const std::string a = SealOrDie(key, "hunter2", "c");
  const std::string b = SealOrDie(key, "hunter2", "c");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(1, kNonceSize), b.substr(1, kNonceSize)) << "the nonce must be fresh";
}

TEST(SecretSealTest, CiphertextDoesNotShowThePlaintext) {
  const std::string plaintext(64, 'A');
  const std::string sealed = SealOrDie(FixedKey(), plaintext, "c");
  EXPECT_THAT(sealed, Not(HasSubstr("AAAA")));
}

TEST(SecretSealTest, OpenRefusesAnotherKeyAndNamesTheKeyItHas) {
  const std::string sealed = SealOrDie(FixedKey(), "hunter2", "c");
  const SecretKey other = OtherKey();
  auto opened = Open(other, sealed, "c");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(opened.error().message, HasSubstr("does not open with key " + KeyId(other)));
  EXPECT_THAT(opened.error().message, HasSubstr("wrong --secret-key"));
}

TEST(SecretSealTest, OpenRefusesOtherAssociatedData) {
  const SecretKey key = FixedKey();
  const std::string sealed = SealOrDie(key, "hunter2", "connection/a");
  for (std::string_view ad : {"connection/b", "connection/a ", "connection/", "", "\x01" "connection/a"}) {
    auto opened = Open(key, sealed, ad);
    ASSERT_FALSE(opened.ok()) << "opened with associated data '" << ad << "'";
    EXPECT_THAT(opened.error().message, HasSubstr("does not open"));
  }
  EXPECT_FALSE(Open(key, SealOrDie(key, "hunter2", ""), "x").ok());
}

TEST(SecretSealTest, OpenRefusesEverySingleBitFlip) {
  const SecretKey key = FixedKey();
  const std::string sealed = SealOrDie(key, "hunter2", "c");
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string altered = sealed;
      altered[i] = static_cast<char>(altered[i] ^ (1 << bit));
      auto opened = Open(key, altered, "c");
      ASSERT_FALSE(opened.ok()) << "byte " << i << " bit " << bit << " flipped and it still opened";
      EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

TEST(SecretSealTest, OpenRefusesEveryTruncationAndAnExtension) {
  const SecretKey key = FixedKey();
  const std::string sealed = SealOrDie(key, "hunter2", "c");
  for (size_t n = 0; n < sealed.size(); ++n) {
    auto opened = Open(key, std::string_view(sealed).substr(0, n), "c");
    ASSERT_FALSE(opened.ok()) << "a " << n << "-byte prefix opened";
    EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(Open(key, sealed + '\0', "c").ok());
  EXPECT_FALSE(Open(key, std::string_view(sealed).substr(1), "c").ok());
}

TEST(SecretSealTest, OpenSaysWhatIsWrongWithMalformedBytes) {
  const SecretKey key = FixedKey();
  auto empty = Open(key, "", "c");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().message, HasSubstr("empty"));

  auto short_one = Open(key, std::string(kSealOverhead - 1, '\x01'), "c");
  ASSERT_FALSE(short_one.ok());
  EXPECT_THAT(short_one.error().message, HasSubstr("truncated"));

  std::string future = SealOrDie(key, "hunter2", "c");
  future[0] = '\x02';
  auto newer = Open(key, future, "c");
  ASSERT_FALSE(newer.ok());
  EXPECT_THAT(newer.error().message, HasSubstr("version 2"));
}

// ---- the key ---------------------------------------------------------------

TEST(SecretKeyTest, IsMoveOnlyAndWipedWhenMovedFrom) {
  static_assert(!std::is_copy_constructible_v<SecretKey>);
  static_assert(!std::is_copy_assignable_v<SecretKey>);
  static_assert(std::is_nothrow_move_constructible_v<SecretKey>);
  SecretKey first = FixedKey();
  const std::string sealed = SealOrDie(first, "hunter2", "c");
  SecretKey second = std::move(first);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(first.data()), kKeySize),  // NOLINT: moved-from on purpose
            std::string(kKeySize, '\0'));
  auto opened = Open(second, sealed, "c");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "hunter2");
}

TEST(SecretKeyTest, FromBytesWantsExactly32Bytes) {
  EXPECT_FALSE(SecretKey::FromBytes(std::string(31, 'k')).ok());
  EXPECT_FALSE(SecretKey::FromBytes(std::string(33, 'k')).ok());
  EXPECT_TRUE(SecretKey::FromBytes(std::string(32, 'k')).ok());
}

TEST(SecretKeyTest, KeyIdIsStableAndIsNotTheKey) {
  // SHA-256("sqlx secret key id v1" 0x00 || 00..1f), first 8 bytes (docs/formats/secrets.md).
  EXPECT_EQ(KeyId(FixedKey()), "2f82015c52b2fb32");
  EXPECT_EQ(KeyId(FixedKey()), KeyId(FixedKey()));
  EXPECT_NE(KeyId(FixedKey()), KeyId(OtherKey()));
  EXPECT_THAT(std::string(kKeyHex), Not(HasSubstr(KeyId(FixedKey()))));
  auto generated = SecretKey::Generate();
  ASSERT_TRUE(generated.ok());
  EXPECT_EQ(KeyId(*generated).size(), 16u);
  EXPECT_NE(KeyId(*generated), KeyId(FixedKey()));
}

// ---- key files -------------------------------------------------------------

TEST(SecretKeyFileTest, LoadsTheKeyItHolds) {
  testing::TempDir dir("sqlx-secrets.");
  const std::string path = WriteWithMode(dir, "key", std::string(kKeyHex) + "\n", 0600);
  auto key = LoadSecretKey(path);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(KeyId(*key), KeyId(FixedKey()));
  // Sealed with the file's key, opened with the same bytes from elsewhere.
  auto opened = Open(FixedKey(), SealOrDie(*key, "hunter2", "c"), "c");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "hunter2");

  // Upper case, no newline, read-only: the same key.
  std::string upper = kKeyHex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto again = LoadSecretKey(WriteWithMode(dir, "upper", upper, 0400));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(KeyId(*again), KeyId(FixedKey()));
}

TEST(SecretKeyFileTest, RefusesAFileGroupOrOthersMayUse) {
  testing::TempDir dir("sqlx-secrets.");
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602, 0660, 0666, 0700 | 0010}) {
    const std::string path = WriteWithMode(dir, "key", std::string(kKeyHex) + "\n", mode);
    auto key = LoadSecretKey(path);
    ASSERT_FALSE(key.ok()) << "mode " << std::oct << mode << " was accepted";
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(key.error().message, HasSubstr("chmod 600 " + path));
  }
  const std::string path = WriteWithMode(dir, "key", std::string(kKeyHex) + "\n", 0644);
  EXPECT_THAT(LoadSecretKey(path).error().message, HasSubstr("mode 0644"));
}

TEST(SecretKeyFileTest, RefusesAMissingFileADirectoryOrAFifo) {
  testing::TempDir dir("sqlx-secrets.");
  auto missing = LoadSecretKey(dir.path() + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, HasSubstr(dir.path() + "/nope"));

  ::chmod(dir.path().c_str(), 0700);
  auto directory = LoadSecretKey(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.error().message, HasSubstr("not a regular file"));

  // Refused at once, not read (which would wait for a writer).
  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pipe = LoadSecretKey(fifo);
  ASSERT_FALSE(pipe.ok());
  EXPECT_THAT(pipe.error().message, HasSubstr("not a regular file"));
}

TEST(SecretKeyFileTest, RefusesOtherContentWithoutShowingIt) {
  struct Case {
    const char* name;
    std::string text;
    const char* why;
  };
  const std::string hex = kKeyHex;
  const std::vector<Case> cases = {
      {"empty", "", "it holds 0 bytes"},
      {"63 digits", hex.substr(1) + "\n", "it holds 64 bytes"},
      {"65 digits", hex + "0", "it holds 65 bytes"},
      {"two newlines", hex + "\n\n", "it holds 66 bytes"},
      {"CRLF", hex + "\r\n", "it holds 66 bytes"},
      {"trailing space", hex + " ", "it holds 65 bytes"},
      {"leading space", " " + hex.substr(1), "character 1 is not a hex digit"},
      {"a g", hex.substr(0, 11) + "g" + hex.substr(12), "character 12 is not a hex digit"},
      {"a large file", std::string(4096, 'a'), "it holds 4096 bytes"},
      {"raw bytes", KeyBytes(), "it holds 32 bytes"},
  };
  testing::TempDir dir("sqlx-secrets.");
  for (const Case& c : cases) {
    const std::string path = WriteWithMode(dir, "key", c.text, 0600);
    auto key = LoadSecretKey(path);
    ASSERT_FALSE(key.ok()) << c.name;
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument) << c.name;
    EXPECT_THAT(key.error().message, HasSubstr(path + " must hold 64 hex digits")) << c.name;
    EXPECT_THAT(key.error().message, HasSubstr(c.why)) << c.name;
    EXPECT_THAT(key.error().message, Not(HasSubstr(hex.substr(12, 20)))) << c.name;
  }
}

TEST(SecretKeyFileTest, WritesANewKeyWithMode0600ThatLoads) {
  testing::TempDir dir("sqlx-secrets.");
  const std::string path = dir.path() + "/cluster.key";
  // Whatever the umask: a lax one must not widen the mode, a strict one must
  // not leave the owner unable to read the key.
  const mode_t old_umask = ::umask(0);
  const Status lax = WriteNewSecretKey(path + ".lax");
  ::umask(0377);
  const Status written = WriteNewSecretKey(path);
  ::umask(old_umask);
  ASSERT_TRUE(lax.ok()) << lax.error().message;
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(ModeOf(path + ".lax"), 0600u);
  EXPECT_EQ(ModeOf(path), 0600u);

  const std::string text = testing::ReadFile(path);
  ASSERT_EQ(text.size(), 65u);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), 64u);

  auto first = LoadSecretKey(path);
  auto second = LoadSecretKey(path);  // as another process holding the same file
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(KeyId(*first), KeyId(*second));
  auto opened = Open(*second, SealOrDie(*first, "hunter2", "connection/a"), "connection/a");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, "hunter2");
}

TEST(SecretKeyFileTest, WriteNeverOverwrites) {
  testing::TempDir dir("sqlx-secrets.");
  const std::string path = dir.path() + "/cluster.key";
  ASSERT_TRUE(WriteNewSecretKey(path).ok());
  const std::string before = testing::ReadFile(path);

  const Status again = WriteNewSecretKey(path);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(again.error().message, HasSubstr(path));
  EXPECT_THAT(again.error().message, HasSubstr("never overwritten"));
  EXPECT_EQ(testing::ReadFile(path), before);

  const std::string other = WriteWithMode(dir, "precious", "not a key", 0644);
  EXPECT_FALSE(WriteNewSecretKey(other).ok());
  EXPECT_EQ(testing::ReadFile(other), "not a key");
  EXPECT_EQ(ModeOf(other), 0644u);
}

TEST(SecretKeyFileTest, WriteIntoAMissingDirectoryFailsCleanly) {
  testing::TempDir dir("sqlx-secrets.");
  const Status written = WriteNewSecretKey(dir.path() + "/no/such/dir/key");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ErrorCode::kIo);
  EXPECT_THAT(written.error().message, HasSubstr(dir.path() + "/no/such/dir/key"));
}

// ---- API tokens ------------------------------------------------------------

TEST(SecretTokenTest, NewTokenIsThePrefixAnd43Base64UrlCharacters) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::string token = NewApiToken();
  EXPECT_THAT(token, StartsWith("sqlx_"));
  ASSERT_EQ(token.size(), kApiTokenSize);
  ASSERT_EQ(token.size(), 5u + 43u);
  EXPECT_EQ(token.find_first_not_of(alphabet, 5), std::string::npos) << token;
  // 43 characters carry 258 bits: the last one's two low bits are padding.
  EXPECT_EQ(alphabet.find(token.back()) % 4, 0u) << token;
  EXPECT_NE(NewApiToken(), token);
}

TEST(SecretTokenTest, DigestIsLowercaseHexSha256) {
  EXPECT_EQ(TokenDigest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(TokenDigest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(TokenDigest("sqlx_AAAA"), "5917d6499da00f3f8dea3e489afe6f9691c7e42d1b88bcb4d52ed38b90379803");
  const std::string token = NewApiToken();
  EXPECT_EQ(TokenDigest(token), TokenDigest(token));
  EXPECT_THAT(TokenDigest(token), Not(HasSubstr(token.substr(5, 8))));
}

TEST(SecretTokenTest, DigestsEqualComparesWholeDigests) {
  const std::string a = TokenDigest("sqlx_a");
  std::string last_differs = a;
  last_differs.back() = last_differs.back() == '0' ? '1' : '0';
  EXPECT_TRUE(DigestsEqual(a, TokenDigest("sqlx_a")));
  EXPECT_FALSE(DigestsEqual(a, TokenDigest("sqlx_b")));
  EXPECT_FALSE(DigestsEqual(a, last_differs));
  EXPECT_FALSE(DigestsEqual(a, a.substr(0, 63)));
  EXPECT_FALSE(DigestsEqual(a.substr(0, 63), a));
  EXPECT_FALSE(DigestsEqual(a, ""));
  EXPECT_TRUE(DigestsEqual("", ""));
}

}  // namespace
}  // namespace sqlx::secrets
