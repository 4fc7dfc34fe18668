"""The limit on wrong passwords, counted in the store per user name and address, on a fake
clock: the rule (five in the window, then refused until the oldest leaves it), per pair (a
colleague behind the same address, or the user from elsewhere, still signs in), and shared by
every process on the store (two workspaces over one database; threads racing)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from obeya.auth.ratelimit import SignInLimiter
from obeya.core.access import Role
from obeya.errors import AuthError, TooManyAttempts
from obeya.store.models import SignInFailureRow
from obeya.workspace import Workspace

PASSWORD, WRONG = "correct horse", "battery staple"
HERE, THERE = "10.0.0.1", "10.0.0.2"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = START + timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(clock: Clock) -> SignInLimiter:
    return SignInLimiter(max_failures=5, window_seconds=60, clock=clock)


@pytest.fixture
def ws(database_url: str) -> Iterator[Workspace]:
    with Workspace(database_url) as workspace:
        workspace.initialise()
        workspace.access.add_user("ana", Role.VIEWER, password=PASSWORD)
        workspace.access.add_user("bo", Role.VIEWER, password=PASSWORD)
        yield workspace


def fail(ws: Workspace, limiter: SignInLimiter, name: str = "ana", address: str = HERE) -> None:
    with pytest.raises(AuthError):
        ws.access.sign_in(name, WRONG, address, limiter)


def wait_asked(
    ws: Workspace, limiter: SignInLimiter, name: str = "ana", address: str = HERE
) -> int:
    """The Retry-After of a refused attempt (with the right password: refused all the same)."""
    with pytest.raises(TooManyAttempts) as refused:
        ws.access.sign_in(name, PASSWORD, address, limiter)
    assert refused.value.http_status == 429
    return refused.value.retry_after


def rows(ws: Workspace) -> int:
    with ws.store.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(SignInFailureRow)).scalar_one()


def test_five_failures_in_the_window_refuse_until_the_oldest_leaves_it(
    ws: Workspace, limiter: SignInLimiter, clock: Clock
) -> None:
    for i in range(5):  # at 0, 10, ..., 40
        clock.at(10 * i)
        fail(ws, limiter)
    clock.at(45)
    assert wait_asked(ws, limiter) == 15  # the first failure leaves at 60
    clock.at(59.5)
    assert wait_asked(ws, limiter) == 1  # rounded up
    clock.at(60)  # four left in the window: one more guess
    fail(ws, limiter)
    clock.at(61)
    assert wait_asked(ws, limiter) == 9  # the oldest now is 10's, leaving at 70
    # A refusal is not a guess: it adds nothing to wait for.
    assert wait_asked(ws, limiter) == 9
    assert rows(ws) == 5


def test_the_count_is_per_name_and_address(
    ws: Workspace, limiter: SignInLimiter, clock: Clock
) -> None:
    for _ in range(5):
        fail(ws, limiter, "ana", HERE)
    assert wait_asked(ws, limiter, "ana", HERE) == 60
    # The user from another address, and a colleague from the same one, sign in.
    assert ws.access.sign_in("ana", PASSWORD, THERE, limiter).name == "ana"
    assert ws.access.sign_in("bo", PASSWORD, HERE, limiter).name == "bo"
    # ... and what they did cleared only their own pairs.
    assert wait_asked(ws, limiter, "ana", HERE) == 60


def test_a_right_password_clears_the_pairs_count(
    ws: Workspace, limiter: SignInLimiter, clock: Clock
) -> None:
    for _ in range(4):
        fail(ws, limiter)
    assert ws.access.sign_in("ana", PASSWORD, HERE, limiter).name == "ana"
    for _ in range(4):  # four more, and still not locked: the count started again
        fail(ws, limiter)
    assert ws.access.sign_in("ana", PASSWORD, HERE, limiter).name == "ana"
    assert rows(ws) == 0


def test_an_unknown_name_counts_as_the_name_it_is_looked_up_as(
    ws: Workspace, limiter: SignInLimiter
) -> None:
    for spelling in ("ana", " ana", "ａｎａ", "ana ", "ａna"):  # NFKC: all 'ana'
        fail(ws, limiter, spelling)
    assert wait_asked(ws, limiter, "ana") == 60
    for _ in range(5):
        fail(ws, limiter, "nobody")
    assert wait_asked(ws, limiter, "nobody") == 60


def test_failures_outside_the_window_do_not_count_and_are_forgotten(
    ws: Workspace, limiter: SignInLimiter, clock: Clock
) -> None:
    for _ in range(4):
        fail(ws, limiter)
    clock.at(60)
    fail(ws, limiter)
    assert ws.access.sign_in("bo", PASSWORD, THERE, limiter).name == "bo"
    assert rows(ws) == 1  # the four old ones went when a new attempt came


def test_the_limit_holds_across_processes(database_url: str, clock: Clock) -> None:
    """Two server processes (two workspaces, two engines, one database): five failures in
    all, not five each."""
    with Workspace(database_url) as first, Workspace(database_url) as second:
        first.initialise()
        first.access.add_user("ana", Role.VIEWER, password=PASSWORD)
        limits = [SignInLimiter(5, 60, clock), SignInLimiter(5, 60, clock)]
        for i in range(5):
            fail((first, second)[i % 2], limits[i % 2])
        assert wait_asked(first, limits[0]) == 60
        assert wait_asked(second, limits[1]) == 60


def test_racing_guesses_get_no_more_than_the_limit(database_url: str) -> None:
    """Twelve guesses at once from four 'processes' (each its own engine, three threads each):
    at most five are tried, the others refused before any password is checked."""
    workspaces = [Workspace(database_url) for _ in range(4)]
    try:
        workspaces[0].initialise()
        workspaces[0].access.add_user("ana", Role.VIEWER, password=PASSWORD)
        limiter = SignInLimiter(5, 900)
        start = threading.Barrier(12)
        outcomes: list[str] = []

        def guess(ws: Workspace) -> None:
            start.wait()
            try:
                ws.access.sign_in("ana", WRONG, HERE, limiter)
            except AuthError:
                outcomes.append("tried")
            except TooManyAttempts:
                outcomes.append("refused")

        threads = [threading.Thread(target=guess, args=(workspaces[i % 4],)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(outcomes) == 12
        tried = outcomes.count("tried")
        assert 1 <= tried <= 5
        # A racing refusal may be early, never late: five guesses in all, then none.
        for _ in range(5 - tried):
            fail(workspaces[1], limiter)
        with pytest.raises(TooManyAttempts):
            workspaces[2].access.sign_in("ana", PASSWORD, HERE, limiter)
    finally:
        for ws in workspaces:
            ws.close()
