"""The delivery records: what a deployments, changes or incidents file (or a connector) holds.

Times are timezone-aware UTC datetimes. A deployment *counts* (for every DORA figure) only in
the production environment and with a successful result; the others are kept, so a re-import
or a later sync can see them change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: The environment and result a deployment must have to count.
PRODUCTION = "production"
SUCCESS = "success"


@dataclass(frozen=True)
class Deployment:
    deployment_id: str
    environment: str
    finished_at: datetime
    result: str

    @property
    def counts(self) -> bool:
        """Production and successful (compared without case or surrounding space)."""
        return (
            self.environment.strip().lower() == PRODUCTION
            and self.result.strip().lower() == SUCCESS
        )


@dataclass(frozen=True)
class Change:
    """A change (commit, merge request) and the production deployment that first shipped it."""

    change_id: str
    committed_at: datetime
    deployment_id: str


@dataclass(frozen=True)
class Incident:
    incident_id: str
    created_at: datetime
    resolved_at: datetime | None = None
    #: The deployment that caused it; None: the latest counted one finished before it.
    deployment_id: str | None = None


@dataclass(frozen=True)
class DeliveryHistory:
    """Everything a DORA report reads, for one stream or one set of files."""

    deployments: tuple[Deployment, ...] = ()
    changes: tuple[Change, ...] = ()
    incidents: tuple[Incident, ...] = ()
