"""The fields a risk or an improvement keeps of the impediment it came from
(core/blockers/impediments.py): a blocked item and its reason, or a cross-team pair; blank
when it came from elsewhere. Declared once for both documents."""

from __future__ import annotations

from typing import Annotated

from obeya.core.documents import text

BlockedItem = Annotated[
    str, text("Blocked item", "The blocked item of the impediment it came from.")
]
BlockedReason = Annotated[str, text("Blocker reason", "That item's blocker reason.")]
WaitingTeam = Annotated[str, text("Waiting team", "A cross-team impediment: the team waiting.")]
BlockingTeam = Annotated[
    str, text("Blocking team", "A cross-team impediment: the team it waits on.")
]
