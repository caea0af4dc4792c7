#!/usr/bin/env python3
"""Scripted fake MySQL server for SQLx OS tests (Python 3.11 stdlib only).

Speaks just enough of the MySQL classic protocol to drive a client through
scenarios a real MariaDB cannot produce: MySQL 8 caching_sha2_password
(fast path, full auth over RSA, full auth over TLS), auth switches, hostile
or truncated server bytes, and an "edited protocol" variant.

    python3 tests/support/fake_mysql_server.py --scenario NAME \
        [--user U] [--password P] [--connections N] [--workdir DIR]

Binds 127.0.0.1 on an ephemeral port, prints exactly ``PORT <n>`` on stdout
once listening, serves N connections one after another, then exits 0 after
writing ``OK: ...`` lines to stderr.  When the client does something the
scenario does not expect, it sends an ERR packet (when that makes sense),
writes ``FAIL: <reason>`` to stderr and exits 1.  See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import hmac
import os
import secrets
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

# --------------------------------------------------------------------------
# Protocol constants
# --------------------------------------------------------------------------
CLIENT_LONG_PASSWORD = 1
CLIENT_FOUND_ROWS = 2
CLIENT_LONG_FLAG = 4
CLIENT_CONNECT_WITH_DB = 8
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_MULTI_STATEMENTS = 1 << 16
CLIENT_MULTI_RESULTS = 1 << 17
CLIENT_PS_MULTI_RESULTS = 1 << 18
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_CONNECT_ATTRS = 1 << 20
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21
CLIENT_SESSION_TRACK = 1 << 23
CLIENT_DEPRECATE_EOF = 1 << 24

BASE_SERVER_CAPS = (
    CLIENT_LONG_PASSWORD | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG
    | CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS
    | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS
    | CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS | CLIENT_PLUGIN_AUTH
    | CLIENT_CONNECT_ATTRS | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
    | CLIENT_SESSION_TRACK | CLIENT_DEPRECATE_EOF
)

COM_QUIT = 0x01
COM_INIT_DB = 0x02
COM_QUERY = 0x03
COM_PING = 0x0E
EDITED_COM_PING = 0x3E

SERVER_STATUS_AUTOCOMMIT = 0x0002
CHARSET_UTF8MB4_GENERAL_CI = 45
CHARSET_BINARY = 63
SERVER_VERSION = b"8.0.36-sqlx-fake"
MAX_PAYLOAD = 0xFFFFFF

MYSQL_TYPE_NULL = 6
MYSQL_TYPE_LONGLONG = 8
MYSQL_TYPE_VAR_STRING = 0xFD

NOT_NULL_FLAG = 1
BINARY_FLAG = 128

PLUGIN_NATIVE = b"mysql_native_password"
PLUGIN_CACHING_SHA2 = b"caching_sha2_password"
PLUGIN_HMAC = b"sqlx_hmac_password"
PLUGIN_UNKNOWN = b"sqlx_no_such_plugin"

DEFAULT_TIMEOUT = 30.0

SCENARIOS = [
    "native",
    "caching_sha2_fast",
    "caching_sha2_full_rsa",
    "caching_sha2_full_tls",
    "auth_switch",
    "auth_switch_unknown_plugin",
    "access_denied",
    "error_greeting",
    "close_mid_handshake",
    "truncated_greeting",
    "oversized_packet",
    "bad_lenenc_resultset",
    "error_mid_resultset",
    "edited_protocol",
]

VERBOSE = False


def log(msg: str) -> None:
    if VERBOSE:
        sys.stderr.write("LOG: " + msg + "\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------
class ScenarioFail(Exception):
    """The client violated the scenario.  ``err`` = (code, sqlstate, message)
    to send to the client before giving up, or None to send nothing."""

    def __init__(self, reason: str, err=None):
        super().__init__(reason)
        self.reason = reason
        self.err = err


class ClientClosed(Exception):
    """The client closed (or reset) the connection."""

    def __init__(self, what="data"):
        super().__init__(what)
        self.what = what


def err_access_denied(user: bytes, using_password: bool):
    return (1045, b"28000",
            b"Access denied for user '" + user + b"'@'localhost' (using password: "
            + (b"YES" if using_password else b"NO") + b")")


ERR_UNKNOWN_COMMAND = (1047, b"08S01", b"Unknown command")
ERR_MALFORMED = (1835, b"HY000", b"Malformed communication packet")
ERR_HANDSHAKE = (1043, b"08S01", b"Bad handshake")


# --------------------------------------------------------------------------
# Encoding helpers
# --------------------------------------------------------------------------
def lenenc_int(n: int) -> bytes:
    if n < 0xFB:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def lenenc_str(b: bytes) -> bytes:
    return lenenc_int(len(b)) + b


def ok_packet(status=SERVER_STATUS_AUTOCOMMIT, header=0x00, affected=0,
              insert_id=0, warnings=0) -> bytes:
    return (bytes([header]) + lenenc_int(affected) + lenenc_int(insert_id)
            + struct.pack("<HH", status, warnings))


def err_packet(code: int, sqlstate: bytes, message: bytes) -> bytes:
    return b"\xff" + struct.pack("<H", code) + b"#" + sqlstate + message


def eof_packet(status=SERVER_STATUS_AUTOCOMMIT, warnings=0) -> bytes:
    return b"\xfe" + struct.pack("<HH", warnings, status)


def xor_bytes(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def make_scramble() -> bytes:
    # 20 printable bytes, never NUL (part 2 is NUL-terminated on the wire).
    return bytes(0x21 + secrets.randbelow(0x7E - 0x21 + 1) for _ in range(20))


def native_scramble(password: bytes, scramble: bytes) -> bytes:
    if not password:
        return b""
    s1 = hashlib.sha1(password).digest()
    s2 = hashlib.sha1(s1).digest()
    return xor_bytes(s1, hashlib.sha1(scramble + s2).digest())


def caching_sha2_scramble(password: bytes, scramble: bytes) -> bytes:
    if not password:
        return b""
    p1 = hashlib.sha256(password).digest()
    p2 = hashlib.sha256(p1).digest()
    return xor_bytes(p1, hashlib.sha256(p2 + scramble).digest())


def hmac_scramble(password: bytes, scramble: bytes) -> bytes:
    return hmac.new(scramble, hashlib.sha256(password).digest(),
                    hashlib.sha256).digest()


def hexdump(b: bytes, limit=96) -> str:
    h = b[:limit].hex(" ")
    return h + (" ..." if len(b) > limit else "") + f" ({len(b)} bytes)"


class Reader:
    """Bounds-checked cursor over a payload; raises ScenarioFail on overrun."""

    def __init__(self, data: bytes, what: str):
        self.d = data
        self.p = 0
        self.what = what

    def remaining(self) -> int:
        return len(self.d) - self.p

    def take(self, n: int) -> bytes:
        if n < 0 or self.p + n > len(self.d):
            raise ScenarioFail(f"malformed {self.what}: need {n} bytes at offset "
                               f"{self.p}, only {self.remaining()} left", ERR_HANDSHAKE)
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def cstr(self) -> bytes:
        i = self.d.find(b"\0", self.p)
        if i < 0:
            raise ScenarioFail(f"malformed {self.what}: unterminated string at offset "
                               f"{self.p}", ERR_HANDSHAKE)
        b = self.d[self.p:i]
        self.p = i + 1
        return b

    def lenenc(self) -> int:
        c = self.u8()
        if c < 0xFB:
            return c
        if c == 0xFC:
            return struct.unpack("<H", self.take(2))[0]
        if c == 0xFD:
            return struct.unpack("<I", self.take(3) + b"\0")[0]
        if c == 0xFE:
            return struct.unpack("<Q", self.take(8))[0]
        raise ScenarioFail(f"malformed {self.what}: bad length-encoded integer "
                           f"0x{c:02x}", ERR_HANDSHAKE)


# --------------------------------------------------------------------------
# Packet connection
# --------------------------------------------------------------------------
class Conn:
    def __init__(self, sock: socket.socket, timeout: float):
        self.sock = sock
        self.deadline = time.monotonic() + timeout
        self.seq = 0
        self.tls = False

    def _remaining(self) -> float:
        r = self.deadline - time.monotonic()
        if r <= 0:
            raise ScenarioFail("timeout: connection exceeded its time budget")
        return r

    def recv_exact(self, n: int, what: str) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            self.sock.settimeout(self._remaining())
            try:
                chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            except socket.timeout:
                raise ScenarioFail(f"timeout waiting for {what}")
            except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
                chunk = b""
            except ssl.SSLError as e:
                raise ScenarioFail(f"TLS error while reading {what}: {e}")
            if not chunk:
                if buf:
                    raise ScenarioFail(f"client closed in the middle of {what} "
                                       f"({len(buf)} of {n} bytes received)")
                raise ClientClosed(what)
            buf += chunk
        return bytes(buf)

    def read_packet(self, what="packet") -> bytes:
        """Read one logical packet (joining 0xffffff continuations) and check
        the sequence id."""
        payload = bytearray()
        first = True
        while True:
            try:
                hdr = self.recv_exact(4, what + " header")
            except ClientClosed:
                if first:
                    raise ClientClosed(what)
                raise ScenarioFail(f"client closed before the continuation of {what}")
            first = False
            length = hdr[0] | hdr[1] << 8 | hdr[2] << 16
            seq = hdr[3]
            if seq != self.seq:
                raise ScenarioFail(f"bad sequence id in {what}: got {seq}, "
                                   f"expected {self.seq}", ERR_MALFORMED)
            self.seq = (self.seq + 1) & 0xFF
            if length:
                payload += self.recv_exact(length, what + " payload")
            if length < MAX_PAYLOAD:
                break
        p = bytes(payload)
        log(f"C->S seq={(self.seq - 1) & 0xFF} {what}: {hexdump(p)}")
        return p

    def send_raw(self, data: bytes) -> None:
        self.sock.settimeout(self._remaining())
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise ScenarioFail("timeout while sending")
        except (ConnectionResetError, BrokenPipeError):
            raise ClientClosed("the server's reply to be sent")

    def write_packet(self, payload: bytes, what="packet") -> None:
        log(f"S->C seq={self.seq} {what}: {hexdump(payload)}")
        out = bytearray()
        pos = 0
        while True:
            chunk = payload[pos:pos + MAX_PAYLOAD]
            out += struct.pack("<I", len(chunk))[:3] + bytes([self.seq])
            out += chunk
            self.seq = (self.seq + 1) & 0xFF
            pos += len(chunk)
            if len(chunk) < MAX_PAYLOAD:
                break
        self.send_raw(bytes(out))

    def send_err(self, err) -> None:
        code, state, msg = err
        self.write_packet(err_packet(code, state, msg), f"ERR {code}")

    def finish(self, what: str) -> None:
        """Half-close our side and wait until the client closes its side.
        Anything the client sends meanwhile is ignored."""
        try:
            if not self.tls:
                self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        while True:
            self.sock.settimeout(self._remaining())
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise ScenarioFail(f"timeout: client did not close the connection after {what}")
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                return
            if not data:
                return
            log(f"C->S (ignored while closing) {hexdump(data)}")


# --------------------------------------------------------------------------
# Key material (openssl CLI)
# --------------------------------------------------------------------------
def _run_openssl(args, input_bytes=None) -> bytes:
    try:
        r = subprocess.run(["openssl"] + args, input=input_bytes,
                           capture_output=True, timeout=60)
    except FileNotFoundError:
        raise RuntimeError("openssl executable not found")
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args),
                                                      r.stderr.decode(errors="replace")))
    return r.stdout


@contextlib.contextmanager
def _workdir_lock(workdir: str):
    """Serialize key generation between servers sharing one --workdir."""
    fd = os.open(os.path.join(workdir, ".fake_mysql_server.lock"),
                 os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _publish(tmp_path: str, final_path: str, mode=0o644) -> None:
    os.chmod(tmp_path, mode)
    os.replace(tmp_path, final_path)  # readers never see a half-written file


def ensure_rsa_keys(workdir: str):
    """rsa_private_key.pem / rsa_public_key.pem for caching_sha2 full auth.
    Reused if already present in workdir."""
    priv = os.path.join(workdir, "rsa_private_key.pem")
    pub = os.path.join(workdir, "rsa_public_key.pem")
    with _workdir_lock(workdir):
        if not (os.path.exists(priv) and os.path.exists(pub)):
            with tempfile.TemporaryDirectory(dir=workdir, prefix=".gen-") as td:
                k, pk = os.path.join(td, "k.pem"), os.path.join(td, "p.pem")
                _run_openssl(["genpkey", "-algorithm", "RSA",
                              "-pkeyopt", "rsa_keygen_bits:2048", "-out", k])
                _run_openssl(["pkey", "-in", k, "-pubout", "-out", pk])
                _publish(k, priv, 0o600)
                _publish(pk, pub)
    with open(pub, "rb") as f:
        pem = f.read()
    return priv, pem


def ensure_tls_cert(workdir: str):
    """Self-signed server-cert.pem (CN=localhost, SAN localhost/127.0.0.1)
    and server-key.pem.  Reused if already present in workdir."""
    key = os.path.join(workdir, "server-key.pem")
    cert = os.path.join(workdir, "server-cert.pem")
    with _workdir_lock(workdir):
        if not (os.path.exists(key) and os.path.exists(cert)):
            with tempfile.TemporaryDirectory(dir=workdir, prefix=".gen-") as td:
                k, c = os.path.join(td, "k.pem"), os.path.join(td, "c.pem")
                _run_openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes",
                              "-keyout", k, "-out", c, "-days", "3650",
                              "-subj", "/CN=localhost",
                              "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
                _publish(k, key, 0o600)
                _publish(c, cert)
    return cert, key


def rsa_decrypt(priv_path: str, data: bytes):
    r = subprocess.run(["openssl", "pkeyutl", "-decrypt", "-inkey", priv_path,
                        "-pkeyopt", "rsa_padding_mode:oaep"],
                       input=data, capture_output=True, timeout=30)
    if r.returncode != 0:
        return None
    return r.stdout


# --------------------------------------------------------------------------
# Session: handshake, auth, commands
# --------------------------------------------------------------------------
class Session:
    def __init__(self, conn: Conn, args, scenario: str, conn_id: int):
        self.conn = conn
        self.args = args
        self.scenario = scenario
        self.conn_id = conn_id
        self.user = args.user.encode()
        self.password = args.password.encode()
        self.server_caps = BASE_SERVER_CAPS
        self.client_caps = 0
        self.caps = 0  # negotiated
        self.notes = []  # what was verified, for the OK line
        self.deferred_fail = None
        self.hs = None
        self.replica_status_reads = 0

    # ---- greeting -------------------------------------------------------
    def greeting_payload(self, scramble: bytes, plugin: bytes, edited=False) -> bytes:
        caps = self.server_caps
        p = bytearray([10])
        if edited:
            p += struct.pack("<I", self.conn_id) + SERVER_VERSION + b"\0"
        else:
            p += SERVER_VERSION + b"\0" + struct.pack("<I", self.conn_id)
        p += scramble[:8] + b"\0"
        p += struct.pack("<H", caps & 0xFFFF)
        p += bytes([CHARSET_UTF8MB4_GENERAL_CI])
        p += struct.pack("<H", SERVER_STATUS_AUTOCOMMIT)
        p += struct.pack("<H", (caps >> 16) & 0xFFFF)
        p += bytes([len(scramble) + 1])
        p += b"\0" * 6 + b"\0" * 4  # reserved + MariaDB extended caps
        part2 = scramble[8:] + b"\0"
        p += part2 + b"\0" * max(0, 13 - len(part2))
        p += plugin + b"\0"
        return bytes(p)

    def send_greeting(self, scramble: bytes, plugin: bytes, edited=False) -> None:
        self.conn.seq = 0
        self.conn.write_packet(self.greeting_payload(scramble, plugin, edited),
                               "greeting")

    # ---- handshake response --------------------------------------------
    def parse_response(self, payload: bytes) -> dict:
        r = Reader(payload, "handshake response")
        caps = r.u32()
        if not caps & CLIENT_PROTOCOL_41:
            raise ScenarioFail("client did not set CLIENT_PROTOCOL_41 "
                               f"(caps=0x{caps:08x})", ERR_HANDSHAKE)
        max_packet = r.u32()
        charset = r.u8()
        r.take(23)
        user = r.cstr()
        if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
            auth = r.take(r.lenenc())
        elif caps & CLIENT_SECURE_CONNECTION:
            auth = r.take(r.u8())
        else:
            raise ScenarioFail("client set neither CLIENT_SECURE_CONNECTION nor "
                               "CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA", ERR_HANDSHAKE)
        db = None
        if caps & CLIENT_CONNECT_WITH_DB and r.remaining():
            db = r.cstr()
        plugin = None
        if caps & CLIENT_PLUGIN_AUTH and r.remaining():
            plugin = r.cstr()
        attrs = {}
        if caps & CLIENT_CONNECT_ATTRS and r.remaining():
            total = r.lenenc()
            a = Reader(r.take(total), "connect attributes")
            while a.remaining():
                k = a.take(a.lenenc())
                v = a.take(a.lenenc())
                attrs[k] = v
        if r.remaining():
            raise ScenarioFail(f"{r.remaining()} unexpected trailing bytes in "
                               "handshake response", ERR_HANDSHAKE)
        return dict(caps=caps, max_packet=max_packet, charset=charset, user=user,
                    auth=auth, db=db, plugin=plugin, attrs=attrs)

    def read_handshake_response(self, offer_ssl=False, require_ssl=False,
                                tls_files=None) -> dict:
        """Read the handshake response, handling SSLRequest + TLS upgrade."""
        payload = self.conn.read_packet("handshake response")
        if len(payload) >= 4:
            caps = struct.unpack("<I", payload[:4])[0]
        else:
            raise ScenarioFail(f"handshake response too short ({len(payload)} bytes)",
                               ERR_HANDSHAKE)
        if caps & CLIENT_SSL:
            if not offer_ssl:
                raise ScenarioFail("client set CLIENT_SSL but the server did not offer it",
                                   ERR_HANDSHAKE)
            if len(payload) != 32:
                raise ScenarioFail(f"client set CLIENT_SSL but sent a {len(payload)}-byte "
                                   "handshake response instead of a 32-byte SSLRequest",
                                   ERR_HANDSHAKE)
            if payload[9:28] != b"\0" * 19:  # last 4 may carry MariaDB ext caps
                raise ScenarioFail("SSLRequest filler is not zero", ERR_HANDSHAKE)
            self.start_tls(tls_files)
            payload = self.conn.read_packet("handshake response (after TLS)")
            hs = self.parse_response(payload)
            if not hs["caps"] & CLIENT_SSL:
                raise ScenarioFail("handshake response after TLS lost the CLIENT_SSL bit",
                                   ERR_HANDSHAKE)
            if hs["caps"] != caps:
                self.notes.append("caps differ between SSLRequest and response")
            self.notes.append("TLS via SSLRequest")
        else:
            if require_ssl:
                raise ScenarioFail(
                    "client did not send an SSLRequest although the server requires TLS",
                    (3159, b"HY000", b"Connections using insecure transport are "
                     b"prohibited while --require_secure_transport=ON."))
            hs = self.parse_response(payload)
        self.client_caps = hs["caps"]
        self.caps = hs["caps"] & self.server_caps
        self.hs = hs
        log(f"client caps=0x{hs['caps']:08x} user={hs['user']!r} db={hs['db']!r} "
            f"plugin={hs['plugin']!r} auth={hs['auth'].hex()}")
        return hs

    def start_tls(self, tls_files) -> None:
        cert, key = tls_files
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.conn.sock.settimeout(self.conn._remaining())
        try:
            self.conn.sock = ctx.wrap_socket(self.conn.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            raise ScenarioFail(f"TLS handshake failed: {e}")
        self.conn.tls = True
        log(f"TLS established: {self.conn.sock.version()} {self.conn.sock.cipher()}")

    def check_user(self, hs) -> None:
        if hs["user"] != self.user:
            raise ScenarioFail(f"wrong user {hs['user']!r}, expected {self.user!r}",
                               err_access_denied(hs["user"], self.has_pw(hs["auth"])))

    @staticmethod
    def has_pw(auth: bytes) -> bool:
        return auth not in (b"", b"\0")

    def check_plugin(self, hs, expected: bytes) -> None:
        if hs["caps"] & CLIENT_PLUGIN_AUTH and hs["plugin"] is not None \
                and hs["plugin"] != expected:
            raise ScenarioFail(f"client answered with plugin {hs['plugin']!r} but the "
                               f"greeting announced {expected!r}",
                               err_access_denied(hs["user"], self.has_pw(hs["auth"])))

    def deny(self, reason: str, auth: bytes):
        raise ScenarioFail(reason, err_access_denied(self.user, self.has_pw(auth)))

    def send_ok(self, what="OK") -> None:
        self.conn.write_packet(ok_packet(), what)

    # ---- auth flows -----------------------------------------------------
    def verify_native(self, auth: bytes, scramble: bytes, label="mysql_native_password"):
        expected = native_scramble(self.password, scramble)
        if auth != expected:
            self.deny(f"{label} scramble mismatch (got {auth.hex() or 'empty'}, "
                      f"expected {expected.hex() or 'empty'})", auth)
        self.notes.append(f"{label} scramble verified")

    def caching_sha2_matches(self, auth: bytes, scramble: bytes) -> bool:
        if not self.password:
            return auth in (b"", b"\0")
        return auth == caching_sha2_scramble(self.password, scramble)

    def auth_caching_sha2_fast(self, auth: bytes, scramble: bytes, label=""):
        if not self.caching_sha2_matches(auth, scramble):
            self.deny(f"caching_sha2_password scramble mismatch{label} (got "
                      f"{auth.hex() or 'empty'}, expected "
                      f"{caching_sha2_scramble(self.password, scramble).hex() or 'empty'})",
                      auth)
        if self.password:
            self.conn.write_packet(b"\x01\x03", "auth-more-data fast_auth_success")
            self.notes.append("caching_sha2_password scramble verified, fast auth")
        else:
            self.notes.append("caching_sha2_password empty password")
        self.send_ok("OK (auth)")

    def full_auth_start(self, auth: bytes, scramble: bytes) -> bool:
        """Common start of full auth. Returns False if already done (empty pw)."""
        if not self.password:
            if auth not in (b"", b"\0"):
                self.deny("expected an empty auth response for the empty password", auth)
            self.notes.append("caching_sha2_password empty password (no full auth needed)")
            self.send_ok("OK (auth)")
            return False
        matched = auth == caching_sha2_scramble(self.password, scramble)
        self.notes.append("initial scramble " + ("matched" if matched else
                                                 "DID NOT match (ignored, full auth)"))
        self.conn.write_packet(b"\x01\x04", "auth-more-data perform_full_authentication")
        return True

    # ---- result sets / commands ------------------------------------------
    @staticmethod
    def coldef(name: bytes, ctype: int, charset: int, length: int, flags: int,
               decimals: int) -> bytes:
        return (lenenc_str(b"def") + lenenc_str(b"") + lenenc_str(b"")
                + lenenc_str(b"") + lenenc_str(name) + lenenc_str(b"")
                + b"\x0c" + struct.pack("<HIBHB", charset, length, ctype, flags, decimals)
                + b"\0\0")

    def deprecate_eof(self) -> bool:
        return bool(self.caps & CLIENT_DEPRECATE_EOF)

    def send_columns(self, cols) -> None:
        c = self.conn
        c.write_packet(lenenc_int(len(cols)), "column count")
        for col in cols:
            c.write_packet(self.coldef(*col), "column definition")
        if not self.deprecate_eof():
            c.write_packet(eof_packet(), "EOF (columns)")

    def send_row(self, row) -> None:
        self.conn.write_packet(b"".join(b"\xfb" if v is None else lenenc_str(v)
                                        for v in row), "row")

    def send_rs_end(self) -> None:
        if self.deprecate_eof():
            self.conn.write_packet(ok_packet(header=0xFE), "OK (end of rows, 0xfe)")
        else:
            self.conn.write_packet(eof_packet(), "EOF (rows)")

    def send_resultset(self, cols, rows) -> None:
        self.send_columns(cols)
        for row in rows:
            self.send_row(row)
        self.send_rs_end()

    @staticmethod
    def normalize_query(q: bytes) -> bytes:
        q = q.strip()
        while q.endswith(b";"):
            q = q[:-1].rstrip()
        return b" ".join(q.split()).upper()

    def answer_query(self, q: bytes) -> None:
        n = self.normalize_query(q)
        if n == b"SELECT 1":
            self.send_resultset(
                [(b"1", MYSQL_TYPE_LONGLONG, CHARSET_BINARY, 1,
                  NOT_NULL_FLAG | BINARY_FLAG, 0)],
                [[b"1"]])
        elif n in (b"SELECT NULL, 'X'", b"SELECT NULL,'X'"):
            self.send_resultset(
                [(b"NULL", MYSQL_TYPE_NULL, CHARSET_BINARY, 0, BINARY_FLAG, 0),
                 (b"x", MYSQL_TYPE_VAR_STRING, CHARSET_UTF8MB4_GENERAL_CI, 4,
                  NOT_NULL_FLAG, 31)],
                [[None, b"x"]])
        elif n == b"SHOW REPLICA STATUS":
            # MySQL 8.0 replica with two channels; the second stops
            # replicating after the first read.
            self.replica_status_reads += 1
            lag = b"12" if self.replica_status_reads == 1 else None
            text = (MYSQL_TYPE_VAR_STRING, CHARSET_UTF8MB4_GENERAL_CI, 64, 0, 31)
            self.send_resultset(
                [(b"Replica_IO_Running",) + text, (b"Channel_Name",) + text,
                 (b"Seconds_Behind_Source", MYSQL_TYPE_LONGLONG, CHARSET_BINARY, 21,
                  BINARY_FLAG, 0)],
                [[b"Yes", b"", b"3"], [b"Yes" if lag else b"No", b"second", lag]])
        else:
            self.conn.send_err((1064, b"42000", b"You have an error in your SQL syntax"))

    def command_loop(self, ping_op=COM_PING, query_hook=None) -> None:
        """Serve commands until COM_QUIT or client close.  query_hook(q) may
        return True (handled), 'stop' (handled, end connection) or None."""
        c = self.conn
        log_cmds = []
        quit_seen = False
        while True:
            c.seq = 0
            try:
                p = c.read_packet("command")
            except ClientClosed:
                break
            if not p:
                raise ScenarioFail("empty command packet", ERR_MALFORMED)
            cmd = p[0]
            if cmd == COM_QUIT:
                quit_seen = True
                log_cmds.append("QUIT")
                break
            elif cmd == ping_op:
                log_cmds.append("PING")
                self.send_ok()
            elif cmd == COM_INIT_DB:
                log_cmds.append("INIT_DB " + p[1:].decode(errors="replace"))
                self.send_ok()
            elif cmd == COM_QUERY:
                q = p[1:]
                log_cmds.append("QUERY " + repr(q.decode(errors="replace"))[:80])
                res = query_hook(q) if query_hook else None
                if res == "stop":
                    self.notes.append("commands: " + ", ".join(log_cmds))
                    return
                if not res:
                    self.answer_query(q)
            else:
                log_cmds.append(f"unknown 0x{cmd:02x}")
                c.send_err(ERR_UNKNOWN_COMMAND)
                if self.scenario == "edited_protocol" and cmd == COM_PING:
                    if self.deferred_fail is None:
                        self.deferred_fail = ("client sent COM_PING with the standard "
                                              "opcode 0x0e; the edited protocol uses 0x3e")
        self.notes.append("commands: " + (", ".join(log_cmds) or "none")
                          + ("" if quit_seen else " (client closed without COM_QUIT)"))
        c.sock.close()

    # ---- scenarios ------------------------------------------------------
    def run(self, ctx) -> None:
        getattr(self, "sc_" + self.scenario)(ctx)

    def sc_native(self, ctx):
        scramble = make_scramble()
        self.send_greeting(scramble, PLUGIN_NATIVE)
        hs = self.read_handshake_response()
        self.check_user(hs)
        self.check_plugin(hs, PLUGIN_NATIVE)
        self.verify_native(hs["auth"], scramble)
        self.send_ok("OK (auth)")
        self.command_loop()

    def sc_caching_sha2_fast(self, ctx):
        scramble = make_scramble()
        self.send_greeting(scramble, PLUGIN_CACHING_SHA2)
        hs = self.read_handshake_response()
        self.check_user(hs)
        self.check_plugin(hs, PLUGIN_CACHING_SHA2)
        self.auth_caching_sha2_fast(hs["auth"], scramble)
        self.command_loop()

    def sc_caching_sha2_full_rsa(self, ctx):
        priv, pem = ctx["rsa"]
        scramble = make_scramble()
        self.send_greeting(scramble, PLUGIN_CACHING_SHA2)
        hs = self.read_handshake_response()
        self.check_user(hs)
        self.check_plugin(hs, PLUGIN_CACHING_SHA2)
        if self.full_auth_start(hs["auth"], scramble):
            p = self.conn.read_packet("full-auth reply")
            if p == b"\x02":
                self.conn.write_packet(b"\x01" + pem, "auth-more-data public key")
                p = self.conn.read_packet("RSA-encrypted password")
                self.notes.append("public key requested")
            elif p == self.password + b"\0":
                self.deny("client sent the cleartext password over an unencrypted "
                          "connection (expected 0x02 public key request or RSA ciphertext)",
                          p)
            elif len(p) == 256:
                self.notes.append("client used a preconfigured public key")
            else:
                self.deny(f"expected 0x02 (public key request) or a 256-byte RSA "
                          f"ciphertext, got {hexdump(p, 16)}", p)
            plain = rsa_decrypt(priv, p)
            if plain is None:
                self.deny(f"RSA-OAEP decryption of the {len(p)}-byte reply failed", p)
            pw_nul = self.password + b"\0"
            got = bytes(x ^ scramble[i % len(scramble)] for i, x in enumerate(plain))
            if got != pw_nul:
                self.deny(f"RSA-decrypted password mismatch (decrypted XOR scramble = "
                          f"{got!r}, expected {pw_nul!r})", p)
            self.notes.append("RSA-OAEP encrypted password verified")
            self.send_ok("OK (auth)")
        self.command_loop()

    def sc_caching_sha2_full_tls(self, ctx):
        self.server_caps = BASE_SERVER_CAPS | CLIENT_SSL
        scramble = make_scramble()
        self.send_greeting(scramble, PLUGIN_CACHING_SHA2)
        hs = self.read_handshake_response(offer_ssl=True, require_ssl=True,
                                          tls_files=ctx["tls"])
        self.check_user(hs)
        self.check_plugin(hs, PLUGIN_CACHING_SHA2)
        if self.full_auth_start(hs["auth"], scramble):
            p = self.conn.read_packet("cleartext password")
            if p == b"\x02":
                self.deny("client requested the RSA public key although the connection "
                          "is TLS; it must send the cleartext password", p)
            if p != self.password + b"\0":
                self.deny(f"cleartext password mismatch (got {p!r})", p)
            self.notes.append("cleartext password over TLS verified")
            self.send_ok("OK (auth)")
        self.command_loop()

    def sc_auth_switch(self, ctx):
        scramble1 = make_scramble()
        self.send_greeting(scramble1, PLUGIN_NATIVE)
        hs = self.read_handshake_response()
        self.check_user(hs)
        scramble2 = make_scramble()
        while scramble2 == scramble1:
            scramble2 = make_scramble()
        self.conn.write_packet(b"\xfe" + PLUGIN_CACHING_SHA2 + b"\0" + scramble2 + b"\0",
                               "auth switch request")
        p = self.conn.read_packet("auth switch response")
        if self.password and p == caching_sha2_scramble(self.password, scramble1):
            self.deny("client computed the caching_sha2 scramble with the greeting's "
                      "scramble instead of the auth switch request's new scramble", p)
        self.auth_caching_sha2_fast(p, scramble2, " (after auth switch)")
        self.notes.insert(0, "auth switch mysql_native_password -> caching_sha2_password")
        self.command_loop()

    def sc_auth_switch_unknown_plugin(self, ctx):
        scramble = make_scramble()
        self.send_greeting(scramble, PLUGIN_NATIVE)
        self.read_handshake_response()
        self.conn.write_packet(b"\xfe" + PLUGIN_UNKNOWN + b"\0" + make_scramble() + b"\0",
                               "auth switch request (unknown plugin)")
        try:
            p = self.conn.read_packet("anything after unknown auth switch")
        except ClientClosed:
            self.notes.append("client disconnected after auth switch to unknown plugin "
                              + PLUGIN_UNKNOWN.decode())
            return
        raise ScenarioFail("client sent a packet after an auth switch to an unknown "
                           "plugin instead of disconnecting: "
                           + (hexdump(p, 32) if p else "an empty packet"),
                           err_access_denied(self.user, True))

    def sc_access_denied(self, ctx):
        scramble = make_scramble()
        self.send_greeting(scramble, PLUGIN_NATIVE)
        hs = self.read_handshake_response()
        self.conn.send_err(err_access_denied(hs["user"], self.has_pw(hs["auth"])))
        self.notes.append("sent ERR 1045 to user '%s'" % hs["user"].decode(errors="replace"))
        self.conn.finish("access denied")

    def sc_error_greeting(self, ctx):
        self.conn.seq = 0
        self.conn.send_err((1129, b"HY000", b"Host '127.0.0.1' is blocked because of "
                            b"many connection errors"))
        self.notes.append("sent ERR 1129 instead of a greeting")
        self.conn.finish("ERR greeting")

    def sc_close_mid_handshake(self, ctx):
        scramble = make_scramble()
        self.send_greeting(scramble, PLUGIN_NATIVE)
        try:
            self.conn.read_packet("handshake response")
        except ClientClosed:
            raise ScenarioFail("client closed before sending a handshake response")
        self.notes.append("read handshake response, closed without replying")
        self.conn.finish("closing mid-handshake")

    def sc_truncated_greeting(self, ctx):
        g = self.greeting_payload(make_scramble(), PLUGIN_NATIVE)
        self.conn.send_raw(struct.pack("<I", 80)[:3] + b"\x00" + g[:20])
        self.notes.append("sent greeting header announcing 80 bytes followed by 20, closed")
        self.conn.finish("truncated greeting")

    def sc_oversized_packet(self, ctx):
        g = self.greeting_payload(make_scramble(), PLUGIN_NATIVE)
        body = (g + b"\0" * 100)[:100]
        self.conn.send_raw(b"\xff\xff\xff\x00" + body)
        self.notes.append("sent header announcing 0xffffff bytes followed by 100, closed")
        self.conn.finish("oversized packet")

    def _auth_native(self):
        scramble = make_scramble()
        self.send_greeting(scramble, PLUGIN_NATIVE)
        hs = self.read_handshake_response()
        self.check_user(hs)
        self.check_plugin(hs, PLUGIN_NATIVE)
        self.verify_native(hs["auth"], scramble)
        self.send_ok("OK (auth)")

    def sc_bad_lenenc_resultset(self, ctx):
        self._auth_native()
        sent = []

        def hook(q):
            c = self.conn
            c.write_packet(b"\x01", "column count")
            bad = (lenenc_str(b"def") + b"\x00\x00\x00" + b"\xfc\xff\xff")
            bad += b"A" * (20 - len(bad))
            assert len(bad) == 20
            c.write_packet(bad, "malformed column definition")
            sent.append(True)
            return "stop"

        self.command_loop(query_hook=hook)
        if not sent:
            raise ScenarioFail("client never sent a COM_QUERY, so the malformed result "
                               "set was never delivered")
        self.notes.append("sent column definition with name length 0xfc 0xffff inside "
                          "a 20-byte packet")
        self.conn.finish("malformed result set")

    def sc_error_mid_resultset(self, ctx):
        self._auth_native()
        done = []

        def hook(q):
            if done:
                return None  # later queries answered normally
            self.send_columns([
                (b"a", MYSQL_TYPE_LONGLONG, CHARSET_BINARY, 20, NOT_NULL_FLAG | BINARY_FLAG, 0),
                (b"b", MYSQL_TYPE_VAR_STRING, CHARSET_UTF8MB4_GENERAL_CI, 40, 0, 0)])
            for i in range(1, 4):
                self.send_row([str(i).encode(), b"row%d" % i])
            self.conn.send_err((1317, b"70100", b"Query execution was interrupted"))
            done.append(True)
            return True

        self.command_loop(query_hook=hook)
        if not done:
            raise ScenarioFail("client never sent a COM_QUERY, so the interrupted result "
                               "set was never delivered")
        self.notes.insert(0, "sent 2 columns, 3 rows, then ERR 1317 for the first query")

    def sc_edited_protocol(self, ctx):
        scramble = make_scramble()
        self.send_greeting(scramble, PLUGIN_HMAC, edited=True)
        hs = self.read_handshake_response()
        self.check_user(hs)
        self.check_plugin(hs, PLUGIN_HMAC)
        expected = hmac_scramble(self.password, scramble)
        if hs["auth"] != expected:
            self.deny(f"sqlx_hmac_password response mismatch (got "
                      f"{hs['auth'].hex() or 'empty'}, expected {expected.hex()})",
                      hs["auth"])
        self.notes.append("edited greeting (conn id before version), sqlx_hmac_password "
                          "verified")
        self.send_ok("OK (auth)")
        self.command_loop(ping_op=EDITED_COM_PING)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def main(argv=None) -> int:
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", required=True, help="scenario name, or 'list'")
    ap.add_argument("--user", default="u")
    ap.add_argument("--password", default="pw")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--workdir", default=None,
                    help="where key/cert files are generated (default: temp dir)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="seconds allowed per connection, including the wait for it "
                         "(default 30)")
    ap.add_argument("--verbose", action="store_true",
                    help="log every packet to stderr as 'LOG: ...'")
    args = ap.parse_args(argv)
    VERBOSE = args.verbose

    if args.scenario == "list":
        for s in SCENARIOS:
            print(s)
        return 0
    if args.scenario not in SCENARIOS:
        sys.stderr.write(f"FAIL: unknown scenario {args.scenario!r} "
                         f"(try --scenario list)\n")
        return 2
    if args.connections < 1:
        sys.stderr.write("FAIL: --connections must be >= 1\n")
        return 2

    tmp = None
    if args.workdir:
        workdir = os.path.abspath(args.workdir)
        os.makedirs(workdir, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="fake_mysql_")
        workdir = tmp.name

    try:
        ctx = {}
        try:
            if args.scenario == "caching_sha2_full_rsa":
                ctx["rsa"] = ensure_rsa_keys(workdir)
            if args.scenario == "caching_sha2_full_tls":
                ctx["tls"] = ensure_tls_cert(workdir)
        except RuntimeError as e:
            sys.stderr.write(f"FAIL: setup: {e}\n")
            return 1

        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(8)
        port = lsock.getsockname()[1]
        sys.stdout.write(f"PORT {port}\n")
        sys.stdout.flush()

        for i in range(args.connections):
            tag = f"[{i + 1}/{args.connections}] " if args.connections > 1 else ""
            lsock.settimeout(args.timeout)
            try:
                sock, addr = lsock.accept()
            except socket.timeout:
                sys.stderr.write(f"FAIL: {tag}timeout: no client connected within "
                                 f"{args.timeout:g}s\n")
                return 1
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(sock, args.timeout)
            sess = Session(conn, args, args.scenario, 1000 + i)
            try:
                sess.run(ctx)
            except ScenarioFail as f:
                if f.err is not None:
                    try:
                        conn.send_err(f.err)
                    except (ScenarioFail, ClientClosed, OSError):
                        pass
                sys.stderr.write(f"FAIL: {tag}{args.scenario}: {f.reason}\n")
                sys.stderr.flush()
                _close(conn)
                return 1
            except ClientClosed as e:
                sys.stderr.write(f"FAIL: {tag}{args.scenario}: client closed the "
                                 f"connection while the server waited for {e.what}\n")
                _close(conn)
                return 1
            except OSError as e:
                sys.stderr.write(f"FAIL: {tag}{args.scenario}: socket error: {e}\n")
                _close(conn)
                return 1
            _close(conn)
            if sess.deferred_fail:
                sys.stderr.write(f"FAIL: {tag}{args.scenario}: {sess.deferred_fail}\n")
                return 1
            sys.stderr.write(f"OK: {tag}{args.scenario}: " + "; ".join(sess.notes) + "\n")
            sys.stderr.flush()
        lsock.close()
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


def _close(conn: Conn) -> None:
    try:
        conn.sock.close()
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
