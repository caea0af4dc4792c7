#!/usr/bin/env python3
"""Self-test for fake_mysql_server.py.

Runs every scenario (good and bad client behaviour) against the fake server
using a small, independently written MySQL client, and checks both what the
client observes and the server's exit status / stderr.  Also drives the real
`mariadb` command-line client against a few scenarios when it is installed.

    python3 tests/support/fake_mysql_server_selftest.py [-v] [-k PATTERN]

Stdlib only (plus the `openssl` executable for RSA encryption).
"""

import hashlib
import hmac
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_mysql_server.py")

# Capability bits (written out independently of the server module on purpose).
LONG_PASSWORD, FOUND_ROWS, LONG_FLAG, CONNECT_WITH_DB = 0x1, 0x2, 0x4, 0x8
PROTOCOL_41, SSL_BIT, TRANSACTIONS, SECURE_CONN = 0x200, 0x800, 0x2000, 0x8000
MULTI_STMTS, MULTI_RESULTS, PLUGIN_AUTH = 0x10000, 0x20000, 0x80000
CONNECT_ATTRS, LENENC_DATA, DEPRECATE_EOF = 0x100000, 0x200000, 0x1000000

CLIENT_CAPS = (LONG_PASSWORD | LONG_FLAG | PROTOCOL_41 | TRANSACTIONS | SECURE_CONN
               | MULTI_RESULTS | PLUGIN_AUTH | LENENC_DATA | CONNECT_ATTRS)


# ---------------------------------------------------------------------------
# Independent crypto
# ---------------------------------------------------------------------------
def sha1(b):
    return hashlib.sha1(b).digest()


def sha256(b):
    return hashlib.sha256(b).digest()


def native_token(pw, salt):
    if not pw:
        return b""
    h1 = sha1(pw)
    return bytes(a ^ b for a, b in zip(h1, sha1(salt + sha1(h1))))


def sha2_token(pw, salt):
    if not pw:
        return b""
    h1 = sha256(pw)
    return bytes(a ^ b for a, b in zip(h1, sha256(sha256(h1) + salt)))


def hmac_token(pw, salt):
    return hmac.new(salt, sha256(pw), "sha256").digest()


def rsa_encrypt(pem, data):
    with tempfile.NamedTemporaryFile(suffix=".pem", delete=False) as f:
        f.write(pem)
        path = f.name
    try:
        r = subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", path,
                            "-pkeyopt", "rsa_padding_mode:oaep"],
                           input=data, capture_output=True, check=True)
        return r.stdout
    finally:
        os.unlink(path)


# ---------------------------------------------------------------------------
# Independent mini client
# ---------------------------------------------------------------------------
def lenenc(n):
    if n < 251:
        return bytes([n])
    if n < 65536:
        return b"\xfc" + n.to_bytes(2, "little")
    if n < 1 << 24:
        return b"\xfd" + n.to_bytes(3, "little")
    return b"\xfe" + n.to_bytes(8, "little")


def read_lenenc(buf, pos):
    c = buf[pos]
    if c < 251:
        return c, pos + 1
    if c == 0xFB:
        return None, pos + 1
    size = {0xFC: 2, 0xFD: 3, 0xFE: 8}[c]
    return int.from_bytes(buf[pos + 1:pos + 1 + size], "little"), pos + 1 + size


class ServerError(Exception):
    def __init__(self, code, state, msg):
        super().__init__(f"{code} ({state}) {msg}")
        self.code, self.state, self.msg = code, state, msg


