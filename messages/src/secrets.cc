// The key file, AES-256-GCM sealing and API tokens (OpenSSL libcrypto).
#include "sqlx/messages/secrets.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

namespace sqlx::secrets {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::string_view kKeyIdDomain{"sqlx secret key id v1\0", 22};
constexpr size_t kKeyIdHexSize = 16;
constexpr size_t kKeyHexSize = 2 * kKeySize;
constexpr size_t kTokenRandomSize = 32;
// EVP takes int lengths; the version byte joins the associated data.
constexpr size_t kMaxSealInput = INT_MAX - 1;

// No usable result exists when libcrypto cannot hash or draw random bytes,
// and these functions have no error to return (as ir::ProfileHash).
[[noreturn]] void OpenSslBroken(const char* what) {
  std::fprintf(stderr, "sqlx: OpenSSL cannot %s; the libcrypto installation is broken\n", what);
  std::abort();
}

void AppendHex(const unsigned char* bytes, size_t size, std::string* out) {
  for (size_t i = 0; i < size; ++i) {
    out->push_back(kHexDigits[bytes[i] >> 4]);
    out->push_back(kHexDigits[bytes[i] & 0xF]);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<unsigned char, 32> Sha256(std::string_view a, std::string_view b = {}) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1 || length != digest.size()) {
    OpenSslBroken("compute SHA-256");
  }
  return digest;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
CipherCtx NewCipherCtx() { return CipherCtx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

unsigned char* Bytes(std::string* s) { return reinterpret_cast<unsigned char*>(s->data()); }
const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// GCM's additional data: the version byte, then the caller's bytes.
std::string AdditionalData(std::string_view associated_data) {
  std::string aad(1, static_cast<char>(kSealVersion));
  aad.append(associated_data);
  return aad;
}

// ---- the key file ----------------------------------------------------------

std::string Errno(int err) { return std::strerror(err); }

// The key file's bytes, after checking what it is and who may read it. At
// most kKeyHexSize + 2 bytes are read: enough to tell that it holds more.
Result<std::string> ReadKeyFile(const std::string& path, size_t* file_size) {
  // O_NONBLOCK: a FIFO at `path` must be refused below, not wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return MakeError(ErrorCode::kNotFound, "secret key file " + path +
                                                 " does not exist: check --secret-key, or create a key file "
                                                 "(docs/formats/secrets.md)");
    }
    return MakeError(ErrorCode::kIo, "cannot open secret key file " + path + ": " + Errno(err));
  }
  struct stat st{};
  std::string text(kKeyHexSize + 2, '\0');
  size_t done = 0;
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = MakeError(ErrorCode::kIo, "cannot stat secret key file " + path + ": " + Errno(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = MakeError(ErrorCode::kInvalidArgument, "secret key file " + path + " is not a regular file");
  } else if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    status = MakeError(ErrorCode::kInvalidArgument, "secret key file " + path + " has mode " + mode +
                                                        ": group or others may read or change it; run "
                                                        "`chmod 600 " + path + "`");
  }
  while (status.ok() && done < text.size()) {
    const ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = MakeError(ErrorCode::kIo, "cannot read secret key file " + path + ": " + Errno(errno));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (!status.ok()) {
    OPENSSL_cleanse(text.data(), text.size());
    return std::move(status).error();
  }
  text.resize(done);
  *file_size = std::max(done, static_cast<size_t>(st.st_size));
  return text;
}

// The key in a key file's text (64 hex digits, optional "\n").
Result<SecretKey> ParseKeyText(std::string_view text, size_t file_size, const std::string& path) {
  std::string_view hex = text;
  if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
  const std::string expected = "secret key file " + path + " must hold 64 hex digits and an optional newline";
  if (hex.size() != kKeyHexSize) {
    return MakeError(ErrorCode::kInvalidArgument, expected + "; it holds " + std::to_string(file_size) + " bytes");
  }
  std::string raw(kKeySize, '\0');
  for (size_t i = 0; i < kKeySize; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      OPENSSL_cleanse(raw.data(), raw.size());
      return MakeError(ErrorCode::kInvalidArgument,
                       expected + "; character " + std::to_string(2 * i + (hi < 0 ? 1 : 2)) + " is not a hex digit");
    }
    raw[i] = static_cast<char>(hi << 4 | lo);
  }
  auto key = SecretKey::FromBytes(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

Status WriteAll(int fd, std::string_view text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return MakeError(ErrorCode::kIo, n < 0 ? Errno(errno) : "short write");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Makes the new directory entry durable.
Status SyncDirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return MakeError(ErrorCode::kIo, "cannot open directory " + dir + ": " + Errno(errno));
  const bool synced = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!synced) return MakeError(ErrorCode::kIo, "cannot fsync directory " + dir + ": " + Errno(err));
  return Status::Ok();
}

}  // namespace

