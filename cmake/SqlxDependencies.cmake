# Every dependency comes from Debian packages (scripts/install-deps).
# How each is found is measured in shared/DEPENDENCIES.md.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(RocksDB CONFIG REQUIRED)
# Exact: flatc-generated headers static_assert the runtime version.
find_package(FlatBuffers 2.0.8 EXACT CONFIG REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# NATS.c's CMake config is broken in Debian (missing static lib): pkg-config.
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
# zstd: pkg-config, apart from the zstd::zstd target RocksDB's config defines.
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# cpp-httplib 0.11: pkg-config only; its flags (OpenSSL, zlib, brotli) must be kept.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# CAF 0.17.6: no CMake config in the package; cmake/FindCAF.cmake. Only
# actors/, orchestrator/ and cli/ link it.
find_package(CAF 0.17 REQUIRED)
if(SQLX_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
