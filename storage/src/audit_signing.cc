// Ed25519 signing and verification of checkpoints with OpenSSL 3
// (EVP_PKEY_ED25519, one-shot EVP_DigestSign/Verify: pure Ed25519).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "byte_codec.h"
#include "sqlx/storage/audit_checkpoint.h"

namespace sqlx::storage {
namespace {

constexpr std::string_view kCheckpointDomain = "SQLX-AUDIT-CHECKPOINT-V1";

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

Result<PublicKey> RawPublicKey(EVP_PKEY* key, const std::string& path) {
  PublicKey out{};
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1 || len != out.size()) {
    return MakeError(ErrorCode::kInvalidArgument, path + " does not hold an Ed25519 key");
  }
  return out;
}

Result<std::string> ReadKeyFile(const std::string& path, bool is_private) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return MakeError(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                     "cannot read key file " + path + ": " + std::strerror(err) +
                         (is_private ? "; create one with `sqlx audit keygen --out FILE`" : ""));
  }
  struct stat st{};
  std::string text;
  if (::fstat(fd, &st) == 0 && is_private && (st.st_mode & 077) != 0) {
    ::close(fd);
    return MakeError(ErrorCode::kInvalidArgument,
                     "signing key " + path + " is readable by other users; run `chmod 600 " + path + "`");
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 16)) break;  // no PEM key is this large
  }
  ::close(fd);
  return text;
}

Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    const int err = errno;
    return MakeError(err == EEXIST ? ErrorCode::kInvalidArgument : ErrorCode::kIo,
                     "cannot create " + path + ": " + std::strerror(err) +
                         (err == EEXIST ? " (an existing key is never overwritten: choose another --out)" : ""));
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return MakeError(ErrorCode::kIo, "cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return MakeError(ErrorCode::kIo, "cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

std::string CheckpointSignedBytes(const Checkpoint& c) {
  std::string out(kCheckpointDomain);
  out.push_back('\0');
  codec::PutU64(&out, c.tree_size);
  codec::PutU64(&out, static_cast<uint64_t>(c.time_ns));
  out.append(reinterpret_cast<const char*>(c.head_hash.data()), c.head_hash.size());
  out.append(reinterpret_cast<const char*>(c.root.data()), c.root.size());
  return out;
}

bool CheckpointSignatureValid(const Checkpoint& checkpoint, const PublicKey& key) {
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  if (!pkey) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) return false;
  const std::string message = CheckpointSignedBytes(checkpoint);
  return EVP_DigestVerify(ctx.get(), checkpoint.signature.data(), checkpoint.signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

Result<AuditSigningKey> AuditSigningKey::Load(const std::string& pem_path) {
  SQLX_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(pem_path, /*is_private=*/true));
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    return MakeError(ErrorCode::kInvalidArgument,
                     pem_path + " is not an Ed25519 private key in PEM; create one with `sqlx audit keygen --out FILE`");
  }
  AuditSigningKey out;
  SQLX_ASSIGN_OR_RETURN(out.public_key_, RawPublicKey(key.get(), pem_path));
  out.key_ = std::shared_ptr<EVP_PKEY>(key.release(), PkeyDeleter());
  return out;
}

Result<PublicKey> AuditSigningKey::Generate(const std::string& pem_path) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return MakeError(ErrorCode::kInternal, "OpenSSL could not generate an Ed25519 key");
  BioPtr priv(BIO_new(BIO_s_mem()));
  BioPtr pub(BIO_new(BIO_s_mem()));
  if (!priv || !pub || PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1) {
    return MakeError(ErrorCode::kInternal, "OpenSSL could not encode the new key as PEM");
  }
  SQLX_ASSIGN_OR_RETURN(PublicKey raw, RawPublicKey(key.get(), pem_path));
  SQLX_RETURN_IF_ERROR(WriteNewFile(pem_path, BioText(priv.get()), 0600));
  SQLX_RETURN_IF_ERROR(WriteNewFile(pem_path + ".pub", BioText(pub.get()), 0644));
  return raw;
}

Result<Checkpoint> AuditSigningKey::Sign(Checkpoint checkpoint) const {
  checkpoint.public_key = public_key_;
  const std::string message = CheckpointSignedBytes(checkpoint);
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  size_t len = checkpoint.signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), checkpoint.signature.data(), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != checkpoint.signature.size()) {
    return MakeError(ErrorCode::kInternal, "OpenSSL could not sign the audit checkpoint");
  }
  return checkpoint;
}

Result<PublicKey> LoadPublicKey(const std::string& pem_path) {
  SQLX_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(pem_path, /*is_private=*/false));
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  PkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    return MakeError(ErrorCode::kInvalidArgument,
                     pem_path + " is not an Ed25519 public key in PEM (keygen writes one beside the key: FILE.pub)");
  }
  return RawPublicKey(key.get(), pem_path);
}

std::string PublicKeyHex(const PublicKey& key) { return codec::HexEncodeArray(key); }

}  // namespace sqlx::storage
