"""Scheduled syncs: the interval is read and bounded; a round syncs every connector, keeps a
failing one's error as its last result and goes on with the others."""

from __future__ import annotations

import threading

import pytest

from connectors.fake_jira import Change, FakeJira, Issue
from connectors.fake_jira import serve as serve_jira
from obeya.connectors.schedule import parse_interval, run_schedule
from obeya.errors import InputError
from obeya.workspace import Workspace


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("1h", 3600), ("90s", 90), ("1d", 86400), (" 2H ", 7200)]
)
def test_intervals(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize(("text", "why"), [("30s", "under a minute"), ("soon", "not an interval")])
def test_bad_intervals_name_the_option(text: str, why: str) -> None:
    with pytest.raises(InputError, match=f"--sync-every: '{text}' is {why}"):
        parse_interval(text)


def test_a_round_syncs_each_connector_and_keeps_going_past_a_failure(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeJira(
        [Issue("PAY-1", "2024-01-02T08:00", [Change("2024-01-03T09:00", "Done")])],
        token="t0ken",
    )
    monkeypatch.setenv("OBEYA_TOKEN_GOOD", "t0ken")
    with serve_jira(fake) as url, Workspace(database_url) as ws:
        ws.initialise()
        settings = {"url": url, "jql": "project = PAY", "email": "ann@example.com"}
        # "broken" reads a variable that is not set: its round fails, "good" still syncs.
        ws.connectors.add("broken", "jira", "B", settings, secret_env="OBEYA_TOKEN_UNSET_VARIABLE")
        ws.connectors.add("good", "jira", "G", settings, secret_env="OBEYA_TOKEN_GOOD")
        stop = threading.Event()
        rounds: list[dict[str, str | None]] = []

        def once(outcome: dict[str, str | None]) -> None:
            rounds.append(outcome)
            stop.set()

        run_schedule(database_url, 60, stop, on_round=once)
        [outcome] = rounds
        assert outcome["good"] is None
        assert outcome["broken"] == (
            "connector 'broken': the environment variable OBEYA_TOKEN_UNSET_VARIABLE holding its "
            "token is unset"
        )
        assert ws.stream("G").events == 2 and ws.stream("B").events == 0
        broken = ws.connectors.get("broken").last_result
        assert broken is not None and broken["ok"] is False
