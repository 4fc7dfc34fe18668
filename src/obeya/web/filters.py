"""The Jinja filters the page templates use, registered in one place.

:func:`register` is called where the page environment is made (``obeya.web.pages``), so a
template finds the same filters whichever page modules happen to be imported. The figures
themselves are formatted by :mod:`obeya.render.numbers`, the one home of formatting that the
CLI, the drawings and the PDF report use too.
"""

from __future__ import annotations

from jinja2 import Environment

from obeya.core.steering.objectives import METRICS
from obeya.render import numbers


def metric_value(value: float | None, metric: str | None, exact: bool = False) -> str:
    """A value of a flow metric (an experiment's, a key result's): a share metric (flow
    efficiency, defect share...) in percent, ``23.5 %``, as it shows on the dashboard; any
    other as a number (``exact``: as typed, for a target)."""
    if metric is not None and metric in METRICS and METRICS[metric][1] == "share":
        return numbers.share(value, 1)
    return numbers.show(value) if exact else numbers.number(value)


def register(env: Environment) -> None:
    """Give ``env`` every formatting filter (``number``, ``share``, ``count``, ``days``...)."""
    env.filters.update(numbers.FILTERS)
    env.filters["metric_value"] = metric_value
