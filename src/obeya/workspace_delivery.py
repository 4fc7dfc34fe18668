"""Two parts of the :class:`~obeya.workspace.Workspace`: ``delivery`` (deployments, changes
and incidents beside the flow, and their DORA metrics) and ``connectors`` (the live
connectors that fill a stream from a tracker). The CLI, the API and the pages call these.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from obeya.errors import ConnectorError, InputError, ObeyaError

if TYPE_CHECKING:
    import httpx

    from obeya.connectors.base import Progress, Source
    from obeya.core.delivery.dora import DoraReport
    from obeya.core.delivery.records import DeliveryHistory
    from obeya.core.workflow import Workflow
    from obeya.store import Store
    from obeya.store.connectors import ConnectorInfo, SyncStored
    from obeya.store.delivery import DeliveryCounts
    from obeya.workspace import Workspace

#: The kinds of delivery file ``obeya import KIND FILE`` reads.
DELIVERY_KINDS = ("deployments", "changes", "incidents")
#: What the token variable of a connector added through the API or a page must begin with.
REMOTE_SECRET_PREFIX = "OBEYA_TOKEN_"
#: The environment variable names a connector's secret may live in: letters, digits, _.
_ENV_NAME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class Delivery:
    """A stream's deployments, changes and incidents, and its DORA metrics."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    @property
    def store(self) -> Store:
        return self._workspace.store

    def import_file(self, kind: str, path: str | Path, stream: str) -> DeliveryCounts:
        """Read a deployments, changes or incidents CSV into the stream (created if new); all
        or nothing, and the same file again changes nothing."""
        from obeya.core.delivery.records import DeliveryHistory
        from obeya.ingest.delivery import read_changes, read_deployments, read_incidents

        if kind not in DELIVERY_KINDS:
            raise InputError(f"import {kind!r}: give one of {', '.join(DELIVERY_KINDS)}")
        file = Path(path)
        if kind == "deployments":
            history = DeliveryHistory(deployments=read_deployments(file))
        elif kind == "changes":
            history = DeliveryHistory(changes=read_changes(file))
        else:
            history = DeliveryHistory(incidents=read_incidents(file))
        counts = self.store.delivery.save(stream, history, source=file.name)
        return next(c for c in counts if c.kind == kind)

    def history(self, stream: str) -> DeliveryHistory:
        return self.store.delivery.load(stream)

    def dora(
        self, stream: str, *, since: date | None = None, until: date | None = None
    ) -> DoraReport:
        """The stream's delivery metrics over the window (default: its deployments' span)."""
        from obeya.core.delivery.dora import dora_report

        return dora_report(self.history(stream), since=since, until=until)


class Connectors:
    """Live connectors: what each pulls, into which stream, and their syncs."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    @property
    def store(self) -> Store:
        return self._workspace.store

    def add(
        self,
        name: str,
        kind: str,
        stream: str,
        settings: dict[str, Any],
        *,
        secret_env: str,
        workflow: Workflow | None = None,
        local: bool = False,
    ) -> ConnectorInfo:
        """Add a connector; its secret stays in the environment variable ``secret_env``.

        A connector sends that variable's value to the URL it names, so a caller from afar
        (the API, a page) may name only variables made for it, ``OBEYA_TOKEN_…``: never the
        server's own secrets (its database URL, its signing key). ``local``: the CLI, whose
        user owns the environment already."""
        if not secret_env or not set(secret_env) <= _ENV_NAME:
            raise InputError(
                f"connector {name!r}: the {{opt:token_env}} must name an environment variable "
                f"(letters, digits and _), got {secret_env!r}"
            )
        if not local and not secret_env.startswith(REMOTE_SECRET_PREFIX):
            raise InputError(
                f"connector {name!r}: the token's variable must begin with "
                f"{REMOTE_SECRET_PREFIX} (e.g. {REMOTE_SECRET_PREFIX}PAY), so that no other "
                f"variable of the server can be sent to a tracker; got {secret_env!r}"
            )
        # The settings are checked (with a stand-in token) before anything is saved.
        source_for(kind, name, settings, "token-checked-at-sync", None)
        return self.store.connectors.add(name, kind, stream, settings, secret_env, workflow)

    def list(self) -> list[ConnectorInfo]:
        return self.store.connectors.all()

    def get(self, name: str) -> ConnectorInfo:
        return self.store.connectors.get(name)

    def remove(self, name: str) -> None:
        self.store.connectors.delete(name)

    def sync(
        self,
        name: str,
        *,
        progress: Progress | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> SyncStored:
        """Pull what changed since the connector's checkpoint and store it, all or nothing;
        a failure is kept as the connector's last result and raised."""
        info = self.store.connectors.get(name)
        started = datetime.now(UTC)
        secret = os.environ.get(info.secret_env)
        try:
            if not secret:
                raise ConnectorError(
                    name, f"the environment variable {info.secret_env} holding its token is unset"
                )
            # The stream's workflow names the label that marks an item blocked (GitHub, GitLab).
            workflow = self.store.stream_workflow(info.stream)
            blocked_label = workflow.blocked_label if workflow is not None else None
            source = source_for(
                info.kind,
                name,
                info.settings,
                secret,
                transport,
                sleep,
                blocked_label=blocked_label,
            )
            batch = source.pull(info.checkpoint, progress)
            return self.store.connectors.save_sync(name, batch, started=started)
        except ObeyaError as error:
            self.store.connectors.save_failure(name, str(error), started=started)
            raise


def source_for(
    kind: str,
    name: str,
    settings: dict[str, Any],
    secret: str,
    transport: httpx.BaseTransport | None,
    sleep: Callable[[float], None] | None = None,
    *,
    blocked_label: str | None = None,
) -> Source:
    """The tracker client of a connector, from its stored settings and its secret;
    ``blocked_label`` (the stream's workflow's) makes a GitHub or GitLab client record
    blockers from that label."""
    import time

    from obeya.connectors.github import GitHubConfig, GitHubSource
    from obeya.connectors.gitlab import GitLabConfig, GitLabSource
    from obeya.connectors.jira import JiraConfig, JiraSource

    known: dict[str, tuple[Any, Any]] = {
        "jira": (JiraConfig, JiraSource),
        "github": (GitHubConfig, GitHubSource),
        "gitlab": (GitLabConfig, GitLabSource),
    }
    if kind not in known:
        raise InputError(f"connector {name!r}: kind {kind!r} is none of {', '.join(known)}")
    config_type, source_type = known[kind]
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    fields.pop("state_names", None)
    if blocked_label is not None and kind in ("github", "gitlab"):
        fields["blocked_label"] = blocked_label
    try:
        config = config_type(name=name, token=secret, **fields)
    except TypeError as error:
        raise InputError(
            f"connector {name!r}: settings do not fit a {kind} connector: {error}"
        ) from None
    source: Source = source_type(config, transport=transport, sleep=sleep or time.sleep)
    return source
