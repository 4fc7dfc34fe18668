"""Monte Carlo forecasts from a stream's daily throughput (docs/forecasting.md)."""

from obeya.core.forecast.montecarlo import (
    DEFAULT_HISTORY_DAYS,
    DEFAULT_MAX_DAYS,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    PERCENTILES,
    HowManyForecast,
    WhenForecast,
    default_start,
    history_window,
    how_many,
    when,
)

__all__ = [
    "DEFAULT_HISTORY_DAYS",
    "DEFAULT_MAX_DAYS",
    "DEFAULT_SEED",
    "DEFAULT_TRIALS",
    "PERCENTILES",
    "HowManyForecast",
    "WhenForecast",
    "default_start",
    "history_window",
    "how_many",
    "when",
]