def parse_err(p):
    assert p[0] == 0xFF, p
    code = int.from_bytes(p[1:3], "little")
    if p[3:4] == b"#":
        return ServerError(code, p[4:9].decode(), p[9:].decode())
    return ServerError(code, "", p[3:].decode())


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.seq = 0
        self.caps = 0

    def recv_n(self, n):
        out = b""
        while len(out) < n:
            c = self.sock.recv(n - len(out))
            if not c:
                raise EOFError(f"EOF after {len(out)} of {n} bytes")
            out += c
        return out

    def read_raw_header(self):
        h = self.recv_n(4)
        return int.from_bytes(h[:3], "little"), h[3]

    def read(self):
        data = b""
        while True:
            n, seq = self.read_raw_header()
            assert seq == self.seq, f"server seq {seq}, expected {self.seq}"
            self.seq = (self.seq + 1) % 256
            data += self.recv_n(n)
            if n < 0xFFFFFF:
                return data

    def write(self, payload):
        pos = 0
        while True:
            chunk = payload[pos:pos + 0xFFFFFF]
            self.sock.sendall(len(chunk).to_bytes(3, "little") + bytes([self.seq]) + chunk)
            self.seq = (self.seq + 1) % 256
            pos += len(chunk)
            if len(chunk) < 0xFFFFFF:
                return

    def is_closed(self, timeout=10):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()

    # -- handshake --
    def greeting(self, edited=False):
        p = self.read()
        if p[0] == 0xFF:
            raise parse_err(p)
        assert p[0] == 10
        i = 1
        if edited:
            conn_id = int.from_bytes(p[i:i + 4], "little")
            i += 4
            end = p.index(b"\0", i)
            version = p[i:end]
            i = end + 1
        else:
            end = p.index(b"\0", i)
            version = p[i:end]
            i = end + 1
            conn_id = int.from_bytes(p[i:i + 4], "little")
            i += 4
        salt1 = p[i:i + 8]
        i += 9
        caps = int.from_bytes(p[i:i + 2], "little")
        i += 2
        charset = p[i]
        status = int.from_bytes(p[i + 1:i + 3], "little")
        caps |= int.from_bytes(p[i + 3:i + 5], "little") << 16
        i += 5
        data_len = p[i]
        i += 1 + 10
        n2 = max(13, data_len - 8)
        salt2 = p[i:i + n2].rstrip(b"\0")
        i += n2
        end = p.index(b"\0", i)
        plugin = p[i:end]
        assert end + 1 == len(p), "trailing bytes in greeting"
        return dict(version=version, conn_id=conn_id, salt=salt1 + salt2, caps=caps,
                    charset=charset, status=status, plugin=plugin)

    def response(self, caps, user, auth, plugin, db=None, attrs=None):
        p = struct.pack("<IIB", caps, 1 << 24, 45) + b"\0" * 23 + user + b"\0"
        p += lenenc(len(auth)) + auth if caps & LENENC_DATA else bytes([len(auth)]) + auth
        if caps & CONNECT_WITH_DB:
            p += (db or b"") + b"\0"
        if caps & PLUGIN_AUTH:
            p += plugin + b"\0"
        if caps & CONNECT_ATTRS:
            a = b"".join(lenenc(len(k)) + k + lenenc(len(v)) + v
                         for k, v in (attrs or {b"_client_name": b"selftest"}).items())
            p += lenenc(len(a)) + a
        self.write(p)

    def ssl_request(self, caps, cafile):
        self.write(struct.pack("<IIB", caps | SSL_BIT, 1 << 24, 45) + b"\0" * 23)
        ctx = ssl.create_default_context(cafile=cafile)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def expect_ok(self, p=None):
        p = self.read() if p is None else p
        if p[0] == 0xFF:
            raise parse_err(p)
        assert p[0] == 0x00 and len(p) >= 7, p
        return p

    # -- commands --
    def command(self, payload):
        self.seq = 0
        self.write(payload)

    def ping(self, opcode=0x0E):
        self.command(bytes([opcode]))
        return self.expect_ok()

    def query(self, sql):
        """Returns (column names, rows) or raises ServerError."""
        self.command(b"\x03" + sql)
        p = self.read()
        if p[0] == 0xFF:
            raise parse_err(p)
        ncols, _ = read_lenenc(p, 0)
        names = []
        for _ in range(ncols):
            c = self.read()
            pos, fields = 0, []
            for _ in range(6):
                n, pos = read_lenenc(c, pos)
                fields.append(c[pos:pos + n])
                pos += n
            assert fields[0] == b"def"
            assert c[pos] == 0x0C and len(c) == pos + 13, c
            names.append(fields[4])
        if not self.caps & DEPRECATE_EOF:
            e = self.read()
            assert e[0] == 0xFE and len(e) == 5, e
        rows = []
        while True:
            p = self.read()
            if p[0] == 0xFF:
                raise parse_err(p)
            if p[0] == 0xFE and len(p) < 9:
                if self.caps & DEPRECATE_EOF:
                    assert len(p) >= 7, p  # OK packet with 0xfe header
                else:
                    assert len(p) == 5, p
                return names, rows
            row, pos = [], 0
            for _ in range(ncols):
                n, pos = read_lenenc(p, pos)
                if n is None:
                    row.append(None)
                else:
                    row.append(p[pos:pos + n])
                    pos += n
            assert pos == len(p)
            rows.append(row)

    def quit(self):
        self.command(b"\x01")
        assert self.is_closed()
        self.close()