// ---- SecretKey -------------------------------------------------------------

Result<SecretKey> SecretKey::FromBytes(std::string_view bytes) {
  if (bytes.size() != kKeySize) {
    return MakeError(ErrorCode::kInvalidArgument, "a secret key is " + std::to_string(kKeySize) +
                                                      " bytes, not " + std::to_string(bytes.size()));
  }
  SecretKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kKeySize);
  return key;
}

Result<SecretKey> SecretKey::Generate() {
  SecretKey key;
  if (RAND_bytes(key.bytes_.data(), kKeySize) != 1) {
    return MakeError(ErrorCode::kInternal, "OpenSSL cannot draw random bytes for a secret key");
  }
  return key;
}

SecretKey::SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_) { other.Wipe(); }

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    other.Wipe();
  }
  return *this;
}

SecretKey::~SecretKey() { Wipe(); }

void SecretKey::Wipe() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

// ---- key files -------------------------------------------------------------

Result<SecretKey> LoadSecretKey(const std::string& path) {
  size_t file_size = 0;
  SQLX_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(path, &file_size));
  auto key = ParseKeyText(text, file_size, path);
  OPENSSL_cleanse(text.data(), text.size());
  return key;
}

Status WriteNewSecretKey(const std::string& path) {
  SQLX_ASSIGN_OR_RETURN(SecretKey key, SecretKey::Generate());
  std::string text;
  AppendHex(key.data(), kKeySize, &text);
  text.push_back('\n');

  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    OPENSSL_cleanse(text.data(), text.size());
    if (err == EEXIST) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "secret key file " + path +
                           " exists already: a key file is never overwritten (what was sealed with it "
                           "would be lost); choose another path");
    }
    return MakeError(ErrorCode::kIo, "cannot create secret key file " + path + ": " + Errno(err));
  }
  // 0600 whatever the umask is: a stricter umask would make it unreadable.
  Status status = ::fchmod(fd, 0600) == 0 ? WriteAll(fd, text) : Status(MakeError(ErrorCode::kIo, Errno(errno)));
  if (status.ok() && ::fsync(fd) != 0) status = MakeError(ErrorCode::kIo, Errno(errno));
  OPENSSL_cleanse(text.data(), text.size());
  if (::close(fd) != 0 && status.ok()) status = MakeError(ErrorCode::kIo, Errno(errno));
  if (status.ok()) status = SyncDirectoryOf(path);
  if (!status.ok()) {
    ::unlink(path.c_str());  // ignored on purpose: the error below is what matters
    return MakeError(ErrorCode::kIo,
                     "cannot write secret key file " + path + ": " + status.error().message + " (removed it)");
  }
  return Status::Ok();
}

std::string KeyId(const SecretKey& key) {
  const auto digest = Sha256(kKeyIdDomain, std::string_view(reinterpret_cast<const char*>(key.data()), kKeySize));
  std::string id;
  AppendHex(digest.data(), kKeyIdHexSize / 2, &id);
  return id;
}

// ---- sealing ---------------------------------------------------------------

Result<std::string> Seal(const SecretKey& key, std::string_view plaintext, std::string_view associated_data) {
  if (plaintext.size() > kMaxSealInput || associated_data.size() > kMaxSealInput) {
    return MakeError(ErrorCode::kLimit, "a secret to seal and its associated data must each be under 2 GiB");
  }
  const std::string aad = AdditionalData(associated_data);
  std::string out(kSealOverhead + plaintext.size(), '\0');
  unsigned char* version = Bytes(&out);
  unsigned char* nonce = version + 1;
  unsigned char* ciphertext = nonce + kNonceSize;
  unsigned char* tag = ciphertext + plaintext.size();
  *version = kSealVersion;
  if (RAND_bytes(nonce, kNonceSize) != 1) {
    return MakeError(ErrorCode::kInternal, "OpenSSL cannot draw random bytes for a nonce");
  }
  CipherCtx ctx = NewCipherCtx();
  int len = 0;
  bool ok = ctx != nullptr &&
            EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1;
  if (ok && !plaintext.empty()) {
    ok = EVP_EncryptUpdate(ctx.get(), ciphertext, &len, Bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
         static_cast<size_t>(len) == plaintext.size();
  }
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), tag, &len) == 1 && len == 0 &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag) == 1;
  if (!ok) return MakeError(ErrorCode::kInternal, "OpenSSL cannot seal with AES-256-GCM");
  return out;
}

