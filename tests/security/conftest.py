"""A real ``obeya serve`` on a free loopback port, attacked the way the review attacked one.

The server runs in its own process with its limits lowered (a few megabytes, a small
simulation budget), so each attack is small and quick; what is checked is that the answer
comes before the attack has been paid for, that the server's memory stays where it was, and
that a bystander's request is answered within a second while the attack goes on. Every
request goes to 127.0.0.1 and every loop is bounded in count and time.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from api.tiny import tiny_workspace
from obeya.core.access import Role

from support import fresh_database

#: The limits the server runs with (environment of ``obeya serve``).
LIMITS = {
    "OBEYA_MAX_UPLOAD_BYTES": str(2 * 1024 * 1024),
    "OBEYA_MAX_BODY_BYTES": str(256 * 1024),
    "OBEYA_MAX_DECOMPRESSED_BYTES": str(8 * 1024 * 1024),
    "OBEYA_MAX_SIM_EVENTS": "2000000",
}
MIB = 1024 * 1024


@dataclass
class Server:
    """A running server: its address, its process, and a token per principal."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    tokens: dict[str, str]
    uploads: Path
    log: Path

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}

    def rss(self) -> int:
        """The server process's resident memory, in bytes (Linux /proc)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("live")
    uploads = directory / "tmp"
    uploads.mkdir()
    with fresh_database(directory) as url:
        workspace = tiny_workspace(url, directory)
        tokens = {}
        for who, role, stream in (
            ("editor", Role.EDITOR, "Tiny"),
            ("viewer", Role.VIEWER, "Tiny"),
            ("bystander", Role.VIEWER, "Tiny"),
        ):
            workspace.access.add_user(who, role, stream)
            tokens[who], _ = workspace.access.create_token(who, "attack")
        workspace.access.add_user("nobody", Role.VIEWER, "Tiny")
        workspace.store.users.revoke("nobody", "Tiny")  # signed in, with no role anywhere
        tokens["no role"], _ = workspace.access.create_token("nobody", "attack")
        workspace.close()
        port = _free_port()
        env = {
            **os.environ,
            **LIMITS,
            "OBEYA_HOME": str(directory / "home"),
            "OBEYA_DATABASE_URL": url,
            "TMPDIR": str(uploads),
        }
        log = directory / "server.log"
        command = [sys.executable, "-c", "from obeya.cli.main import app; app()"]
        args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-sign-in-link"]
        with open(log, "wb") as out:
            process = subprocess.Popen([*command, *args], env=env, stdout=out, stderr=out)
        live = Server(f"http://127.0.0.1:{port}", port, process, tokens, uploads, log)
        try:
            _wait_until_up(live)
            yield live
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a wedged server
                process.kill()
                process.wait()


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"obeya serve exited: {server.log.read_text()[-2000:]}")
        try:
            answer = httpx.get(f"{server.url}/api/health", headers=server.headers("viewer"))
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"obeya serve did not start: {server.log.read_text()[-2000:]}")


@dataclass
class Bystander:
    """Another user asking for a page while an attack goes on: the slowest answer it got."""

    server: Server
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(headers=self.server.headers("bystander"), timeout=10) as client:
            for _ in range(600):  # at most a minute
                if self.stop.is_set():
                    return
                started = time.monotonic()
                try:
                    status = client.get(f"{self.server.url}/api/streams/Tiny").status_code
                    if status != 200:
                        self.failures.append(f"status {status}")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                self.latencies.append(time.monotonic() - started)
                time.sleep(0.1)

    @property
    def slowest(self) -> float:
        return max(self.latencies, default=float("inf"))


@contextmanager
def bystander(server: Server) -> Iterator[Bystander]:
    """Run a bystander beside the ``with`` block; it must have been answered, always, and
    each time within a second."""
    watcher = Bystander(server)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    time.sleep(0.3)
    try:
        yield watcher
    finally:
        time.sleep(0.3)
        watcher.stop.set()
        thread.join(timeout=15)
    assert not watcher.failures, watcher.failures
    assert len(watcher.latencies) >= 3, "the bystander was not answered in time"
    assert watcher.slowest < 1.0, f"a bystander waited {watcher.slowest:.2f} s"


@dataclass(frozen=True)
class Sent:
    """What a streamed request got: the status (None if the connection died without an
    answer) and how many body bytes had gone out when the answer came."""

    status: int | None
    sent: int
    body: bytes


def stream_request(
    server: Server,
    path: str,
    *,
    headers: dict[str, str],
    total: int,
    content_type: str,
    prefix: bytes = b"",
    chunked: bool = True,
    filler: bytes = b"0" * (64 * 1024),
) -> Sent:
    """POST ``prefix`` then ``filler`` up to ``total`` body bytes, chunked (no
    Content-Length) or with the length declared, stopping as soon as an answer arrives."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        f"Content-Type: {content_type}",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    sent = 0
    with closing(socket.create_connection(("127.0.0.1", server.port), timeout=10)) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        pieces = [prefix] if prefix else []
        try:
            while sent < total:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break  # the server answered: stop sending
                piece = pieces.pop() if pieces else filler[: total - sent]
                frame = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
                sock.sendall(frame)
                sent += len(piece)
            else:
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the server closed its side: read what it said
        return _answer(sock, sent)


def _answer(sock: socket.socket, sent: int) -> Sent:
    sock.settimeout(30)
    data = b""
    try:
        while b"\r\n\r\n" not in data or len(data) < _expected_length(data):
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    except (ConnectionResetError, TimeoutError):
        pass
    if not data.startswith(b"HTTP/1.1 "):
        return Sent(None, sent, data)
    status = int(data.split(b" ", 2)[1])
    return Sent(status, sent, data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b"")


def _expected_length(data: bytes) -> int:
    """How long the whole answer is, once its head has arrived (a chunked one: until its
    last chunk)."""
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value.strip())
    return len(data) if data.endswith(b"0\r\n\r\n") else len(data) + 1


# The in-process client and workspace of the API and page tests, for the malformed-input tests.
from app_fixtures import client, workspace  # noqa: E402

__all__ = ["client", "workspace"]
