// A throwaway PKI for TLS tests, issued in process at start-up: a CA, a
// server certificate for 127.0.0.1 and localhost signed by it, an unrelated
// (rogue) CA, and their PEM files in a temporary directory.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace sqlx::testing {

struct Identity {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, X509_free};
};

inline void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(extension, nullptr) << value;
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

// A P-256 certificate for `common_name`: a CA when `alt_names` is empty
// (self-signed unless `issuer` is given), else a server certificate with
// those subjectAltNames ("IP:127.0.0.1,DNS:localhost") signed by `issuer`.
inline Identity Issue(const std::string& common_name, const Identity* issuer, const char* alt_names) {
  static long serial = 1;
  Identity id;
  id.key.reset(EVP_EC_gen("P-256"));
  id.cert.reset(X509_new());
  X509* cert = id.cert.get();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24L * 3600);
  X509_set_pubkey(cert, id.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  AddExtension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (*alt_names == '\0') {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "CA:FALSE");
    AddExtension(cert, issuer_cert, NID_ext_key_usage, "serverAuth");
    AddExtension(cert, issuer_cert, NID_subject_alt_name, alt_names);
    AddExtension(cert, issuer_cert, NID_authority_key_identifier, "keyid");
  }
  X509_sign(cert, issuer != nullptr ? issuer->key.get() : id.key.get(), EVP_sha256());
  return id;
}

inline void WritePem(const std::string& path, X509* cert) {
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr) << path;
  PEM_write_X509(file, cert);
  std::fclose(file);
}

// Certificates and CA files for one test run, in a fresh temporary folder.
struct TestPki {
  TestPki() : temp("sqlx-tls-"), dir(temp.path()) {
    ca = Issue("sqlx test CA", nullptr, "");
    server = Issue("sqlx test server", &ca, "IP:127.0.0.1,DNS:localhost");
    rogue_ca = Issue("sqlx rogue CA", nullptr, "");
    ca_file = (dir / "ca.pem").string();
    rogue_ca_file = (dir / "rogue-ca.pem").string();
    not_pem_file = (dir / "not-pem.txt").string();
    missing_ca_file = (dir / "no-such-ca.pem").string();
    WritePem(ca_file, ca.cert.get());
    WritePem(rogue_ca_file, rogue_ca.cert.get());
    std::ofstream(not_pem_file) << "this is not a certificate\n";
  }
  TempDir temp;
  std::filesystem::path dir;
  Identity ca, server, rogue_ca;
  std::string ca_file, rogue_ca_file, not_pem_file, missing_ca_file;
};

}  // namespace sqlx::testing
