"""The DORA performance bands: elite, high, medium or low, per metric.

The bands are the software delivery performance clusters of the 2023 *Accelerate State of
DevOps* report (DORA, Google Cloud). In the report's words, per cluster: deployment frequency;
change lead time; change failure rate; failed deployment recovery time:

- **elite**: on demand (multiple deploys per day); less than one day;
  5 %; less than one hour;
- **high**: between once per day and once per week; between one day and one week;
  10 %; less than one day;
- **medium**: between once per week and once per month; between one week and one
  month; 15 %; between one day and one week;
- **low**: between once per week and once per month; between one week and one month;
  64 %; between one month and six months.

The low row repeats the medium row's frequency and lead time: the clusters come from a survey
and overlap. Turning the words into numbers takes choices, made here once:

- **Units.** A day is 24 hours, a week 7 days (168 hours), a month 30 days (720 hours).
- **Deployment frequency** is measured as *deployment days per week*: distinct UTC days with a
  counted deployment ÷ weeks in the window (a team deploying every day scores 7; one
  deploying once a week, 1). "Once per week" is 1 deployment day per week, "once per month"
  7/30 ≈ 0.233. "On demand (multiple deploys per day)" is read as deploying on every working
  day (at least 5 deployment days per week) *and* more than one counted deployment per day of
  the window on average (``per_day > 1``): a team that deploys once every day has reached
  "once per day", the top of high, not more. So: elite = 5 or more deployment days per week
  and more than one deployment per day; high = at least 1 deployment day per week; medium =
  at least 7/30; low = less often (the report's low row repeats medium's words; less than once
  per month is all that is left for it).
- **Change lead time** and **recovery time** are the median (p50) in hours. "Less than X"
  excludes X. A boundary that two neighbouring bands both name ("between one day and one
  week" and "between one week and one month" both name one week) belongs to the better band.
  Lead time: elite < 24 h; high 24 h to 168 h; medium above 168 h to 720 h; low above 720 h
  (the report's low row repeats medium's words). Recovery: elite < 1 h; high 1 h to < 24 h;
  medium 24 h to 168 h; low above 168 h: the report's low cluster starts at one month, and
  a recovery slower than medium's slowest (one week) but faster than a month falls in no
  cluster, so it is classed with the nearest slower one, low.
- **Change failure rate**: the report gives each cluster one figure, not a range. A rate up to
  and including a cluster's figure is in that cluster: elite ≤ 5 %, high ≤ 10 %, medium
  ≤ 15 %, low above 15 % (the low cluster's typical 64 % is not a limit).

Every function returns None when there is no figure to classify (no data).
"""

from __future__ import annotations

from typing import Literal

Band = Literal["elite", "high", "medium", "low"]

#: The report the bands come from.
SOURCE = "DORA, Accelerate State of DevOps 2023: software delivery performance clusters"

DAY_HOURS = 24.0
WEEK_HOURS = 7 * DAY_HOURS
MONTH_DAYS = 30
MONTH_HOURS = MONTH_DAYS * DAY_HOURS

# Deployment frequency, in deployment days per week (and deployments per day for elite).
#: Elite ("on demand"): deployments on every working day on average ...
ELITE_MIN_DEPLOYMENT_DAYS_PER_WEEK = 5.0
#: ... and more than this many counted deployments per day of the window ("multiple a day").
ELITE_MORE_THAN_DEPLOYMENTS_PER_DAY = 1.0
#: High: at least once per week.
HIGH_MIN_DEPLOYMENT_DAYS_PER_WEEK = 1.0
#: Medium: at least once per month (7 days a week / 30 days a month).
MEDIUM_MIN_DEPLOYMENT_DAYS_PER_WEEK = 7 / MONTH_DAYS

# Change lead time, median in hours.
#: Elite: less than one day.
ELITE_LEAD_TIME_BELOW_HOURS = DAY_HOURS
#: High: up to one week.
HIGH_LEAD_TIME_MAX_HOURS = WEEK_HOURS
#: Medium: up to one month.
MEDIUM_LEAD_TIME_MAX_HOURS = MONTH_HOURS

# Change failure rate, a fraction: each cluster's own figure, inclusive.
ELITE_CHANGE_FAILURE_RATE = 0.05
HIGH_CHANGE_FAILURE_RATE = 0.10
MEDIUM_CHANGE_FAILURE_RATE = 0.15
#: The low cluster's typical rate: shown in documents, never used as a limit.
LOW_CHANGE_FAILURE_RATE = 0.64

# Failed deployment recovery time, median in hours.
#: Elite: less than one hour.
ELITE_RECOVERY_BELOW_HOURS = 1.0
#: High: less than one day.
HIGH_RECOVERY_BELOW_HOURS = DAY_HOURS
#: Medium: up to one week.
MEDIUM_RECOVERY_MAX_HOURS = WEEK_HOURS


def deployment_frequency_band(days_per_week: float | None, per_day: float | None) -> Band | None:
    """The band of ``days_per_week`` (distinct deployment days ÷ weeks) and ``per_day``
    (counted deployments ÷ days of the window)."""
    if days_per_week is None or per_day is None:
        return None
    if (
        days_per_week >= ELITE_MIN_DEPLOYMENT_DAYS_PER_WEEK
        and per_day > ELITE_MORE_THAN_DEPLOYMENTS_PER_DAY
    ):
        return "elite"
    if days_per_week >= HIGH_MIN_DEPLOYMENT_DAYS_PER_WEEK:
        return "high"
    if days_per_week >= MEDIUM_MIN_DEPLOYMENT_DAYS_PER_WEEK:
        return "medium"
    return "low"


def lead_time_band(p50_hours: float | None) -> Band | None:
    """The band of the median change lead time in hours."""
    if p50_hours is None:
        return None
    if p50_hours < ELITE_LEAD_TIME_BELOW_HOURS:
        return "elite"
    if p50_hours <= HIGH_LEAD_TIME_MAX_HOURS:
        return "high"
    if p50_hours <= MEDIUM_LEAD_TIME_MAX_HOURS:
        return "medium"
    return "low"


def change_failure_rate_band(rate: float | None) -> Band | None:
    """The band of a change failure rate given as a fraction (0.05 is 5 %)."""
    if rate is None:
        return None
    if rate <= ELITE_CHANGE_FAILURE_RATE:
        return "elite"
    if rate <= HIGH_CHANGE_FAILURE_RATE:
        return "high"
    if rate <= MEDIUM_CHANGE_FAILURE_RATE:
        return "medium"
    return "low"


def recovery_time_band(p50_hours: float | None) -> Band | None:
    """The band of the median failed deployment recovery time in hours."""
    if p50_hours is None:
        return None
    if p50_hours < ELITE_RECOVERY_BELOW_HOURS:
        return "elite"
    if p50_hours < HIGH_RECOVERY_BELOW_HOURS:
        return "high"
    if p50_hours <= MEDIUM_RECOVERY_MAX_HOURS:
        return "medium"
    return "low"
