"""The one module that formats figures (obeya.render.numbers): expectations worked by hand."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from obeya.errors import InputError
from obeya.render import numbers as n

# -- reading a typed share ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [0.2, "0.2", ".2", "20%", "20 %", " 20 % ", "20\u00a0%", "20\u202f%", "20.0 %", "0.20"],
)
def test_a_fifth_typed_any_accepted_way_reads_as_0_2(typed: str | float) -> None:
    assert n.parse_share(typed) == pytest.approx(0.2)


def test_percent_with_decimals_and_the_bounds() -> None:
    assert n.parse_share("12.5 %") == pytest.approx(0.125)  # 12.5 / 100
    assert n.parse_share("0.5%") == pytest.approx(0.005)  # half a percent, not a half
    assert n.parse_share("0") == 0.0
    assert n.parse_share("1") == 1.0  # a bare 1 is the whole (a fraction), not 1 %
    assert n.parse_share("100 %") == 1.0
    assert n.parse_share(1) == 1.0


def test_a_bare_number_above_one_is_refused_naming_field_and_value() -> None:
    with pytest.raises(InputError) as caught:
        n.parse_share("20", field="holdout")
    error = caught.value
    assert error.field == "holdout"
    assert error.value == "20"
    # The message names the field and what was typed, and the two ways to write a fifth.
    assert str(error) == (
        "holdout is '20'; a share is a fraction up to 1 or a percentage: write 0.2 or 20 %"
    )


@pytest.mark.parametrize("typed", ["abc", "", "20 pct", "2O%", "%", "nan", "inf", "1e400"])
def test_text_that_is_no_share_is_refused(typed: str) -> None:
    with pytest.raises(InputError):
        n.parse_share(typed, field="share")


@pytest.mark.parametrize("typed", [math.nan, math.inf, True])
def test_a_non_finite_or_boolean_value_is_refused(typed: float) -> None:
    with pytest.raises(InputError):
        n.parse_share(typed)


def test_the_range_is_checked_after_reading_percent() -> None:
    with pytest.raises(InputError, match="from 0 % to 100 %"):
        n.parse_share("150 %")  # 1.5 > 1
    with pytest.raises(InputError, match="from 0 % to 100 %"):
        n.parse_share("-5 %")  # -0.05 < 0
    # A caller may allow a change either way, up to doubling: -50 % is -0.5.
    assert n.parse_share("-50 %", minimum=-1, maximum=2) == pytest.approx(-0.5)
    assert n.parse_share("150 %", minimum=-1, maximum=2) == pytest.approx(1.5)
    # ... but a bare 1.5 stays refused: 150 % must be written with its sign.
    with pytest.raises(InputError):
        n.parse_share("1.5", minimum=-1, maximum=2)


def test_a_blank_optional_share_is_none() -> None:
    assert n.parse_optional_share("") is None
    assert n.parse_optional_share("  ") is None
    assert n.parse_optional_share(None) is None
    assert n.parse_optional_share("5 %") == pytest.approx(0.05)


@pytest.mark.parametrize("value", [0.2, 0.05, 0.125, 1.0, 0.0, 0.333333])
def test_a_share_shown_for_editing_reads_back_to_itself(value: float) -> None:
    assert n.parse_share(n.share_text(value)) == pytest.approx(value, rel=1e-6)


def test_share_text_for_editing() -> None:
    assert n.share_text(0.2) == "20 %"
    assert n.share_text(0.125) == "12.5 %"
    assert n.share_text(None) == ""


# -- shares -------------------------------------------------------------------------------------


def test_a_share_shows_in_percent_with_a_space() -> None:
    assert n.share(0.227) == "23 %"  # 22.7 rounds up
    assert n.share(0.275, 1) == "27.5 %"
    assert n.share(0.2, 1) == "20 %"  # not "20.0 %"
    assert n.share(0.333, 1) == "33.3 %"
    assert n.share(1) == "100 %"
    assert n.share(0) == "0 %"
    assert n.share(12.345) == "1,234 %"  # 1234.5 -> 1,234 (half to even on the binary value)
    assert n.share(0.005, None) == "0.5 %"  # significant digits: half a percent
    assert n.share(None) == n.DASH
    assert n.share(math.nan) == n.DASH


def test_a_signed_share_is_an_effect() -> None:
    assert n.signed_share(0.275) == "+27.5 %"
    assert n.signed_share(-0.125) == "-12.5 %"
    assert n.signed_share(-0.12) == "-12 %"  # "-12.0": the zero says nothing
    assert n.signed_share(1.5) == "+150 %"
    assert n.signed_share(0.2345, 2) == "+23.45 %"
    assert n.signed_share(-0.0001) == "0 %"  # -0.01 % rounds to nothing: no sign
    assert n.signed_share(None) == "—"


# -- numbers ------------------------------------------------------------------------------------


def test_fixed_decimals_with_thousands_separated() -> None:
    assert n.number(1234.56, 1) == "1,234.6"
    assert n.number(1234567, 0) == "1,234,567"
    assert n.number(-0.04, 1) == "0.0"  # not "-0.0"
    assert n.number(-2.25, 1) == "-2.2"  # 2.25 is 2.2499... in binary
    assert n.number(None, 1) == "—"


def test_significant_digits_when_no_decimals_are_asked() -> None:
    assert n.number(0) == "0"
    assert n.number(1234.4) == "1,234"
    assert n.number(12.34) == "12.3"
    assert n.number(12.0) == "12"
    assert n.number(1.5) == "1.5"
    assert n.number(1.234) == "1.23"
    assert n.number(0.01234) == "0.0123"


def test_signed_and_significant() -> None:
    assert n.signed(1.5) == "+1.5"
    assert n.signed(-0.25, 2) == "-0.25"
    assert n.signed(0.0) == "0.0"
    assert n.significant(0.031234) == "0.0312"
    assert n.significant(None) == "—"


def test_money_and_stored_values() -> None:
    assert n.money(12345.6) == "12,346"
    assert n.show(0.1 + 0.2) == "0.3"  # 0.30000000000000004 to six significant digits
    assert n.show(True) == "yes"
    assert n.show(["a", 2]) == "a, 2"
    assert n.show([]) == "—"
    assert n.show("") == "—"


def test_rate_keeps_a_decimal_only_where_it_helps() -> None:
    assert n.rate(1.54) == "1.5"
    assert n.rate(1416.2) == "1,416"
    assert n.rate(None) == "—"


# -- counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "noun", "expected"),
    [
        (1, "person", "1 person"),
        (2, "person", "2 people"),
        (0, "person", "0 people"),
        (1, "risk", "1 risk"),
        (2, "risk", "2 risks"),
        (1, "day", "1 day"),
        (3, "dependency", "3 dependencies"),
        (2, "box", "2 boxes"),
        (2, "status", "2 statuses"),
        (1234, "item", "1,234 items"),
    ],
)
def test_a_count_agrees_with_its_noun(amount: int, noun: str, expected: str) -> None:
    assert n.count(amount, noun) == expected


def test_count_without_a_noun_or_with_a_given_plural() -> None:
    assert n.count(1234) == "1,234"
    assert n.count(None, "item") == "—"
    assert n.count(2, "criterion", "criteria") == "2 criteria"
    assert n.plural(1, "risk") == "risk"


# -- durations and dates ------------------------------------------------------------------------


def test_durations() -> None:
    assert n.days(12.34) == "12.3"
    assert n.duration_days(1) == "1 day"
    assert n.duration_days(2.5) == "2.5 days"
    assert n.duration_days(3.0) == "3 days"  # trailing zero dropped
    assert n.duration_days(None) == "—"
    assert n.hours(3.5) == "3.5 h"
    assert n.hours(96.0) == "96 h"  # three significant digits unless told
    assert n.hours(96.0, 1) == "96.0 h"
    assert n.days(3.0, 2, trim=True) == "3"
    assert n.days(2.25, 2, trim=True) == "2.25"
    assert n.days(2.5, 2) == "2.50"
    assert n.duration_hours(36) == "36.0 h"  # under two days: hours
    assert n.duration_hours(60) == "2.5 days"  # 60 / 24
    assert n.duration_hours(None) == "—"


def test_dates_are_iso() -> None:
    assert n.date(date(2024, 3, 5)) == "2024-03-05"
    assert n.date(datetime(2024, 3, 5, 14, 30)) == "2024-03-05"
    assert n.date("2024-03-05T14:30:00+00:00") == "2024-03-05"
    assert n.date(None) == "—"
    assert n.timestamp(datetime(2024, 3, 5, 14, 30, 59)) == "2024-03-05 14:30"
    assert n.timestamp("2024-03-05T09:05:00") == "2024-03-05 09:05"


def test_every_filter_gives_the_dash_for_nothing() -> None:
    for name, show in n.FILTERS.items():
        if name in {"plural", "share_text", "metric_value"}:
            continue
        assert show(None) == n.DASH, name


# -- figures already in percent, and the one reading of a share ----------------------------------


def test_a_figure_already_in_percent() -> None:
    assert n.percent(57.4) == "57 %"  # a backtest's hit rate, 57.4 % of origins
    assert n.percent(27.5, 1) == "27.5 %"
    assert n.percent(20.0, 1) == "20 %"  # not "20.0 %"
    assert n.percent(None) == "—"
    assert n.signed_percent(12.34) == "+12.3 %"
    assert n.signed_percent(-50.0) == "-50 %"
    assert n.signed_percent(0.04) == "0 %"  # rounds to no change: no sign
    # A share is the same figure, a hundredth of it: one rule for both.
    assert n.share(0.574) == n.percent(57.4)
    assert n.signed_share(-0.5) == n.signed_percent(-50)


def test_parse_share_is_defined_once_in_the_core() -> None:
    from obeya.core import shares

    assert n.parse_share is shares.parse_share
    assert n.parse_optional_share is shares.parse_optional_share


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.227, 0, "23 %"),  # 22.7 rounds up
        (0.275, 1, "27.5 %"),
        (0.2, 1, "20 %"),  # 20.0: the zero says nothing
        (12.345, 0, "1,234 %"),  # 1234.5, half to even on the binary value
        (-0.001, 0, "0 %"),  # -0.1 % rounds to nothing: no sign
    ],
)
def test_core_messages_and_the_pages_show_a_share_alike(
    value: float, digits: int, expected: str
) -> None:
    from obeya.core.shares import percent_of

    assert percent_of(value, digits) == expected
    assert n.share(value, digits) == expected


def test_the_formats_load_without_the_steering_core() -> None:
    # A metric's kind is looked up when asked; importing the formats must not load steering.
    import subprocess
    import sys

    code = (
        "import sys, obeya.render.numbers as n; "
        "assert 'obeya.core.steering.objectives' not in sys.modules; "
        "print(n.metric_value(0.235, 'flow_efficiency'), '|', n.metric_value(12.34, 'wip'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # flow_efficiency is a share: 23.5 % to a decimal; wip is items: three significant digits.
    assert done.stdout.strip() == "23.5 % | 12.3"
