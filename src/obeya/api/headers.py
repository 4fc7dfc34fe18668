"""The security headers of every response: pages, the API, static files and errors alike.

The pages run no inline script (their code is in ``/static``; chart data travels in
``<script type="application/json">`` blocks, which do not execute), so the
Content-Security-Policy allows scripts from this origin only: an injected ``<script>`` or
``onclick=`` does not run. No page may be framed (clickjacking), content types are not sniffed,
and other sites are not told which page linked to them.

Styles keep ``'unsafe-inline'``: vega-embed, its tooltips and htmx insert ``<style>`` elements,
and a map's bars are sized by a ``style`` attribute. Injected CSS cannot run code.

``/docs`` (Swagger UI, rendered by FastAPI) starts with one inline script. Rather than allow
inline scripts there, its policy names that script by its SHA-256, computed from the response
itself, so any other inline script on the page is still refused.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def policy(script_hashes: Iterable[str] = ()) -> str:
    """The Content-Security-Policy, with the inline scripts of ``script_hashes`` allowed."""
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in script_hashes)])
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            # vega-embed's "save as PNG" is a data: URL; Swagger UI draws icons from data:.
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


POLICY = policy()

#: The headers besides the policy, the same on every response.
FIXED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

#: Pages whose own inline scripts are allowed by hash (they come from a library, not from us).
HASHED_PATHS = frozenset({"/docs"})

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def inline_script_hashes(html: str) -> list[str]:
    """The base64 SHA-256 of each inline script's text, as a CSP hash source names it."""
    return [
        base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        for body in _INLINE_SCRIPT.findall(html)
    ]


def _stamp(message: Message, csp: str) -> None:
    headers = MutableHeaders(scope=message)
    headers["Content-Security-Policy"] = csp
    for name, value in FIXED.items():
        headers[name] = value


class SecurityHeaders:
    """ASGI middleware that sets the headers on every response it passes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in HASHED_PATHS:
            await self._hashed(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                _stamp(message, POLICY)
            await send(message)

        await self.app(scope, receive, stamped)

    async def _hashed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold the (small) page until its body is complete, then allow its inline scripts
        by hash. The request is passed on without Accept-Encoding, so the body is text."""
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        start: Message | None = None
        body = bytearray()

        async def held(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            hashes = inline_script_hashes(body.decode("utf-8", errors="replace"))
            _stamp(start, policy(hashes))
            await send(start)
            await send({"type": "http.response.body", "body": bytes(body)})

        await self.app({**scope, "headers": headers}, receive, held)


def add_security_headers(app: Starlette) -> None:
    """Wrap the whole app, outside even Starlette's handler of unexpected errors, so that a
    500 carries the headers too (``add_middleware`` would place it inside that handler)."""
    build = app.build_middleware_stack

    def secured() -> ASGIApp:
        return SecurityHeaders(build())

    app.build_middleware_stack = secured  # type: ignore[method-assign]
