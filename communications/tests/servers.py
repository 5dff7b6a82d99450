"""Real mail servers for the tests: Debian's dovecot (IMAP) in a temporary directory of its
own on a free port, aiosmtpd (SMTP) in this process, and a TCP relay that cuts a connection
after a number of bytes (an IMAP server dropping us mid-sync)."""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/bin/dovecot")


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in DOVECOT_PATHS if Path(p).exists()), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Dovecot:
    """One dovecot instance; each test adds users of its own (mail never crosses tests)."""

    root: Path
    port: int
    uid: int
    gid: int
    passwd: Path

    host: str = "127.0.0.1"
    changed_at: float = 0.0
    # The fake OAuth2 provider its XOAUTH2 logins are checked against (conftest sets it).
    oauth: Any = None

    def add_user(self, name: str | None = None, password: str = "mail-pass-1") -> str:
        # dovecot re-reads the passwd-file when its modification second changes.
        wait = self.changed_at + 1.05 - time.time()
        if wait > 0:
            time.sleep(wait)
        self.changed_at = time.time()
        address = f"{name or 'u' + uuid.uuid4().hex[:10]}@example.com"
        home = self.root / "mail" / address
        home.mkdir(parents=True)
        os.chown(home, self.uid, self.gid)
        with self.passwd.open("a") as handle:
            handle.write(f"{address}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{home}::\n")
        self._wait_for_login(address, password)
        return address

    def _wait_for_login(self, address: str, password: str, seconds: float = 20.0) -> None:
        """Until dovecot has read the new line (it notices the file's new modification time on
        its next look-up; on a busy machine its auth process can answer "failed" meanwhile)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                with self.client(address, password):
                    return
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @contextlib.contextmanager
    def client(self, address: str, password: str = "mail-pass-1") -> Iterator[imaplib.IMAP4]:
        connection = imaplib.IMAP4(self.host, self.port)
        connection.login(address, password)
        try:
            yield connection
        finally:
            with contextlib.suppress(Exception):
                connection.logout()

    def deliver(
        self, address: str, raw: bytes, folder: str = "INBOX", seen: bool = False, **kw: Any
    ) -> None:
        with self.client(address, **kw) as connection:
            flags = "(\\Seen)" if seen else None
            status, answer = connection.append(folder, flags, None, raw)
            assert status == "OK", answer

    def deliver_all(self, address: str, raws: list[bytes], folder: str = "INBOX") -> None:
        with self.client(address) as connection:
            for raw in raws:
                status, answer = connection.append(folder, None, None, raw)
                assert status == "OK", answer

    def folder_messages(self, address: str, folder: str) -> list[bytes]:
        with self.client(address) as connection:
            connection.select(folder)
            _status, data = connection.uid("SEARCH", "ALL")
            found = []
            for uid in data[0].split():
                _s, parts = connection.uid("FETCH", uid, "(BODY.PEEK[])")
                found.append(parts[0][1])
            return found


CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = relata-test-{port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
first_valid_uid = {uid}
first_valid_gid = {gid}
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
# XOAUTH2: the bearer token is checked by introspection at the tests' fake OAuth provider.
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {root}/oauth2.conf.ext
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
"""


OAUTH2 = """introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


def _accounts() -> tuple[str, str, str, int, int]:
    """(internal user, its group, login user, mail uid, mail gid). As root, dovecot's own
    unprivileged users from the Debian package; as anyone else, that person for everything."""
    if os.geteuid() == 0:
        internal = pwd.getpwnam("dovecot")
        return "dovecot", "dovecot", "dovenull", internal.pw_uid, internal.pw_gid
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_name, me.pw_name, me.pw_uid, me.pw_gid


@contextlib.contextmanager
def running_dovecot(introspection_url: str = "http://127.0.0.1:9/introspect") -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        if os.environ.get("RELATA_REQUIRE_IMAP") == "1":
            pytest.fail(
                "dovecot is not installed and RELATA_REQUIRE_IMAP=1 (apt-get install dovecot-imapd)"
            )
        pytest.skip(
            "dovecot is not installed (apt-get install dovecot-imapd to run the IMAP tests)"
        )
    internal, group, login, uid, gid = _accounts()
    # Not under pytest's tmp_path: that is private to this user, and dovecot's own users
    # must reach the mail directories.
    root = Path(tempfile.mkdtemp(prefix="relata-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    (root / "mail").chmod(0o755)
    passwd = root / "passwd"
    passwd.write_text("")
    passwd.chmod(0o644)
    port = free_port()
    (root / "oauth2.conf.ext").write_text(OAUTH2.format(url=introspection_url))
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=port,
            uid=min(uid, 1),
            gid=min(gid, 1),
            internal=internal,
            internal_group=group,
            login=login,
        )
    )
    subprocess.run([binary, "-c", str(config)], check=True)
    server = Dovecot(root=root, port=port, uid=uid, gid=gid, passwd=passwd)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot did not start: {log[-2000:]}")
        time.sleep(0.1)
    try:
        yield server
    finally:
        subprocess.run([binary, "-c", str(config), "stop"], check=False)
        time.sleep(0.2)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class SmtpServer:
    host: str
    port: int
    login: str
    password: str
    received: list[Received] = field(default_factory=list)
    refuse: bool = False
    # The bearer token the server takes for AUTH XOAUTH2 (as Gmail's and Outlook's do).
    oauth_token: str = "oauth-token-1"
    # Or a check of the token (the fake OAuth provider's), when set.
    oauth_check: Callable[[str, str], bool] | None = None


@contextlib.contextmanager
def running_smtp(login: str, password: str) -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    server = SmtpServer("127.0.0.1", free_port(), login, password)

    class Handler:
        async def auth_XOAUTH2(self, smtp: Any, args: list[str]) -> Any:  # noqa: N802
            import base64

            # args: the mechanism and its initial response ("XOAUTH2", base64).
            if len(args) < 2:
                return AuthResult(success=False, handled=False)
            user, _sep, rest = base64.b64decode(args[-1]).decode().partition("\x01auth=Bearer ")
            token = rest.removesuffix("\x01\x01")
            if server.oauth_check is not None:
                ok = user.startswith("user=") and server.oauth_check(user[5:], token)
            else:
                ok = user.startswith("user=") and rest == f"{server.oauth_token}\x01\x01"
            return AuthResult(success=ok, handled=False, auth_data=user[5:])

        async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            if server.refuse:
                return "554 5.7.1 Message refused"
            server.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
            return "250 OK"

    def authenticator(smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        # Every test mailbox signs in with its own address and the one test password.
        ok = isinstance(data, LoginPassword) and data.password.decode() == server.password
        return AuthResult(success=ok)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=server.port,
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


class CuttingRelay:
    """Forwards 127.0.0.1:<port> to a server and closes both sides once the server has sent
    ``cut_after`` bytes: the IMAP connection dies in the middle of a sync."""

    def __init__(self, target_port: int, cut_after: int) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.cut = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, counted: bool) -> None:
        sent = 0
        try:
            while True:
                chunk = source.recv(16384)
                if not chunk:
                    break
                if counted and sent + len(chunk) > self.cut_after:
                    target.sendall(chunk[: max(0, self.cut_after - sent)])
                    self.cut.set()
                    break
                target.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self.listener.close()
