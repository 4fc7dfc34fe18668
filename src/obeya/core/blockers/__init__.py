"""Blocked time: impediments laid over each item's cycle (docs/conventions.md, "Blocked
time"). Plain Python over integer microseconds; :mod:`.measure` fetches what the figures
need (item spans, active visits) from a flow backend and loads on first use."""

from obeya.core.blockers.figures import BlockedFigures, BlockedNow, blocked_figures
from obeya.core.blockers.model import Blocker

__all__ = ["BlockedFigures", "BlockedNow", "Blocker", "blocked_figures"]
