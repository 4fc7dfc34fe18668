"""The Jinja filters the page templates use, registered in one place.

:func:`register` is called where the page environment is made (``obeya.web.pages``), so a
template finds the same filters whichever page modules happen to be imported. The filters are
:mod:`obeya.render.numbers`, the one home of formatting that the CLI, the drawings and the PDF
report use too (``number``, ``share``, ``signed_share``, ``count``, ``days``, ``date``...).
"""

from __future__ import annotations

from jinja2 import Environment

from obeya.render import numbers


def register(env: Environment) -> None:
    """Give ``env`` every formatting filter of :data:`obeya.render.numbers.FILTERS`."""
    env.filters.update(numbers.FILTERS)
