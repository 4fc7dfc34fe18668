"""The client's address: the socket's peer, unless the operator named it a trusted proxy; then
the right-most forwarded address that is not one of theirs."""

from __future__ import annotations

import ipaddress

import pytest

from obeya.auth.addresses import (
    TRUSTED_PROXIES_VARIABLE,
    client_address,
    over_https,
    trusted_proxies,
)
from obeya.errors import InputError

PROXY = (ipaddress.ip_network("10.0.0.5"), ipaddress.ip_network("192.168.0.0/24"))


def test_without_trusted_proxies_the_header_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRUSTED_PROXIES_VARIABLE, raising=False)
    assert trusted_proxies() == ()
    # Loopback is no exception: a rotating header must not give a fresh count.
    for forged in ("1.2.3.4", "5.6.7.8, 9.9.9.9"):
        assert client_address("127.0.0.1", [forged]) == "127.0.0.1"
    assert client_address(None, ["1.2.3.4"]) == "unknown"


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        ("10.0.0.5", ["203.0.113.7"], "203.0.113.7"),
        # The client wrote the left part; the proxy appended what it saw.
        ("10.0.0.5", ["6.6.6.6, 203.0.113.7"], "203.0.113.7"),
        ("10.0.0.5", ["6.6.6.6", "203.0.113.7"], "203.0.113.7"),  # two header lines
        # A chain of trusted proxies is skipped from the right.
        ("10.0.0.5", ["6.6.6.6, 203.0.113.7, 192.168.0.9"], "203.0.113.7"),
        ("10.0.0.5", ["2001:db8::1"], "2001:db8::1"),
        ("10.0.0.5", [], "10.0.0.5"),  # no header: the proxy itself
        ("10.0.0.5", ["192.168.0.9"], "10.0.0.5"),  # only proxies named
        ("10.0.0.5", ["not-an-ip"], "10.0.0.5"),  # garbage is no address
        ("10.0.0.6", ["203.0.113.7"], "10.0.0.6"),  # not a trusted proxy
        ("127.0.0.1", ["203.0.113.7"], "127.0.0.1"),
    ],
)
def test_a_trusted_proxys_header_is_read_from_the_right(
    peer: str, headers: list[str], client: str
) -> None:
    assert client_address(peer, headers, PROXY) == client


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRUSTED_PROXIES_VARIABLE, " 10.0.0.5 , 192.168.0.0/24,")
    assert trusted_proxies() == PROXY
    assert client_address("192.168.0.3", ["203.0.113.7"]) == "203.0.113.7"
    monkeypatch.setenv(TRUSTED_PROXIES_VARIABLE, "10.0.0.5, proxy.example")
    with pytest.raises(InputError) as refused:
        trusted_proxies()
    assert refused.value.http_status == 422


def test_https_is_believed_from_a_trusted_proxy_only() -> None:
    assert over_https("https", "1.2.3.4", None, ())
    assert not over_https("http", "1.2.3.4", "https", PROXY)
    assert over_https("http", "10.0.0.5", "https", PROXY)
    assert not over_https("http", "10.0.0.5", "http", PROXY)
    assert not over_https("http", "127.0.0.1", "https", ())
