"""The web application: the REST API (/api, OpenAPI at /docs) and the pages, in one app.

``obeya serve`` runs :func:`create_app` with the default workspace (``$OBEYA_DATABASE_URL``,
else ``$OBEYA_HOME/obeya.db``); tests pass a factory for a workspace of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from obeya.api import (
    routes_access,
    routes_delivery,
    routes_forecast,
    routes_maps,
    routes_simulation,
    routes_steering,
    routes_streams,
    routes_twin,
)
from obeya.api.auth import guard
from obeya.api.deps import AppContext, WorkspaceFactory, app_version
from obeya.api.errors import install_error_handlers
from obeya.api.gate import GuardedRoute
from obeya.api.headers import add_security_headers
from obeya.api.limits import BodyLimits
from obeya.api.policy import check_coverage
from obeya.auth.addresses import trusted_proxies
from obeya.auth.credentials import password_hasher
from obeya.auth.sessions import operator_key
from obeya.settings import check_environment
from obeya.web import (
    access_pages,
    auth_pages,
    delivery_pages,
    experiment_pages,
    forecast_pages,
    map_pages,
    overview_pages,
    pages,
    plan_pages,
    simulation_pages,
    steering_pages,
    team_pages,
    twin_pages,
    workflow_pages,
)
from obeya.workspace import Workspace

DESCRIPTION = """
Value streams and their flow, measured from real work-item history.

* **Streams**: list them, read one (with its workflow as TOML), upload a CSV, XES or Jira file.
* **Flow**: the flow report, the same JSON document as `obeya metrics --stream NAME --json`.
* **Charts**: Vega-Lite specs of the report (cumulative flow, cycle time, throughput, WIP,
  aging, distribution, time in state), ready for vega-embed.
* **Maps**: value stream maps saved in versions (who changed what and when), future-state
  variants compared, their figures, and the current state discovered from a stream.
* **Forecast**: Monte Carlo forecasts of a stream (when will N items be done, how many in D
  days), their histograms as Vega-Lite specs, and backtests; the same JSON documents as
  `obeya forecast … --stream NAME --json`.
* **Simulation**: simulate a scenario (SimPy) and compare future states with the current one
  (what-if, paired 95 % confidence intervals); a saved map as a scenario. The same JSON
  documents as `obeya simulate --json` and `obeya what-if --json`.
* **Steering**: risks, objectives, improvements, kaizen events, teams, people and stream
  profiles saved in versions (409 on a stale edit); the ROAM board, objectives with live key
  results, the roadmap (WSJF), skill coverage and the stream at a glance.

* **Access**: who am I, users and their roles per stream, API tokens, the audit log.

Every call needs `Authorization: Bearer TOKEN` (make one with `obeya token create NAME`, or
`POST /api/tokens` when signed in) or the session cookie of the sign-in page. No token: 401;
a role that does not allow the call on that stream: 403.

Every error has one shape: `{"error": {"type", "message", "detail"}}`.
"""


def create_app(
    workspace_factory: WorkspaceFactory | None = None,
    *,
    max_upload_bytes: int | None = None,
    limits: BodyLimits | None = None,
) -> FastAPI:
    """The app over the workspace ``workspace_factory`` makes (default: ``Workspace()``).

    The factory is called once, on the first request; the workspace is closed when the app
    shuts down. Body limits: ``limits``, else the defaults and the environment
    (:meth:`BodyLimits.from_environment`), with ``max_upload_bytes`` for uploads if given.
    """
    check_server_environment()
    ctx = AppContext(
        workspace_factory or Workspace,
        limits or BodyLimits.from_environment(upload=max_upload_bytes),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.obeya.close()  # the context the app holds at its end

    app = FastAPI(
        title="Obeya",
        summary="Value stream management: map the stream, measure its flow, steer it.",
        description=DESCRIPTION,
        version=app_version(),
        lifespan=lifespan,
        redoc_url=None,
        docs_url=None,  # served below from the vendored Swagger UI: no CDN, works offline
        # Every route: who is asking, may they (obeya.api.policy), CSRF on cookie sessions.
        dependencies=[Depends(guard)],
    )
    app.state.obeya = ctx
    app.router.route_class = GuardedRoute  # who is asking is settled before any body is read
    install_error_handlers(app, html=pages.error_page)
    add_security_headers(app)  # CSP, no framing, nosniff: every response, 500s too
    # Dashboards carry their chart data inline (hundreds of kB of JSON); it compresses ~10x.
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.include_router(routes_streams.router)
    app.include_router(routes_access.router)
    app.include_router(routes_maps.router)
    app.include_router(routes_forecast.router)
    app.include_router(routes_simulation.router)
    app.include_router(routes_twin.router)
    app.include_router(routes_delivery.router)
    app.include_router(routes_steering.router)
    app.include_router(pages.router)
    app.include_router(auth_pages.router)
    app.include_router(access_pages.router)
    app.include_router(map_pages.router)
    app.include_router(forecast_pages.router)
    app.include_router(twin_pages.router)
    app.include_router(simulation_pages.router)
    app.include_router(steering_pages.router)
    app.include_router(overview_pages.router)
    app.include_router(team_pages.router)
    app.include_router(plan_pages.router)
    app.include_router(experiment_pages.router)
    app.include_router(delivery_pages.router)
    app.include_router(workflow_pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    async def api_reference() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="Obeya API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    check_coverage(_routes(app))
    _document_bearer_auth(app)
    return app


def check_server_environment() -> None:
    """Read every setting of the environment the server uses (the limits, the trusted
    proxies, the secret key): one set wrong stops the server at start, naming the variable,
    not at the first request that reads it (a bad proxy list would fail every sign-in)."""
    check_environment()
    password_hasher()  # argon2's costs, checked together
    trusted_proxies()
    operator_key()


AUTH_RESPONSES = {
    "401": "Not signed in: no, or a bad, bearer token.",
    "403": "The user's role does not allow it here.",
}


def _document_bearer_auth(app: FastAPI) -> None:
    """Declare the bearer token in the OpenAPI document (Swagger's Authorize button, and
    clients generated from the document, then send it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `obeya token create NAME` or POST /api/tokens.",
                }
            }
            schema["security"] = [{"bearer": []}]
            # Every operation may answer 401 (no or a bad token) and 403 (the role).
            error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    for status, text in AUTH_RESPONSES.items():
                        responses.setdefault(status, {"description": text, "content": error})
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app answers, its own and its routers'."""
    found: list[tuple[str, str]] = []
    for route in app.routes:
        inner = getattr(getattr(route, "original_router", None), "routes", [route])
        for r in inner:
            for method in getattr(r, "methods", None) or ():
                found.append((method, r.path))
    return found