Result<std::string> Open(const SecretKey& key, std::string_view sealed, std::string_view associated_data) {
  if (sealed.empty()) return MakeError(ErrorCode::kInvalidArgument, "sealed secret is empty");
  if (static_cast<unsigned char>(sealed[0]) != kSealVersion) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "sealed secret has version " + std::to_string(static_cast<unsigned char>(sealed[0])) +
                         "; this build reads version 1 (was it sealed by a newer SQLx OS, or is it not a "
                         "sealed secret?)");
  }
  if (sealed.size() < kSealOverhead) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "sealed secret is " + std::to_string(sealed.size()) + " bytes, fewer than the " +
                         std::to_string(kSealOverhead) + " of an empty one: it was truncated");
  }
  if (sealed.size() - kSealOverhead > kMaxSealInput || associated_data.size() > kMaxSealInput) {
    return MakeError(ErrorCode::kLimit, "a sealed secret and its associated data must each be under 2 GiB");
  }
  const std::string aad = AdditionalData(associated_data);
  const unsigned char* nonce = Bytes(sealed) + 1;
  const unsigned char* ciphertext = nonce + kNonceSize;
  const size_t size = sealed.size() - kSealOverhead;
  // EVP_CTRL_AEAD_SET_TAG takes a non-const pointer.
  std::array<unsigned char, kTagSize> tag{};
  std::memcpy(tag.data(), ciphertext + size, kTagSize);

  std::string plaintext(size, '\0');
  CipherCtx ctx = NewCipherCtx();
  int len = 0;
  bool ok = ctx != nullptr &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1;
  if (ok && size > 0) {
    ok = EVP_DecryptUpdate(ctx.get(), Bytes(&plaintext), &len, ciphertext, static_cast<int>(size)) == 1 &&
         static_cast<size_t>(len) == size;
  }
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize), tag.data()) == 1;
  if (!ok) return MakeError(ErrorCode::kInternal, "OpenSSL cannot open with AES-256-GCM");
  // The plaintext so far is unauthenticated: released only if the tag verifies.
  unsigned char final_block[16];
  if (EVP_DecryptFinal_ex(ctx.get(), final_block, &len) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return MakeError(ErrorCode::kInvalidArgument,
                     "sealed secret does not open with key " + KeyId(key) +
                         " (wrong --secret-key, or the record was altered or belongs to another one)");
  }
  return plaintext;
}

// ---- API tokens ------------------------------------------------------------

std::string NewApiToken() {
  static constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<unsigned char, kTokenRandomSize> random{};
  if (RAND_bytes(random.data(), kTokenRandomSize) != 1) OpenSslBroken("draw random bytes");
  std::string token(kApiTokenPrefix);
  // 32 bytes = 10 groups of 3 (4 characters each) and 2 bytes (3 characters).
  for (size_t i = 0; i < kTokenRandomSize; i += 3) {
    const uint32_t group = uint32_t{random[i]} << 16 | uint32_t{random[i + 1]} << 8 |
                           (i + 2 < kTokenRandomSize ? uint32_t{random[i + 2]} : 0);
    const size_t chars = i + 2 < kTokenRandomSize ? 4 : 3;
    for (size_t c = 0; c < chars; ++c) token.push_back(kBase64Url[(group >> (18 - 6 * c)) & 0x3F]);
  }
  OPENSSL_cleanse(random.data(), random.size());
  return token;
}

std::string TokenDigest(std::string_view token) {
  const auto digest = Sha256(token);
  std::string hex;
  AppendHex(digest.data(), digest.size(), &hex);
  return hex;
}

bool DigestsEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sqlx::secrets
