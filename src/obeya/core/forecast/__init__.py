"""Monte Carlo forecasts from a stream's daily throughput, and their backtests
(docs/forecasting.md)."""

from obeya.core.forecast.backtest import (
    DEFAULT_BACKTEST_HISTORY_DAYS,
    DEFAULT_BACKTEST_SEED,
    DEFAULT_BACKTEST_TRIALS,
    DEFAULT_EVERY_DAYS,
    DEFAULT_HORIZON_DAYS,
    Backtest,
    BacktestPoint,
    backtest,
    backtest_when,
)
from obeya.core.forecast.dated import forecast_how_many, forecast_when
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
    "DEFAULT_BACKTEST_HISTORY_DAYS",
    "DEFAULT_BACKTEST_SEED",
    "DEFAULT_BACKTEST_TRIALS",
    "DEFAULT_EVERY_DAYS",
    "DEFAULT_HISTORY_DAYS",
    "DEFAULT_HORIZON_DAYS",
    "DEFAULT_MAX_DAYS",
    "DEFAULT_SEED",
    "DEFAULT_TRIALS",
    "PERCENTILES",
    "Backtest",
    "BacktestPoint",
    "HowManyForecast",
    "WhenForecast",
    "backtest",
    "backtest_when",
    "default_start",
    "forecast_how_many",
    "forecast_when",
    "history_window",
    "how_many",
    "when",
]
