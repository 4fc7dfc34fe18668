"""Wrong passwords are limited per user name *and* address: after
:attr:`SignInLimiter.max_failures` failures within the window for one name from one address,
sign-in with that name from that address is refused (429) until the oldest of them leaves the
window, even with the right password. The same name from another address, or another name from
that address, is not held up: a colleague behind the same proxy is not locked out, nor is the
user themselves from elsewhere. A right password clears the pair's count.

The failures are kept in the store (table ``sign_in_failures``), not in a process: the limit
holds for any number of server processes. Each attempt is written *before* the password is
checked, and counted after that write has committed, so attempts racing in several processes
cannot all slip under the limit: of any attempts let through at once, the last to commit has
seen the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from obeya.errors import TooManyAttempts

#: Longest name and address kept for a count (the form may send anything).
MAX_KEY_LENGTH = 200


def _now() -> datetime:
    return datetime.now(UTC)


class FailureStore(Protocol):
    """What the limiter needs of the store (its part :class:`obeya.store.users.SignIns`)."""

    def add(self, name: str, address: str, at: datetime, since: datetime) -> int:
        """Note an attempt (forgetting those older than ``since``); its id."""
        ...

    def recent(self, name: str, address: str, since: datetime) -> list[tuple[int, datetime]]:
        """The attempts of the pair after ``since``: (id, time), oldest first."""
        ...

    def forget(self, name: str, address: str, attempt: int | None = None) -> None:
        """Forget one attempt (``attempt``), or the pair's every attempt."""
        ...


class SignInLimiter:
    """The rule (how many failures, how long a window, which clock); the counts are the
    store's. One per app, shared by its requests."""

    def __init__(
        self,
        max_failures: int = 5,
        window_seconds: float = 15 * 60,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self._clock = clock

    def begin(self, attempts: FailureStore, name: str, address: str) -> int:
        """Note an attempt of ``name`` from ``address`` and return its id, or raise
        TooManyAttempts (with the seconds to wait) if the pair is over the limit. Until
        :meth:`succeeded`, the attempt counts as a failure."""
        name, address = name[:MAX_KEY_LENGTH], address[:MAX_KEY_LENGTH]
        now = self._clock()
        since = now - self.window
        attempt = attempts.add(name, address, now, since)
        earlier = [at for i, at in attempts.recent(name, address, since) if i != attempt]
        if len(earlier) < self.max_failures:
            return attempt
        attempts.forget(name, address, attempt)  # a refusal is not a guess
        # The count falls below the limit when this many of the oldest have left the window.
        leaving = earlier[len(earlier) - self.max_failures]
        wait = max(1, math.ceil((leaving + self.window - now).total_seconds()))
        raise TooManyAttempts(
            f"too many wrong passwords; try again in {wait} seconds", retry_after=wait
        )

    def succeeded(self, attempts: FailureStore, name: str, address: str) -> None:
        """A right password: the pair's count starts again."""
        attempts.forget(name[:MAX_KEY_LENGTH], address[:MAX_KEY_LENGTH])

    def abandoned(self, attempts: FailureStore, name: str, address: str, attempt: int) -> None:
        """An attempt that tried no password (the check itself failed): not a guess."""
        attempts.forget(name[:MAX_KEY_LENGTH], address[:MAX_KEY_LENGTH], attempt)
