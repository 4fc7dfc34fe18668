"""The limit on wrong passwords, on a fake clock."""

from __future__ import annotations

import pytest

from obeya.auth.ratelimit import SignInLimiter
from obeya.errors import TooManyAttempts

NAME, ADDRESS = "name:ana", "ip:10.0.0.1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock) -> SignInLimiter:
    return SignInLimiter(max_failures=5, window_seconds=60, clock=clock)


def wait_asked(limit: SignInLimiter, keys: list[str]) -> int:
    with pytest.raises(TooManyAttempts) as refused:
        limit.check(keys)
    assert refused.value.http_status == 429
    return refused.value.retry_after


def test_five_failures_in_the_window_refuse_until_the_oldest_leaves_it() -> None:
    clock = Clock()
    limit = limiter(clock)
    for i in range(5):  # at 1000, 1010, ..., 1040
        limit.check([NAME, ADDRESS])  # four failures or fewer: allowed
        clock.now = 1000.0 + 10 * i
        limit.failed([NAME, ADDRESS])
    clock.now = 1045.0
    assert wait_asked(limit, [NAME]) == 15  # the first failure leaves at 1060
    assert wait_asked(limit, [ADDRESS]) == 15
    assert wait_asked(limit, ["name:bo", ADDRESS]) == 15  # the address is limited too
    limit.check(["name:bo", "ip:10.0.0.2"])  # others are not
    clock.now = 1059.5
    assert wait_asked(limit, [NAME]) == 1  # rounded up
    clock.now = 1060.0
    limit.check([NAME, ADDRESS])  # four left in the window
    limit.failed([NAME])
    assert wait_asked(limit, [NAME]) == 10  # the oldest now is 1010's


def test_a_right_password_clears_the_name_but_not_the_address() -> None:
    clock = Clock()
    limit = limiter(clock)
    for _ in range(5):
        limit.failed([NAME, ADDRESS])
    limit.succeeded(NAME)
    limit.check([NAME])
    assert wait_asked(limit, [NAME, ADDRESS]) == 60


def test_failures_outside_the_window_do_not_count() -> None:
    clock = Clock()
    limit = limiter(clock)
    for _ in range(4):
        limit.failed([NAME])
    clock.now += 60
    limit.failed([NAME])
    limit.check([NAME])