# ---------------------------------------------------------------------------
# Server process wrapper
# ---------------------------------------------------------------------------
class Server:
    def __init__(self, scenario, *extra, workdir=None):
        cmd = [sys.executable, SERVER, "--scenario", scenario] + list(extra)
        if workdir:
            cmd += ["--workdir", workdir]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._port = None

    @property
    def port(self):
        """Blocks until the server printed its PORT line."""
        if self._port is None:
            line = self.proc.stdout.readline().decode()
            if not line.startswith("PORT ") or not line.endswith("\n"):
                self.proc.kill()
                raise AssertionError(f"bad first line {line!r}: {self.proc.stderr.read()!r}")
            self._port = int(line.split()[1])
        return self._port

    def wait(self):
        self.port  # consume (and check) the PORT line
        out, err = self.proc.communicate(timeout=60)
        assert out == b"", out
        return self.proc.returncode, err.decode()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Base(unittest.TestCase):
    workdir = None

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="fake_mysql_selftest_")
        cls.workdir = cls._tmp.name

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def start(self, scenario, *extra):
        s = Server(scenario, *extra, workdir=self.workdir)
        self.addCleanup(s.kill)
        return s

    def client(self, srv):
        c = Client(srv.port)
        self.addCleanup(c.close)
        return c

    def assertServerOk(self, srv, count=1):
        rc, err = srv.wait()
        self.assertEqual(rc, 0, err)
        self.assertEqual(err.count("OK: "), count, err)
        self.assertNotIn("FAIL", err)
        return err

    def assertServerFail(self, srv, needle):
        rc, err = srv.wait()
        self.assertEqual(rc, 1, err)
        self.assertIn("FAIL: ", err)
        self.assertIn(needle, err)
        return err

    def login(self, srv, scenario_plugin, pw=b"pw", user=b"u", caps=CLIENT_CAPS,
              edited=False):
        c = self.client(srv)
        g = c.greeting(edited=edited)
        self.assertEqual(g["plugin"], scenario_plugin)
        self.assertEqual(len(g["salt"]), 20)
        c.caps = caps & g["caps"]
        tok = {b"mysql_native_password": native_token,
               b"caching_sha2_password": sha2_token,
               b"sqlx_hmac_password": hmac_token}[g["plugin"]](pw, g["salt"])
        c.response(caps, user, tok, g["plugin"])
        return c, g

    def common_commands(self, c, ping_opcode=0x0E):
        c.ping(ping_opcode)
        c.command(b"\x02mydb")
        c.expect_ok()
        self.assertEqual(c.query(b"SELECT 1"), ([b"1"], [[b"1"]]))
        self.assertEqual(c.query(b"select null, 'x'"), ([b"NULL", b"x"], [[None, b"x"]]))
        with self.assertRaises(ServerError) as cm:
            c.query(b"SELEKT 2")
        self.assertEqual((cm.exception.code, cm.exception.state), (1064, "42000"))
        c.command(b"\x55")
        with self.assertRaises(ServerError) as cm:
            c.expect_ok()
        self.assertEqual(cm.exception.code, 1047)
        self.assertEqual(c.query(b"SELECT 1;"), ([b"1"], [[b"1"]]))


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------
class TestCli(Base):
    def test_list(self):
        r = subprocess.run([sys.executable, SERVER, "--scenario", "list"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        names = r.stdout.split()
        self.assertIn("native", names)
        self.assertIn("edited_protocol", names)
        self.assertEqual(len(names), 14)

    def test_unknown_scenario(self):
        r = subprocess.run([sys.executable, SERVER, "--scenario", "nope"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("FAIL", r.stderr)

    def test_accept_timeout(self):
        srv = self.start("native", "--timeout", "1")
        self.assertServerFail(srv, "no client connected")

    def test_idle_client_timeout(self):
        srv = self.start("native", "--timeout", "1")
        c = self.client(srv)
        c.greeting()
        self.assertServerFail(srv, "timeout")
        c.close()


class TestNative(Base):
    def test_good_with_and_without_deprecate_eof(self):
        srv = self.start("native", "--connections", "2")
        for caps in (CLIENT_CAPS, CLIENT_CAPS | DEPRECATE_EOF | CONNECT_WITH_DB):
            c, g = self.login(srv, b"mysql_native_password", caps=caps)
            self.assertTrue(g["caps"] & DEPRECATE_EOF)
            self.assertFalse(g["caps"] & SSL_BIT)
            c.expect_ok()
            self.common_commands(c)
            c.quit()
        err = self.assertServerOk(srv, 2)
        self.assertIn("[2/2]", err)

    def test_with_db_and_u8_auth_length(self):
        srv = self.start("native", "--user", "alice", "--password", "s3cret")
        c = self.client(srv)
        g = c.greeting()
        caps = (CLIENT_CAPS & ~LENENC_DATA & ~CONNECT_ATTRS) | CONNECT_WITH_DB
        c.caps = caps
        c.response(caps, b"alice", native_token(b"s3cret", g["salt"]),
                   b"mysql_native_password", db=b"testdb")
        c.expect_ok()
        c.quit()
        self.assertServerOk(srv)

    def test_empty_password(self):
        srv = self.start("native", "--password", "")
        c, _ = self.login(srv, b"mysql_native_password", pw=b"")
        c.expect_ok()
        c.quit()
        self.assertServerOk(srv)

    def test_wrong_password(self):
        srv = self.start("native")
        c, _ = self.login(srv, b"mysql_native_password", pw=b"nope")
        with self.assertRaises(ServerError) as cm:
            c.expect_ok()
        self.assertEqual(cm.exception.code, 1045)
        self.assertEqual(cm.exception.msg,
                         "Access denied for user 'u'@'localhost' (using password: YES)")
        self.assertServerFail(srv, "scramble mismatch")

    def test_wrong_user(self):
        srv = self.start("native")
        c, _ = self.login(srv, b"mysql_native_password", user=b"bob")
        with self.assertRaises(ServerError) as cm:
            c.expect_ok()
        self.assertEqual(cm.exception.code, 1045)
        self.assertServerFail(srv, "wrong user")

    def test_wrong_sequence_id(self):
        srv = self.start("native")
        c, g = self.login(srv, b"mysql_native_password")
        c.expect_ok()
        c.seq = 5
        c.write(b"\x0e")
        self.assertServerFail(srv, "bad sequence id")

    def test_multi_packet_query(self):
        srv = self.start("native")
        c, _ = self.login(srv, b"mysql_native_password")
        c.expect_ok()
        big = b"SELECT '" + b"a" * (0xFFFFFF + 100) + b"'"
        c.command(b"\x03" + big)  # splits into 2 packets
        with self.assertRaises(ServerError) as cm:
            c.expect_ok(c.read())
        self.assertEqual(cm.exception.code, 1064)
        # exactly 0xffffff bytes needs an empty trailing packet
        c.command(b"\x03" + b"x" * (0xFFFFFF - 1))
        with self.assertRaises(ServerError):
            c.expect_ok(c.read())
        self.assertEqual(c.query(b"SELECT 1"), ([b"1"], [[b"1"]]))
        c.quit()
        self.assertServerOk(srv)

    def test_client_close_without_quit(self):
        srv = self.start("native")
        c, _ = self.login(srv, b"mysql_native_password")
        c.expect_ok()
        c.close()
        err = self.assertServerOk(srv)
        self.assertIn("without COM_QUIT", err)


class TestCachingSha2(Base):
    def test_fast(self):
        srv = self.start("caching_sha2_fast")
        c, _ = self.login(srv, b"caching_sha2_password", caps=CLIENT_CAPS | DEPRECATE_EOF)
        self.assertEqual(c.read(), b"\x01\x03")
        c.expect_ok()
        self.common_commands(c)
        c.quit()
        self.assertServerOk(srv)

    def test_fast_wrong(self):
        srv = self.start("caching_sha2_fast")
        c, _ = self.login(srv, b"caching_sha2_password", pw=b"bad")
        with self.assertRaises(ServerError) as cm:
            c.expect_ok()
        self.assertEqual((cm.exception.code, cm.exception.state), (1045, "28000"))
        self.assertServerFail(srv, "scramble mismatch")

    def full_rsa(self, use_preconfigured_key):
        srv = self.start("caching_sha2_full_rsa", "--password", "rsa pass")
        c, g = self.login(srv, b"caching_sha2_password", pw=b"rsa pass")
        self.assertFalse(g["caps"] & SSL_BIT)
        self.assertEqual(c.read(), b"\x01\x04")
        if use_preconfigured_key:
            with open(os.path.join(self.workdir, "rsa_public_key.pem"), "rb") as f:
                pem = f.read()
        else:
            c.write(b"\x02")
            p = c.read()
            self.assertEqual(p[0], 0x01)
            pem = p[1:]
            self.assertTrue(pem.startswith(b"-----BEGIN PUBLIC KEY-----"), pem)
        plain = b"rsa pass\0"
        x = bytes(b ^ g["salt"][i % 20] for i, b in enumerate(plain))
        c.write(rsa_encrypt(pem, x))
        c.expect_ok()
        self.assertEqual(c.query(b"SELECT 1"), ([b"1"], [[b"1"]]))
        c.quit()
        err = self.assertServerOk(srv)
        self.assertIn("RSA-OAEP encrypted password verified", err)

    def test_full_rsa_request_key(self):
        self.full_rsa(False)

    def test_full_rsa_preconfigured_key(self):
        self.full_rsa(True)

    def test_full_rsa_wrong_password(self):
        srv = self.start("caching_sha2_full_rsa")
        c, g = self.login(srv, b"caching_sha2_password")
        self.assertEqual(c.read(), b"\x01\x04")
        c.write(b"\x02")
        pem = c.read()[1:]
        x = bytes(b ^ g["salt"][i % 20] for i, b in enumerate(b"wrong\0"))
        c.write(rsa_encrypt(pem, x))
        with self.assertRaises(ServerError) as cm:
            c.expect_ok()
        self.assertEqual(cm.exception.code, 1045)
        self.assertServerFail(srv, "RSA-decrypted password mismatch")

    def test_full_rsa_cleartext_rejected(self):
        srv = self.start("caching_sha2_full_rsa")
        c, g = self.login(srv, b"caching_sha2_password")
        self.assertEqual(c.read(), b"\x01\x04")
        c.write(b"pw\0")
        with self.assertRaises(ServerError):
            c.expect_ok()
        self.assertServerFail(srv, "cleartext password over an unencrypted")

    def test_full_tls(self):
        srv = self.start("caching_sha2_full_tls", "--password", "tls-pw")
        c = self.client(srv)
        g = c.greeting()
        self.assertTrue(g["caps"] & SSL_BIT)
        caps = CLIENT_CAPS | SSL_BIT | DEPRECATE_EOF
        c.caps = caps
        c.ssl_request(caps, os.path.join(self.workdir, "server-cert.pem"))
        c.response(caps, b"u", sha2_token(b"tls-pw", g["salt"]), b"caching_sha2_password")
        self.assertEqual(c.read(), b"\x01\x04")
        c.write(b"tls-pw\0")
        c.expect_ok()
        self.common_commands(c)
        c.quit()
        err = self.assertServerOk(srv)
        self.assertIn("cleartext password over TLS verified", err)

    def test_concurrent_servers_share_fresh_workdir(self):
        with tempfile.TemporaryDirectory() as wd:
            servers = []
            for i in range(3):
                for sc in ("caching_sha2_full_tls", "caching_sha2_full_rsa"):
                    s = Server(sc, workdir=wd)
                    self.addCleanup(s.kill)
                    servers.append((sc, s))
            for sc, srv in servers:
                c = self.client(srv)
                g = c.greeting()
                if sc == "caching_sha2_full_tls":
                    caps = CLIENT_CAPS | SSL_BIT
                    c.ssl_request(caps, os.path.join(wd, "server-cert.pem"))
                    c.response(caps, b"u", sha2_token(b"pw", g["salt"]),
                               b"caching_sha2_password")
                    self.assertEqual(c.read(), b"\x01\x04")
                    c.write(b"pw\0")
                else:
                    c.response(CLIENT_CAPS, b"u", sha2_token(b"pw", g["salt"]),
                               b"caching_sha2_password")
                    self.assertEqual(c.read(), b"\x01\x04")
                    with open(os.path.join(wd, "rsa_public_key.pem"), "rb") as f:
                        pem = f.read()
                    c.write(rsa_encrypt(pem, bytes(b ^ g["salt"][i % 20]
                                                   for i, b in enumerate(b"pw\0"))))
                c.expect_ok()
                c.quit()
                self.assertServerOk(srv)

    def test_full_tls_without_ssl_request(self):
        srv = self.start("caching_sha2_full_tls")
        c, _ = self.login(srv, b"caching_sha2_password")
        with self.assertRaises(ServerError) as cm:
            c.expect_ok()
        self.assertEqual(cm.exception.code, 3159)
        self.assertServerFail(srv, "did not send an SSLRequest")

    def test_full_tls_wrong_password(self):
        srv = self.start("caching_sha2_full_tls")
        c = self.client(srv)
        g = c.greeting()
        caps = CLIENT_CAPS | SSL_BIT
        c.ssl_request(caps, os.path.join(self.workdir, "server-cert.pem"))
        c.response(caps, b"u", sha2_token(b"pw", g["salt"]), b"caching_sha2_password")
        self.assertEqual(c.read(), b"\x01\x04")
        c.write(b"pw")  # missing NUL
        with self.assertRaises(ServerError):
            c.expect_ok()
        self.assertServerFail(srv, "cleartext password mismatch")


class TestAuthSwitch(Base):
    def test_switch(self):
        srv = self.start("auth_switch")
        c, g = self.login(srv, b"mysql_native_password")
        p = c.read()
        self.assertEqual(p[0], 0xFE)
        end = p.index(b"\0", 1)
        self.assertEqual(p[1:end], b"caching_sha2_password")
        salt2 = p[end + 1:]
        self.assertEqual(len(salt2), 21)
        self.assertEqual(salt2[20], 0)
        self.assertNotEqual(salt2[:20], g["salt"])
        c.write(sha2_token(b"pw", salt2[:20]))
        self.assertEqual(c.read(), b"\x01\x03")
        c.expect_ok()
        self.assertEqual(c.query(b"SELECT 1"), ([b"1"], [[b"1"]]))
        c.quit()
        self.assertServerOk(srv)

    def test_switch_old_scramble(self):
        srv = self.start("auth_switch")
        c, g = self.login(srv, b"mysql_native_password")
        c.read()
        c.write(sha2_token(b"pw", g["salt"]))
        with self.assertRaises(ServerError):
            c.expect_ok()
        self.assertServerFail(srv, "instead of the auth switch request's new scramble")

    def test_unknown_plugin_disconnect(self):
        srv = self.start("auth_switch_unknown_plugin")
        c, _ = self.login(srv, b"mysql_native_password")
        p = c.read()
        self.assertEqual(p[:21], b"\xfesqlx_no_such_plugin\0")
        c.close()
        err = self.assertServerOk(srv)
        self.assertIn("client disconnected", err)

    def test_unknown_plugin_client_answers(self):
        srv = self.start("auth_switch_unknown_plugin")
        c, _ = self.login(srv, b"mysql_native_password")
        c.read()
        c.write(b"")
        with self.assertRaises(ServerError):
            c.expect_ok()
        self.assertServerFail(srv, "instead of disconnecting")


class TestHostile(Base):
    def test_access_denied(self):
        srv = self.start("access_denied")
        c, _ = self.login(srv, b"mysql_native_password", user=b"anyone", pw=b"")
        with self.assertRaises(ServerError) as cm:
            c.expect_ok()
        self.assertEqual((cm.exception.code, cm.exception.state), (1045, "28000"))
        self.assertEqual(cm.exception.msg, "Access denied for user 'anyone'@'localhost' "
                                           "(using password: NO)")
        self.assertTrue(c.is_closed())
        c.close()
        self.assertServerOk(srv)

    def test_error_greeting(self):
        srv = self.start("error_greeting")
        c = self.client(srv)
        with self.assertRaises(ServerError) as cm:
            c.greeting()
        self.assertEqual((cm.exception.code, cm.exception.state), (1129, "HY000"))
        self.assertIn("is blocked because of many connection errors", cm.exception.msg)
        self.assertTrue(c.is_closed())
        c.close()
        self.assertServerOk(srv)

    def test_close_mid_handshake(self):
        srv = self.start("close_mid_handshake")
        c, _ = self.login(srv, b"mysql_native_password")
        self.assertTrue(c.is_closed())
        c.close()
        self.assertServerOk(srv)

    def test_truncated_greeting(self):
        srv = self.start("truncated_greeting")
        c = self.client(srv)
        n, seq = c.read_raw_header()
        self.assertEqual((n, seq), (80, 0))
        got = b""
        while True:
            chunk = c.sock.recv(1000)
            if not chunk:
                break
            got += chunk
        self.assertEqual(len(got), 20)
        self.assertEqual(got[0], 10)
        c.close()
        self.assertServerOk(srv)

    def test_oversized_packet(self):
        srv = self.start("oversized_packet")
        c = self.client(srv)
        n, seq = c.read_raw_header()
        self.assertEqual((n, seq), (0xFFFFFF, 0))
        got = b""
        while True:
            chunk = c.sock.recv(1000)
            if not chunk:
                break
            got += chunk
        self.assertEqual(len(got), 100)
        c.close()
        self.assertServerOk(srv)

    def test_bad_lenenc_resultset(self):
        srv = self.start("bad_lenenc_resultset")
        c, _ = self.login(srv, b"mysql_native_password")
        c.expect_ok()
        c.ping()
        c.command(b"\x03SELECT 1")
        self.assertEqual(c.read(), b"\x01")
        n, seq = c.read_raw_header()
        self.assertEqual((n, seq), (20, 2))
        body = c.recv_n(20)
        self.assertEqual(body[:7], b"\x03def\x00\x00\x00")
        self.assertEqual(body[7:10], b"\xfc\xff\xff")
        self.assertTrue(c.is_closed())
        c.close()
        self.assertServerOk(srv)

    def test_bad_lenenc_resultset_no_query(self):
        srv = self.start("bad_lenenc_resultset")
        c, _ = self.login(srv, b"mysql_native_password")
        c.expect_ok()
        c.quit()
        self.assertServerFail(srv, "never sent a COM_QUERY")

    def test_error_mid_resultset(self):
        for caps in (CLIENT_CAPS, CLIENT_CAPS | DEPRECATE_EOF):
            with self.subTest(deprecate_eof=bool(caps & DEPRECATE_EOF)):
                srv = self.start("error_mid_resultset")
                c, _ = self.login(srv, b"mysql_native_password", caps=caps)
                c.caps = caps
                c.expect_ok()
                c.command(b"\x03SELECT a, b FROM t")
                self.assertEqual(c.read(), b"\x02")
                c.read()
                c.read()
                if not caps & DEPRECATE_EOF:
                    self.assertEqual(c.read()[0], 0xFE)
                for i in range(1, 4):
                    self.assertEqual(c.read(), lenenc(1) + str(i).encode()
                                     + lenenc(4) + b"row%d" % i)
                e = parse_err(c.read())
                self.assertEqual((e.code, e.state, e.msg),
                                 (1317, "70100", "Query execution was interrupted"))
                # connection still usable
                self.assertEqual(c.query(b"SELECT 1"), ([b"1"], [[b"1"]]))
                c.quit()
                self.assertServerOk(srv)


class TestEditedProtocol(Base):
    def test_edited(self):
        srv = self.start("edited_protocol")
        c, g = self.login(srv, b"sqlx_hmac_password", edited=True)
        self.assertEqual(g["conn_id"], 1000)
        self.assertEqual(g["version"], b"8.0.36-sqlx-fake")
        c.expect_ok()
        self.common_commands(c, ping_opcode=0x3E)
        c.quit()
        self.assertServerOk(srv)

    def test_standard_ping_rejected(self):
        srv = self.start("edited_protocol")
        c, g = self.login(srv, b"sqlx_hmac_password", edited=True)
        c.expect_ok()
        with self.assertRaises(ServerError) as cm:
            c.ping(0x0E)
        self.assertEqual((cm.exception.code, cm.exception.state, cm.exception.msg),
                         (1047, "08S01", "Unknown command"))
        c.ping(0x3E)  # connection continues; failure is reported at the end
        c.quit()
        self.assertServerFail(srv, "opcode 0x0e")

    def test_wrong_hmac(self):
        srv = self.start("edited_protocol")
        c, g = self.login(srv, b"sqlx_hmac_password", pw=b"other", edited=True)
        with self.assertRaises(ServerError) as cm:
            c.expect_ok()
        self.assertEqual(cm.exception.code, 1045)
        self.assertServerFail(srv, "sqlx_hmac_password response mismatch")

    def test_edited_greeting_layout(self):
        # A client that ignores the edit misreads the greeting.
        srv = self.start("edited_protocol")
        c = self.client(srv)
        p = c.read()
        self.assertEqual(p[1:5], (1000).to_bytes(4, "little"))
        self.assertEqual(p[5:21], b"8.0.36-sqlx-fake")
        c.close()
        self.assertServerFail(srv, "client closed the connection while the server "
                                   "waited for handshake response")


@unittest.skipUnless(shutil.which("mariadb"), "mariadb client not installed")
class TestRealMariadbClient(Base):
    def run_client(self, srv, *extra):
        return subprocess.run(["mariadb", "--no-defaults", *extra, "-h127.0.0.1",
                               f"-P{srv.port}", "-uu", "-ppw", "-N", "-e", "select 1"],
                              capture_output=True, text=True, timeout=60)

    def check(self, scenario, *extra):
        srv = self.start(scenario)
        r = self.run_client(srv, *extra)
        self.assertEqual((r.returncode, r.stdout), (0, "1\n"), r.stderr)
        return self.assertServerOk(srv)

    def test_native(self):
        self.check("native")

    def test_caching_sha2_fast(self):
        self.check("caching_sha2_fast")

    def test_auth_switch(self):
        self.check("auth_switch")

    def test_full_rsa(self):
        # --skip-ssl: otherwise libmariadb treats the connection as "secure"
        # and sends the password in clear (see README).
        err = self.check("caching_sha2_full_rsa", "--skip-ssl")
        self.assertIn("public key requested", err)

    def test_full_tls(self):
        self.check("caching_sha2_full_tls")

    def test_error_mid_resultset(self):
        srv = self.start("error_mid_resultset")
        r = self.run_client(srv)
        self.assertEqual(r.returncode, 1)
        self.assertIn("1317", r.stderr)
        self.assertServerOk(srv)

    def test_unknown_plugin_documents_libmariadb_quirk(self):
        # libmariadb falls back to a dummy plugin that sends an empty packet
        # (to read the server's error) instead of just disconnecting, so the
        # strict scenario reports a FAIL for it.
        srv = self.start("auth_switch_unknown_plugin")
        r = self.run_client(srv)
        self.assertEqual(r.returncode, 1)
        self.assertIn("sqlx_no_such_plugin", r.stderr)
        self.assertServerFail(srv, "an empty packet")

    def test_bad_lenenc(self):
        srv = self.start("bad_lenenc_resultset")
        r = self.run_client(srv)
        self.assertEqual(r.returncode, 1)
        self.assertIn("malformed packet", r.stderr)
        self.assertServerOk(srv)


if __name__ == "__main__":
    unittest.main()
