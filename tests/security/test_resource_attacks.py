"""The review's resource attacks, small, against a live server (see conftest.py).

Each test states the finding it replays. Sizes are a few times the lowered limits, so an
answer that came only after the whole body (the old behaviour) shows as bytes sent and as
memory, while the run stays quick.
"""

from __future__ import annotations

import gzip
import json

import httpx
import pytest

from security.conftest import LIMITS, MIB, Server, bystander, stream_request

#: A live `obeya serve` per module, attacked: `make test` runs them, `make check` does not.
pytestmark = pytest.mark.slow

UPLOAD_LIMIT = int(LIMITS["OBEYA_MAX_UPLOAD_BYTES"])
BODY_LIMIT = int(LIMITS["OBEYA_MAX_BODY_BYTES"])
BOUNDARY = "obeyaattack"
#: The head of a multipart form whose one file part the filler then continues.
FILE_PART = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n'
    "Content-Type: text/csv\r\n\r\n"
    "item_id,state,timestamp\r\n"
).encode()
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def error_type(body: bytes) -> str:
    return str(json.loads(body)["error"]["type"])


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "with length"])
def test_an_anonymous_upload_is_refused_before_its_body(server: Server, chunked: bool) -> None:
    """Finding 3: 6 GiB chunked to /api/streams/Big/import got its 401 only once on disk."""
    before = server.rss()
    with bystander(server):
        got = stream_request(
            server,
            "/api/streams/Big/import",
            headers={},
            total=256 * MIB,
            content_type=MULTIPART,
            prefix=FILE_PART,
            chunked=chunked,
        )
    assert got.status == 401, got
    assert error_type(got.body) == "AuthError"
    # The answer came while the first megabytes were in flight (socket buffers), not at the end.
    assert got.sent < 32 * MIB, got.sent
    assert server.rss() - before < 32 * MIB
    assert list(server.uploads.iterdir()) == []  # nothing spooled, nothing copied


def test_an_editors_oversized_chunked_upload_stops_at_the_limit(server: Server) -> None:
    """Finding 3: an editor's 4 GiB chunked upload got its 413 only at the end."""
    before = server.rss()
    with bystander(server):
        got = stream_request(
            server,
            "/api/streams/Tiny/import",
            headers=server.headers("editor"),
            total=256 * MIB,
            content_type=MULTIPART,
            prefix=FILE_PART,
        )
    assert got.status == 413, got
    assert error_type(got.body) == "BodyTooLarge"
    assert got.sent < UPLOAD_LIMIT + 32 * MIB, got.sent
    assert server.rss() - before < 32 * MIB
    assert list(server.uploads.iterdir()) == []


@pytest.mark.parametrize("who", ["anonymous", "no role"])
def test_a_huge_json_body_is_refused_before_it_is_read(server: Server, who: str) -> None:
    """Finding 4: 2 GiB of JSON chunked to /api/simulate took the server to 7 GB before its
    401. Anonymous: 401 at once. Signed in (the route is open to any user): 413 at the JSON
    limit, never parsed."""
    before = server.rss()
    with bystander(server):
        got = stream_request(
            server,
            "/api/simulate",
            headers=server.headers(who),
            total=128 * MIB,
            content_type="application/json",
            prefix=b'{"scenario": {"name": "',
            filler=b"x" * (64 * 1024),
        )
    expected = 401 if who == "anonymous" else 413
    assert got.status == expected, got
    assert got.sent < 32 * MIB, got.sent
    assert server.rss() - before < 32 * MIB


def test_a_decompression_bomb_is_refused_with_bounded_memory(server: Server) -> None:
    """Finding 7: a 6.2 MB .csv.gz took 6.5 GB of memory. Here 64 MiB of rows in a few
    hundred kB of gzip, against a decompressed limit of 8 MiB."""
    rows = b"".join(b"X%d,In Progress,2024-01-02\n" % (i % 1000) for i in range(2_500_000))
    bomb = gzip.compress(b"item_id,state,timestamp\n" + rows[: 64 * MIB], compresslevel=9)
    assert len(bomb) < UPLOAD_LIMIT
    before = server.rss()
    tiny = httpx.get(f"{server.url}/api/streams/Tiny", headers=server.headers("editor")).json()
    with bystander(server):
        answer = httpx.post(
            f"{server.url}/api/streams/Tiny/import",
            headers=server.headers("editor"),
            files={"file": ("bomb.csv.gz", bomb, "application/gzip")},
            timeout=60,
        )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert "bomb.csv.gz" in error["message"]
    assert server.rss() - before < 48 * MIB
    after = httpx.get(f"{server.url}/api/streams/Tiny", headers=server.headers("editor")).json()
    assert after == tiny  # nothing imported


def test_the_sign_in_form_takes_a_small_body_only(server: Server) -> None:
    """The sign-in form is open to anyone, so its body limit is a few kilobytes."""
    got = stream_request(
        server,
        "/sign-in",
        headers={},
        total=8 * MIB,
        content_type="application/x-www-form-urlencoded",
        prefix=b"name=a&password=",
        filler=b"p" * 4096,
    )
    assert got.status == 413, got
    assert got.sent < 4 * MIB
