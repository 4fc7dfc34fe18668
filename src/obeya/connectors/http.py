"""One HTTP client for every connector: retries, rate limits and errors that name the connector.

Trackers answer 429 when a client goes too fast and 5xx when they are busy; both are retried
with exponential backoff, honouring ``Retry-After`` (seconds or an HTTP date) and the reset
headers of a spent rate limit (``X-RateLimit-Reset`` / ``RateLimit-Reset``, epoch seconds). Any
other 4xx is final: a bad token or a query the tracker refuses will not heal by waiting, so it
becomes one :class:`~obeya.errors.ConnectorError` at once. The secret goes into the headers
only; errors and logs never hold it.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from obeya.errors import ConnectorError

log = logging.getLogger("obeya.connectors")

#: Attempts per request (the first and its retries).
ATTEMPTS = 6
#: First backoff, doubled each retry, in seconds.
BACKOFF_SECONDS = 1.0
#: The longest wait a tracker may ask for before the sync gives up (a day's quota is no
#: reason to hold a worker for hours).
MAX_WAIT_SECONDS = 300.0
#: Seconds to connect and to read one response.
TIMEOUT_SECONDS = 30.0
#: The largest response body read (a page of issues with changelogs is a few MB).
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


@dataclass
class Http:
    """GETs (and GraphQL POSTs) against one tracker for the connector ``name``.

    ``transport`` replaces the network (tests replay recorded responses through
    ``httpx.MockTransport``); ``sleep`` replaces ``time.sleep`` so a test can see the waits
    without waiting. ``requests`` counts the requests sent, retries included.
    """

    name: str
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds the secret
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    attempts: int = ATTEMPTS
    requests: int = 0
    waited_seconds: float = 0.0
    _client: httpx.Client | None = None

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.base_url,
                headers=dict(self.headers),
                transport=self.transport,
                timeout=TIMEOUT_SECONDS,
                follow_redirects=False,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The response of a GET, after retries; 304 is returned as is (an ``ETag`` hit)."""
        return self._send(
            "GET", path, lambda: self.client().get(path, params=params, headers=headers)
        )

    def post_json(self, path: str, body: Any) -> httpx.Response:
        """The response of a POST of ``body`` as JSON, with the retries and errors of a GET.

        Retried like a GET, so only for requests that change nothing (a GraphQL query)."""
        return self._send("POST", path, lambda: self.client().post(path, json=body))

    def _send(self, method: str, path: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        for attempt in range(self.attempts):
            self.requests += 1
            try:
                response = send()
            except httpx.TransportError as exc:
                if attempt + 1 == self.attempts:
                    raise ConnectorError(
                        self.name,
                        f"no answer from {self.base_url} ({type(exc).__name__}); check the URL "
                        "and the network",
                    ) from None
                self._wait(BACKOFF_SECONDS * 2**attempt)
                continue
            if response.status_code < 400 or response.status_code == 304:
                if len(response.content) > MAX_RESPONSE_BYTES:
                    raise ConnectorError(
                        self.name, f"{path}: a response over {MAX_RESPONSE_BYTES:,} bytes"
                    )
                return response
            if not _retryable(response) or attempt + 1 == self.attempts:
                raise self.refused(path, response, method)
            self._wait(retry_delay(response, BACKOFF_SECONDS * 2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = self.get(path, params)
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                self.name,
                f"{path}: the answer is not JSON (HTTP {response.status_code}); is the URL the "
                "tracker's?",
                status=response.status_code,
            ) from None

    def refused(self, path: str, response: httpx.Response, method: str = "GET") -> ConnectorError:
        """The error for a final answer: what the status means, with the tracker's reason."""
        status = response.status_code
        reason = tracker_reason(response)
        meaning = {
            400: "the tracker refused the query",
            401: "the tracker refused the credentials (check the token and, for Jira Cloud, "
            "the e-mail)",
            403: "the credentials may not read this (check the token's scopes and the "
            "project's permissions)",
            404: "not found (check the URL, the project or repository name)",
            410: "gone (the API version or project no longer exists)",
            429: "still rate-limited after the retries",
        }.get(status, "the tracker failed" if status >= 500 else "the tracker refused the request")
        detail = f": {reason}" if reason else ""
        return ConnectorError(
            self.name,
            f"{method} {path}: HTTP {status}, {meaning}{detail}",
            status=status,
            reason=reason,
        )

    def _wait(self, seconds: float) -> None:
        if seconds > MAX_WAIT_SECONDS:
            raise ConnectorError(
                self.name,
                f"the tracker asks to wait {seconds:,.0f} s (rate limit); try again later",
                status=429,
            )
        self.waited_seconds += seconds
        log.info("%s: waiting %.1f s before retrying", self.name, seconds)
        self.sleep(seconds)


def _retryable(response: httpx.Response) -> bool:
    status = response.status_code
    if status == 429 or status >= 500:
        return True
    # GitHub answers a spent primary rate limit with 403 and X-RateLimit-Remaining: 0, and a
    # secondary one (too many requests at once) with 403 and Retry-After.
    return status == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
    )


def retry_delay(response: httpx.Response, backoff: float, now: float | None = None) -> float:
    """Seconds to wait before retrying: ``Retry-After`` (seconds or an HTTP date), else the
    rate limit's reset time when it is spent, else ``backoff``."""
    clock = time.time() if now is None else now
    after = response.headers.get("retry-after")
    if after is not None:
        after = after.strip()
        if after.isdigit():
            return float(after)
        try:
            when = email.utils.parsedate_to_datetime(after)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - clock)
    for remaining, reset in (
        ("x-ratelimit-remaining", "x-ratelimit-reset"),
        ("ratelimit-remaining", "ratelimit-reset"),
    ):
        if response.headers.get(remaining) == "0" and (value := response.headers.get(reset)):
            try:
                return max(0.0, float(value) - clock)
            except ValueError:
                break
    return backoff


def tracker_reason(response: httpx.Response) -> str:
    """The tracker's own words from an error body (Jira ``errorMessages``/``errors``, GitHub
    and GitLab ``message``/``error``), at most 300 characters."""
    try:
        body = response.json()
    except ValueError:
        return ""
    parts: list[str] = []
    if isinstance(body, dict):
        messages = body.get("errorMessages")
        if isinstance(messages, list):
            parts.extend(str(m) for m in messages)
        errors = body.get("errors")
        if isinstance(errors, dict):
            parts.extend(f"{k}: {v}" for k, v in errors.items())
        for key in ("message", "error", "error_description"):
            if isinstance(body.get(key), str):
                parts.append(body[key])
    return "; ".join(parts)[:300]


def utc_now() -> datetime:
    return datetime.now(UTC)
