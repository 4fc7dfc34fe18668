"""How large a request body may be: one limit per kind of route, enforced while it streams.

Uploads (imports) take ``upload`` bytes; the sign-in forms, open to anyone, a few kilobytes;
every other body (a JSON document, a form) ``body`` bytes. :mod:`obeya.api.gate` applies
them, after the caller is known and before the body is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException

from obeya.errors import ObeyaError
from obeya.settings import SETTINGS, setting

#: Default upload limit (imports) and of any other body (a JSON document, a form).
MAX_UPLOAD_BYTES = SETTINGS["OBEYA_MAX_UPLOAD_BYTES"].default
MAX_BODY_BYTES = SETTINGS["OBEYA_MAX_BODY_BYTES"].default
#: Bodies anyone may send (the sign-in forms): 16 KiB.
PUBLIC_BODY_BYTES = 16 * 1024
#: Room for the multipart envelope and the form's text fields beside an uploaded file.
ENVELOPE_BYTES = 1 << 20


class BodyTooLarge(ObeyaError, HTTPException):
    """A request body over its route's limit (413).

    Also an HTTPException, because FastAPI lets only those out of its body parser unchanged
    (anything else becomes a 400 "error parsing the body")."""

    http_status = 413

    def __init__(self, limit: int, what: str = "the request body") -> None:
        message = f"{what} is larger than the limit of {_size(limit)}"
        ObeyaError.__init__(self, message)
        HTTPException.__init__(self, status_code=413, detail=message)
        self.limit = limit

    def __str__(self) -> str:
        return str(self.detail)


def _size(limit: int) -> str:
    if limit >= 1_000_000:
        return f"{limit / 1_000_000:,.0f} MB"
    return f"{limit / 1000:,.0f} kB"


@dataclass(frozen=True)
class BodyLimits:
    """How many bytes a request body may have, by the kind of route."""

    upload: int = MAX_UPLOAD_BYTES
    body: int = MAX_BODY_BYTES
    public: int = PUBLIC_BODY_BYTES

    @classmethod
    def from_environment(cls, upload: int | None = None) -> BodyLimits:
        """Defaults, overridden by ``OBEYA_MAX_UPLOAD_BYTES`` and ``OBEYA_MAX_BODY_BYTES``."""
        return cls(
            upload=upload if upload is not None else setting("OBEYA_MAX_UPLOAD_BYTES"),
            body=setting("OBEYA_MAX_BODY_BYTES"),
        )

    def of(self, *, upload: bool, public: bool) -> int:
        if upload:
            return self.upload + ENVELOPE_BYTES
        return self.public if public else self.body
