"""Who may call each route: the whole access policy of the web app, one line per route.

A rule names the role needed and where it is needed:

* ``stream`` — on the stream in the path (parameter ``name``, or ``stream``);
* ``map`` — on the stream the map belongs to (the workspace for a map of no stream);
* ``record`` — on the stream the record belongs to: the query's ``stream`` (keys are unique
  per stream), else the one stream holding the key (the workspace for teams, people...);
* ``connector`` — on the stream the connector fills;
* ``workspace`` — on the workspace itself (reading it needs any role; see
  :meth:`~obeya.core.access.Principal.allows`);
* ``user`` — any signed-in user: the route shows only what the user may see (lists), or
  computes on what the request carries (simulation, critical path), or checks a stream named
  in the body itself (imports, saves);
* ``public`` — no sign-in (the sign-in pages).

:func:`check_coverage` refuses to build an app with a route this table does not name, so a
new route cannot be left open by mistake.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from obeya.core.access import Role

Scope = Literal["stream", "map", "record", "connector", "workspace", "user", "public"]

V, E, A = Role.VIEWER, Role.EDITOR, Role.ADMIN
UPLOAD = True


@dataclass(frozen=True)
class Rule:
    need: Role
    scope: Scope
    param: str = "name"
    #: The body is a file to import: it may be as large as the upload limit.
    upload: bool = False


def _rules() -> dict[tuple[str, str], Rule]:
    stream: Scope = "stream"
    stream_param = "stream"
    table: dict[tuple[str, str], tuple[Any, ...]] = {
        # The service and its documentation
        ("GET", "/api/health"): (V, "user"),
        ("GET", "/openapi.json"): (V, "public"),  # the schema only, as a client needs it
        ("GET", "/docs"): (V, "user"),
        # Sign-in (web/auth_pages.py) and who am I, users, tokens, audit (api/routes_access.py)
        ("GET", "/sign-in"): (V, "public"),
        ("POST", "/sign-in"): (V, "public"),
        ("GET", "/sign-in/link"): (V, "public"),  # the link's page: a button, no change
        ("POST", "/sign-in/link"): (V, "public"),
        ("GET", "/favicon.ico"): (V, "public"),  # the icon, as /static/favicon.svg
        ("POST", "/sign-out"): (V, "user"),
        ("GET", "/api/me"): (V, "user"),
        ("GET", "/api/users"): (V, "user"),
        ("POST", "/api/users"): (V, "user"),
        ("DELETE", "/api/users/{user}/roles"): (V, "user"),
        ("GET", "/api/tokens"): (V, "user"),
        ("POST", "/api/tokens"): (V, "user"),
        ("DELETE", "/api/tokens/{token_id}"): (V, "user"),
        ("GET", "/api/audit"): (V, "user"),
        ("GET", "/access"): (V, "user"),  # the admin's page: roles and the audit log
        ("POST", "/access/roles"): (V, "user"),
        ("POST", "/access/roles/remove"): (V, "user"),
        # Streams, flow, charts, imports
        ("GET", "/api/streams"): (V, "user"),
        ("POST", "/api/streams"): (E, "workspace"),
        ("GET", "/api/streams/{name}"): (V, stream),
        ("DELETE", "/api/streams/{name}"): (A, stream),
        ("PATCH", "/api/streams/{name}"): (A, stream),  # rename
        ("GET", "/api/streams/{name}/flow"): (V, stream),
        ("GET", "/api/charts"): (V, "user"),
        ("GET", "/api/streams/{name}/charts/{chart}"): (V, stream),
        ("POST", "/api/streams/{name}/import"): (E, stream, "name", UPLOAD),
        # Maps
        ("GET", "/api/maps"): (V, "user"),
        ("GET", "/api/maps/{name}/compare"): (V, "map"),
        ("GET", "/api/maps/{name}/{variant}"): (V, "map"),
        ("PUT", "/api/maps/{name}/{variant}"): (E, "map"),
        ("GET", "/api/maps/{name}/{variant}/history"): (V, "map"),
        ("POST", "/api/maps/{name}/{variant}/copy"): (E, "map"),
        ("GET", "/api/maps/{name}/{variant}/figures"): (V, "map"),
        ("GET", "/api/maps/{name}/{variant}/drawing"): (V, "map"),
        ("GET", "/api/maps/{name}/{variant}/scenario"): (V, "map"),
        ("GET", "/api/streams/{stream}/map"): (V, stream, stream_param),
        ("POST", "/api/streams/{stream}/map"): (E, stream, stream_param),
        # A move needs admin where the map is (every variant) and, in the route, where it goes
        ("POST", "/api/maps/{name}/move"): (A, "map"),
        # Forecasts and simulation
        ("GET", "/api/streams/{name}/forecast/when"): (V, stream),
        ("GET", "/api/streams/{name}/forecast/when/chart"): (V, stream),
        ("GET", "/api/streams/{name}/forecast/how-many"): (V, stream),
        ("GET", "/api/streams/{name}/forecast/how-many/chart"): (V, stream),
        ("GET", "/api/streams/{name}/forecast/backtest"): (V, stream),
        ("GET", "/api/streams/{name}/twin"): (V, stream),
        ("GET", "/api/streams/{name}/twin/file"): (V, stream),
        ("GET", "/api/streams/{name}/twin/holdout"): (V, stream),
        ("POST", "/api/streams/{name}/twin/what-if"): (V, stream),  # computes, saves nothing
        ("POST", "/api/simulate"): (V, "user"),
        ("POST", "/api/what-if"): (V, "user"),
        # Delivery (DORA) and connectors
        ("GET", "/api/streams/{name}/dora"): (V, stream),
        ("POST", "/api/streams/{name}/delivery/{kind}"): (E, stream, "name", UPLOAD),
        ("GET", "/api/connectors"): (V, "user"),
        # A connector binds a server variable to a URL: the workspace's admins add them.
        ("POST", "/api/connectors"): (A, "workspace"),
        ("POST", "/api/connectors/{connector}/sync"): (E, "connector"),
        ("DELETE", "/api/connectors/{connector}"): (A, "connector"),
        # Steering
        ("GET", "/api/records/{kind}"): (V, "user"),
        ("POST", "/api/records/{kind}"): (V, "user"),  # the route checks the body's stream
        ("GET", "/api/records/{kind}/{key}"): (V, "record"),
        ("PUT", "/api/records/{kind}/{key}"): (E, "record"),
        ("GET", "/api/records/{kind}/{key}/history"): (V, "record"),
        ("DELETE", "/api/records/{kind}/{key}"): (A, "record"),
        ("POST", "/api/records/{kind}/{key}/move"): (A, "record"),
        ("GET", "/api/streams/{name}/risks"): (V, stream),
        ("GET", "/api/streams/{name}/objectives"): (V, stream),
        ("GET", "/api/streams/{name}/roadmap"): (V, stream),
        ("GET", "/api/streams/{name}/overview"): (V, stream),
        ("GET", "/api/streams/{name}/plans/{key}"): (V, stream),
        ("GET", "/api/streams/{name}/experiments/{key}"): (V, stream),
        ("GET", "/api/streams/{name}/plans/{key}/drawing"): (V, stream),
        ("POST", "/api/deps/critical-path"): (V, "user"),
        ("POST", "/api/families/cluster"): (V, "user"),
        ("GET", "/api/streams/{name}/experiment"): (V, stream),
        ("GET", "/api/teams/coverage"): (V, "workspace"),
        # Pages
        ("GET", "/"): (V, "user"),
        ("POST", "/import"): (V, "user", "name", UPLOAD),
        ("GET", "/streams/{name}"): (V, stream),
        ("POST", "/streams/{name}/rename"): (A, stream),
        ("POST", "/streams/{name}/delete"): (A, stream),
        ("GET", "/maps"): (V, "user"),
        ("POST", "/streams/{stream}/map"): (E, stream, stream_param),
        ("GET", "/maps/{name}/compare"): (V, "map"),
        ("GET", "/maps/{name}/{variant}.svg"): (V, "map"),
        ("GET", "/maps/{name}/{variant}.png"): (V, "map"),
        ("GET", "/maps/{name}/{variant}.json"): (V, "map"),
        ("GET", "/maps/{name}/{variant}"): (V, "map"),
        ("POST", "/maps/{name}/{variant}/preview"): (V, "map"),
        ("POST", "/maps/{name}/{variant}"): (E, "map"),
        ("POST", "/maps/{name}/{variant}/copy"): (E, "map"),
        ("GET", "/streams/{name}/forecast"): (V, stream),
        ("GET", "/streams/{name}/twin"): (V, stream),
        ("GET", "/simulate"): (V, "user"),
        ("POST", "/simulate/upload"): (V, "user"),
        ("POST", "/simulate/run"): (V, "user"),
        ("GET", "/streams/{name}/risks"): (V, stream),
        ("POST", "/streams/{name}/risks"): (E, stream),
        ("POST", "/streams/{name}/risks/{key}"): (E, stream),
        ("POST", "/streams/{name}/blockers/{kind}"): (E, stream),  # an impediment → a record
        ("GET", "/streams/{name}/{page}/{key}/history"): (V, stream),
        ("GET", "/streams/{name}/objectives"): (V, stream),
        ("POST", "/streams/{name}/objectives"): (E, stream),
        ("POST", "/streams/{name}/objectives/{key}/results/{result}"): (E, stream),
        ("GET", "/streams/{name}/roadmap"): (V, stream),
        ("POST", "/streams/{name}/roadmap"): (E, stream),
        ("POST", "/streams/{name}/kaizen-events"): (E, stream),
        ("GET", "/streams/{name}/overview"): (V, stream),
        ("GET", "/streams/{name}/report.html"): (V, stream),
        ("GET", "/streams/{name}/report.pdf"): (V, stream),
        ("GET", "/teams"): (V, "workspace"),
        ("POST", "/teams/{form_name}"): (E, "workspace"),
        ("GET", "/streams/{name}/dependencies"): (V, stream),
        ("POST", "/streams/{name}/dependencies"): (E, stream),
        ("GET", "/streams/{name}/dependencies/{key}"): (V, stream),
        ("POST", "/streams/{name}/dependencies/{key}/tasks"): (E, stream),
        ("POST", "/streams/{name}/dependencies/{key}/remove"): (E, stream),
        ("GET", "/streams/{name}/experiments"): (V, stream),
        ("POST", "/streams/{name}/experiments"): (E, stream),
        ("GET", "/streams/{name}/experiments/{key}"): (V, stream),
        # The workflow editor: preview and inference compute, saving needs an editor
        ("GET", "/streams/{name}/workflow"): (V, stream),
        ("POST", "/streams/{name}/workflow/preview"): (V, stream),  # computes, saves nothing
        ("POST", "/streams/{name}/workflow"): (E, stream),
        ("POST", "/streams/{name}/workflow/finish"): (E, stream),
        # Delivery and connectors pages
        ("GET", "/streams/{name}/delivery"): (V, stream),
        ("POST", "/streams/{name}/delivery"): (E, stream, "name", UPLOAD),
        ("GET", "/connectors"): (V, "user"),  # lists the connectors of streams the user sees
        ("POST", "/connectors"): (A, "workspace"),
        ("POST", "/connectors/{connector}/sync"): (E, "connector"),
        ("POST", "/connectors/{connector}/delete"): (A, "connector"),
    }
    return {key: Rule(*value) for key, value in table.items()}


RULES = _rules()


def rule_for(method: str, path: str) -> Rule | None:
    return RULES.get(("GET" if method == "HEAD" else method, path))


def check_coverage(routes: Iterable[tuple[str, str]]) -> None:
    """RuntimeError naming every (method, path) of the app that has no rule."""
    missing = sorted({(m, p) for m, p in routes if m != "HEAD" and (m, p) not in RULES})
    if missing:
        named = ", ".join(f"{m} {p}" for m, p in missing)
        raise RuntimeError(f"no access rule for {named}; add one to obeya.api.policy")
