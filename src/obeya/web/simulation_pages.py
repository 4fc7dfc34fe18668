"""The simulation page: a saved map (or an uploaded scenario file) simulated as it is, beside
a future state the user edits (servers, WIP limits, batch sizes, availability, arrival rate).

The baseline is the map's scenario (:func:`obeya.core.simulation.from_map.scenario_from_map`)
or the uploaded file's; the form carries it as JSON in a hidden field, so a run needs no state
on the server. "Run" turns the edited fields into what-if changes (``Build.servers=2``) and
asks what ``POST /api/what-if`` asks (``workspace.simulations.what_if``, with
the same size limits and work budget, in a worker thread that stops when the browser leaves),
so the page shows the figures of the API's document. With HTMX the
results are swapped in under the form; without JavaScript the form posts and the whole page
comes back.

The page sizes its run to the server's budget with the estimate the API refuses by
(:class:`~obeya.workspace_simulation.RunSize`): the default span is the longest of
:data:`PAGE_SPANS` whose current and future state fit together, the Days field says how many
days fit, and a run that is still too large is refused in the form's words, with values
that fit. A field takes a value or, as the CLI's changes do, a change from the current
state: ``+1``, ``-1``, ``+10 %`` (:func:`typed_change`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import time
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from obeya.api.auth import require_on, sees
from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.running import run_cancellable
from obeya.core.access import Role
from obeya.core.simulation import Scenario, ScenarioError, scenario_from_dict, scenario_to_dict
from obeya.core.simulation.engine import SimulationCancelled
from obeya.core.simulation.from_map import scenario_from_map
from obeya.core.simulation.scenario import scenario_toml
from obeya.core.simulation.whatif import SHARE_FIELDS, STEP_FIELDS, Change, parse_change
from obeya.core.tomlfile import parse_toml
from obeya.errors import InputError, ObeyaError
from obeya.render import numbers
from obeya.render.map_figures import map_share
from obeya.render.numbers import count, number, parse_share, share, signed_percent
from obeya.render.simulation import step_chart, what_if_chart
from obeya.web.forms import form_number
from obeya.web.map_pages import form_fields
from obeya.web.pages import templates
from obeya.workspace_simulation import (
    MAX_REPLICATIONS,
    RunSize,
    max_sim_events,
    request_size,
)

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]
Fields = Annotated[dict[str, str], Depends(form_fields)]

#: The page's run: shorter than the CLI's map conversion (2000 days), so a run takes seconds.
PAGE_DAYS = 1000.0
PAGE_WARMUP_DAYS = 100.0
PAGE_REPLICATIONS = 5
#: Spans (days) the page may start with, longest first: the first whose run fits the
#: server's budget is the default (then fewer replications, down to
#: :data:`FEWEST_REPLICATIONS`, at the shortest).
PAGE_SPANS = (1000, 500, 365, 200, 100, 50, 30)
#: The warm-up of a span the page shortens to fit: a tenth of it, as 100 of 1000 days.
WARMUP_SHARE = 0.1
#: Fewest replications the page starts with: two give a confidence interval.
FEWEST_REPLICATIONS = 2
#: Process times (days) shorter than this show as "< 0.001" (a map's 0 h is a millionth).
SHORTEST_SHOWN = 0.001
PAGE_SEED = 1
DEFAULT_FUTURE = "Future state"

#: The step fields the form edits: key (a what-if field), label, help.
EDITABLE = (
    ("servers", "Servers", "people or slots in parallel; 0 = unlimited"),
    ("wip_limit", "WIP limit", "items inside the step, its queue included; 0 = no limit"),
    ("batch_size", "Batch size", "items worked and moved on together"),
    ("availability", "Availability", "share of the time the servers can work: 0.8 or 80 %"),
)
#: What a field takes besides a value: a change from the current state, as the CLI writes it.
RELATIVE_HELP = "or a change from now: +1, −1, +10 %, −20 %"
#: The run's fields: key, label, help.
RUN_FIELDS = (
    ("days", "Days", "simulated span"),
    ("warmup_days", "Warm-up days", "left out of the figures"),
    ("replications", "Replications", f"independent runs, at most {MAX_REPLICATIONS}"),
    ("seed", "Seed", "the same seed gives the same figures"),
)
#: The compared figures: key of a difference, label, how to read it in the scenario document.
FIGURES = (
    ("lead_time_p50", "Lead time p50", "days"),
    ("lead_time_p85", "Lead time p85", "days"),
    ("lead_time_mean", "Lead time, mean", "days"),
    ("throughput_per_day", "Throughput", "items/day"),
    ("wip", "WIP", "items"),
)
#: Lower is better for these figures; higher for throughput.
_LOWER_BETTER = {"lead_time_p50", "lead_time_p85", "lead_time_mean", "wip"}


# -- formatting -------------------------------------------------------------------------------


def interval(ci: list[float] | None, digits: int = 2) -> str:
    return "" if ci is None else f"[{number(ci[0], digits)}, {number(ci[1], digits)}]"


def signed(value: float, digits: int = 2) -> str:
    """A difference, signed, with the page's typographic minus (−)."""
    return numbers.signed(value, digits).replace("-", "−")


def utilisation(value: float | None) -> str:
    """A step's utilisation as ``obeya simulate`` prints it: ``85 %``, ``72.5 %``."""
    return share(value, 1)


def process_days(value: float) -> str:
    """A process time in days for reading: ``0.387`` days as ``0.387``; a map's 0 h (the
    simulation's floor of a millionth of a day) as ``< 0.001``, not ``1e-06``."""
    return f"< {SHORTEST_SHOWN:g}" if value < SHORTEST_SHOWN else number(value)


def span_text(days: float) -> str:
    """Days of a run for reading: ``1,000``, ``100.5``."""
    return number(days, 2, trim=True)


def events_text(events: float) -> str:
    """Simulated events for reading: ``9.7 million``, ``360,000``."""
    if events >= 1e6:
        return f"{number(events / 1e6, 1, trim=True)} million"
    return count(round(events))


def field_text(value: float | int) -> str:
    """A scenario value in a form field, without float noise."""
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _figure(doc: Mapping[str, Any], key: str) -> tuple[float, list[float] | None]:
    if key.startswith("lead_time_"):
        part = key.removeprefix("lead_time_")
        return doc["lead_time_days"][part], doc["lead_time_days"].get(f"{part}_ci95")
    return doc[key], doc.get(f"{key}_ci95")


def results_view(doc: Mapping[str, Any], seconds: float) -> dict[str, Any]:
    """The results block: figures side by side with the paired differences, utilisation per
    step, the constraint, the charts, the future state's TOML; raw values kept for tests."""
    scenarios = doc["scenarios"]
    base, future = scenarios[0], scenarios[-1]
    # A current state that cannot keep up has no steady state: its figures grow with the
    # run, and so do the differences. They are shown, never shaded as better or worse.
    unstable = bool(base["warnings"])
    digits = {"wip": 1}
    rows = []
    for key, label, unit in FIGURES:
        cells = []
        for s in scenarios:
            value, ci = _figure(s, key)
            d = digits.get(key, 2)
            cells.append({"value": number(value, d), "ci": interval(ci, d), "raw": value})
        diffs = []
        for s in scenarios[1:]:
            diff = s["difference"][key]
            d = digits.get(key, 2)
            verdict = ""
            if diff["significant"] and not unstable:
                better = diff["value"] < 0 if key in _LOWER_BETTER else diff["value"] > 0
                verdict = "better" if better else "worse"
            diffs.append(
                {
                    "value": signed(diff["value"], d),
                    "ci": ""
                    if diff["ci95"] is None
                    else f"[{signed(diff['ci95'][0], d)}, {signed(diff['ci95'][1], d)}]",
                    "percent": ""
                    if diff["percent"] is None
                    else signed_percent(diff["percent"]).replace("-", "−"),
                    "significant": diff["significant"],
                    "verdict": verdict,
                    "raw": diff["value"],
                }
            )
        rows.append({"key": key, "label": label, "unit": unit, "cells": cells, "diffs": diffs})
    steps = []
    for k, step in enumerate(base["steps"]):
        cells = []
        for s in scenarios:
            st = s["steps"][k]
            u = st["utilisation"]
            cells.append(
                {
                    "utilisation": "unlimited" if u is None else utilisation(u),
                    "ci": ""
                    if st["utilisation_ci95"] is None
                    else f"[{utilisation(st['utilisation_ci95'][0])}, "
                    f"{utilisation(st['utilisation_ci95'][1])}]",
                    "raw": "" if u is None else u,
                    "servers": st["servers"] or "unlimited",
                    "queue": number(st["mean_queue_days"], 2),
                    "constraint": s["constraint"] == st["name"],
                    "binding": s["constraint_binding"],
                }
            )
        steps.append({"name": step["name"], "cells": cells})
    return {
        "doc": doc,
        "names": [s["scenario"] for s in scenarios],
        "changes": future.get("changes", []),
        "rows": rows,
        "steps": steps,
        "constraints": [
            (s["scenario"], s["constraint"], s["constraint_reason"]) for s in scenarios
        ],
        "warnings": [(s["scenario"], w) for s in scenarios for w in s["warnings"]],
        "unstable": unstable,
        "what_if_spec": what_if_chart(doc),
        "step_spec": step_chart(future),
        "future_name": future["scenario"],
        "seconds": number(seconds, 1),
        "replications": base["replications"],
        "days": field_text(base["days"]),
        "warmup_days": field_text(base["warmup_days"]),
        "seed": base["seed"],
    }


# -- the form ---------------------------------------------------------------------------------


def form_of(baseline: Scenario) -> dict[str, str]:
    """The form's text values for a baseline: the future state starts equal to it."""
    raw = {
        "future_name": DEFAULT_FUTURE,
        "arrival_rate_per_day": (
            "" if baseline.arrival_times_days else field_text(baseline.mean_arrival_rate)
        ),
        "days": field_text(baseline.days),
        "warmup_days": field_text(baseline.warmup_days),
        "replications": str(baseline.replications),
        "seed": str(baseline.seed),
    }
    for i, step in enumerate(baseline.steps):
        for key, _, _ in EDITABLE:
            raw[f"s-{i}-{key}"] = field_text(getattr(step, key))
    return raw


def default_size(baseline: Scenario) -> RunSize:
    """The size of the page's run of ``baseline``: it and a future state like it (a fresh
    form's), against the server's budget."""
    return request_size([baseline, baseline])


def fitted(baseline: Scenario) -> Scenario:
    """``baseline`` as the form starts: as it is when its run fits the server's budget, else
    at the longest of :data:`PAGE_SPANS` shorter than its own that fits (warm-up a tenth of
    the span, if it had more), with fewer replications only when even the shortest span is
    too long. When nothing fits, the shortest span and fewest replications: the Days field's
    note then says so, and Run says what to do."""
    size = default_size(baseline)
    most = min(baseline.replications, MAX_REPLICATIONS)
    fewest = min(most, FEWEST_REPLICATIONS)
    spans = [baseline.days, *(d for d in PAGE_SPANS if d < baseline.days)]
    for runs in range(most, fewest - 1, -1):
        for days in spans if runs == most else spans[-1:]:
            if size.events(days, runs) <= size.limit:
                return _with_run(baseline, days, runs)
    return _with_run(baseline, spans[-1], fewest)


def _with_run(baseline: Scenario, days: float, replications: int) -> Scenario:
    if days == baseline.days and replications == baseline.replications:
        return baseline
    warmup = baseline.warmup_days
    if days < baseline.days:
        warmup = min(warmup, days * WARMUP_SHARE)
    return dataclasses.replace(
        baseline, days=float(days), warmup_days=warmup, replications=replications
    )


def budget_note(size: RunSize) -> str:
    """Beside the Days field: the longest span that fits the budget, at the current state's
    pace and the run's replications, the current and the future state together."""
    pace = size.estimates[0].arrivals / size.days
    days = size.max_days()
    fit = f"up to {count(days)} days fit" if days else "not even one day fits"
    return (
        f"{fit} this server's budget at {number(pace)} arrivals a day "
        f"({count(size.replications, 'replication')}, current and future state together)"
    )


def too_large(size: RunSize) -> str:
    """Why a run is refused for its size, in the form's words, and values that fit (from the
    estimate that refuses it; the API's message names the JSON fields instead)."""
    paces = [
        f"{number(e.arrivals / size.days)} items a day ({number(e.events_per_item)} events each)"
        for e in size.estimates
    ]
    if len(set(paces)) == 1:
        at = paces[0]
    else:
        futures = [f"in {s.name}" for s in size.scenarios[1:]]
        names = ["now", *(["in the future state"] if len(futures) == 1 else futures)]
        at = " and ".join(f"{pace} {name}" for pace, name in zip(paces, names, strict=True))
    limit = events_text(size.limit)
    total = events_text(size.total)
    if total == limit:  # rounded alike: say them in full
        total, limit = count(math.ceil(size.total)), count(size.limit)
    options = []
    days = size.max_days()
    if days:
        # A warm-up that would leave under half of the shorter span measured comes down
        # with it, to the page's tenth.
        warmup = math.floor(days * WARMUP_SHARE)
        lower = (
            f" with a warm-up of {count(warmup)}"
            if size.scenarios[0].warmup_days >= days / 2
            else ""
        )
        options.append(f"at most {count(days)} days{lower}")
    runs = size.max_replications()
    if 0 < runs < size.replications:
        options.append(count(runs, "replication"))
    advice = f" Try {', or '.join(options)}." if options else ""
    return (
        f"Too large for this server: {span_text(size.days)} days × "
        f"{count(size.replications, 'replication')} at {at} is about {total} simulated events "
        f"for the current state and the future state together; the limit is {limit}.{advice} "
        "Larger runs: `obeya what-if` on the command line has no such limit."
    )


def carried_baseline(fields: Mapping[str, str]) -> Scenario:
    """The baseline the form carries (JSON in a hidden field), as it was loaded."""
    try:
        doc = json.loads(fields.get("baseline", ""))
    except json.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict):
        raise InputError("the form lost its baseline scenario; reload the page")
    return scenario_from_dict(doc, where="baseline")


def with_run_settings(baseline: Scenario, fields: Mapping[str, str]) -> Scenario:
    """``baseline`` with the form's days, warm-up, replications and seed (blank: unchanged)."""
    doc = scenario_to_dict(baseline)
    for key, label, _ in RUN_FIELDS:
        text = fields.get(key, "").strip()
        if text:
            kind = int if key in ("replications", "seed") else float
            doc[key] = form_number(text, label, kind)
    return scenario_from_dict(doc, where="run")


def typed_change(text: str, where: str, key: str, step: str | None = None) -> Change | None:
    """A field's text as a change relative to the current state, when it is signed, as the
    CLI's are (:func:`~obeya.core.simulation.whatif.parse_change`): ``+1`` one more, ``-2``
    two fewer, ``+10 %`` a tenth more, ``-20 %`` a fifth less (a share too). None for a
    value (``2``, ``0.8``, ``80 %``), which the field reads itself."""
    signed_text = text.replace("−", "-")  # the page's own minus sign, pasted back
    if signed_text[:1] not in "+-":
        return None
    figure = signed_text.removesuffix("%").strip()
    try:
        float(figure)
    except ValueError:
        raise InputError(
            f"{where} is {text!r}; give a number, {RELATIVE_HELP}", field=key, value=text
        ) from None
    written = f"s.{key}={signed_text}" if step is not None else f"{key}={signed_text}"
    try:
        change = parse_change(written)
    except ScenarioError as exc:
        detail = str(exc).removeprefix(f"change {written!r}: ")
        raise InputError(f"{where} is {text!r}; {detail}", field=key, value=text) from None
    return dataclasses.replace(change, step=step)


def changes_from_post(baseline: Scenario, fields: Mapping[str, str]) -> list[Change]:
    """The future state as changes: every field that differs from the baseline, a value or
    a change from it (:func:`typed_change`). A field left as the form showed it is no change,
    even where the form rounded the value (a rate of 9.641933… shows as 9.64193)."""
    shown = form_of(baseline)
    changes: list[Change] = []
    rate = fields.get("arrival_rate_per_day", "").strip()
    if rate and rate != shown["arrival_rate_per_day"]:
        label = "Arrival rate per day"
        relative = typed_change(rate, label, "arrival_rate_per_day")
        if relative is not None:
            if baseline.arrival_times_days or relative.applied(baseline.mean_arrival_rate) != (
                baseline.mean_arrival_rate
            ):
                changes.append(relative)
        else:
            value = float(form_number(rate, label, float))
            if baseline.arrival_times_days or value != baseline.arrival_rate_per_day:
                changes.append(Change("arrival_rate_per_day", value))
    for i, step in enumerate(baseline.steps):
        for key, label, _ in EDITABLE:
            text = fields.get(f"s-{i}-{key}", "").strip()
            if not text or text == shown[f"s-{i}-{key}"]:
                continue
            where = f"{step.name}: {label}"
            current = float(getattr(step, key))
            relative = typed_change(text, where, key, step.name)
            if relative is not None:
                if relative.applied(current) != current:
                    changes.append(relative)
                continue
            value = (
                parse_share(text, field=where)  # 0.8, 80% or 80 %, as every share
                if key in SHARE_FIELDS
                else form_number(text, where, STEP_FIELDS[key])
            )
            if value != current:
                changes.append(Change(key, float(value), step.name))
    return changes


def _source(fields: Mapping[str, str]) -> dict[str, str]:
    """Where the baseline came from: a map (name, variant) or a file, for the page's links."""
    return {key: fields.get(key, "").strip() for key in ("map", "variant", "distribution", "file")}


def _page(
    request: Request,
    ctx: AppContext,
    *,
    baseline: Scenario | None = None,
    sized: Scenario | None = None,
    raw: dict[str, str] | None = None,
    source: dict[str, str] | None = None,
    results: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
    partial: bool = False,
) -> Response:
    maps = [m for m in ctx.workspace.maps() if sees(request, m.stream)] if baseline is None else []
    # The Days field's note: the run as posted, when it could be read, else as loaded.
    sized = sized or baseline
    note = "" if sized is None else budget_note(default_size(sized))
    context_: dict[str, Any] = {
        "maps": maps,
        "baseline": baseline,
        "baseline_json": "" if baseline is None else json.dumps(scenario_to_dict(baseline)),
        "raw": raw if raw is not None else ({} if baseline is None else form_of(baseline)),
        "source": source or {},
        "results": results,
        "error": error,
        "editable": EDITABLE,
        "run_fields": RUN_FIELDS,
        "max_events": count(max_sim_events()),
        "max_replications": MAX_REPLICATIONS,
        "budget_note": note,
        "relative_help": RELATIVE_HELP,
        "field_text": field_text,
        "process_days": process_days,
        "map_share": map_share,
    }
    name = "simulate_results.html" if partial else "simulate.html"
    return templates.TemplateResponse(request, name, context_, status_code=status)


# -- routes -----------------------------------------------------------------------------------


@router.get("/simulate", response_class=HTMLResponse)
def simulate_page(
    request: Request,
    ctx: Ctx,
    map: str | None = None,
    variant: str = "current",
    distribution: str = "exponential",
) -> Response:
    """With ``map``: the map's scenario as the baseline and the future-state form; without:
    a picker of the saved maps and an upload of a scenario file."""
    if not map:
        return _page(request, ctx)
    source = {"map": map, "variant": variant, "distribution": distribution}
    stored = ctx.workspace.get_map(map, variant)  # an unknown map is a 404 page
    require_on(request, Role.VIEWER, stored.stream)
    vsm = stored.map
    try:
        baseline = scenario_from_map(
            vsm,
            distribution=distribution,
            days=PAGE_DAYS,
            warmup_days=PAGE_WARMUP_DAYS,
            replications=PAGE_REPLICATIONS,
            seed=PAGE_SEED,
        )
    except ScenarioError as exc:
        return _page(request, ctx, source=source, error=str(exc), status=exc.http_status)
    return _page(request, ctx, baseline=fitted(baseline), source=source)


@router.post("/simulate/upload", response_class=HTMLResponse)
def upload_page(request: Request, ctx: Ctx, scenario: Annotated[UploadFile, File()]) -> Response:
    """A scenario TOML file (``obeya simulate`` reads the same) as the baseline."""
    filename = scenario.filename or "scenario.toml"
    source = {"file": filename}
    try:
        data = scenario.file.read()  # the gate bounded the body (obeya.api.limits)
        try:
            doc = parse_toml(data.decode("utf-8"), filename)
        except UnicodeDecodeError:
            raise InputError(f"{filename}: not UTF-8 text; give a scenario TOML file") from None
        baseline = fitted(scenario_from_dict(doc, where=filename))
    except ObeyaError as exc:
        return _page(request, ctx, source=source, error=str(exc), status=exc.http_status)
    return _page(request, ctx, baseline=baseline, source=source)


@router.post("/simulate/run", response_class=HTMLResponse)
async def run_page(request: Request, ctx: Ctx, fields: Fields) -> Response:
    """Simulate the baseline and the edited future state side by side: the results alone for
    HTMX, else the whole page. The run happens in a worker thread, never on the event loop,
    and stops when the browser goes away (:func:`~obeya.api.running.run_cancellable`)."""

    def work(cancel: threading.Event) -> Response:
        return _run(request, ctx, fields, cancel)

    return await run_cancellable(request, work)


def _run(
    request: Request, ctx: AppContext, fields: Mapping[str, str], cancel: threading.Event
) -> Response:
    partial = request.headers.get("HX-Request") == "true"
    source = _source(fields)
    raw = {key: value for key, value in fields.items() if key not in ("baseline", *source)}
    original = carried_baseline(fields)  # a form without it is an error page
    sized = original

    def shown() -> dict[str, Any]:
        """What every answer shows again: the form as sent, the run as sized."""
        return {"baseline": original, "sized": sized, "raw": raw, "source": source,
                "partial": partial}  # fmt: skip

    try:
        baseline = with_run_settings(original, fields)
        if baseline.replications <= MAX_REPLICATIONS:
            sized = baseline
        name = fields.get("future_name", "").strip() or DEFAULT_FUTURE
        futures = [(name, changes_from_post(baseline, fields))]
        size = ctx.workspace.simulations.what_if_size(baseline, futures, where=None)
        if not size.fits:  # said in the form's words; the API's names its JSON fields
            raise ScenarioError(too_large(size), field="days", value=baseline.days)
        started = time.perf_counter()
        comparison = ctx.workspace.simulations.what_if(baseline, futures, where=None, cancel=cancel)
        seconds = time.perf_counter() - started
    except SimulationCancelled:
        raise  # nobody is waiting for a page
    except ObeyaError as exc:
        status = 200 if partial else exc.http_status
        return _page(request, ctx, **shown(), error=str(exc), status=status)
    results = results_view(comparison.to_dict(), seconds)
    results["future_toml"] = scenario_toml(comparison.results[-1].scenario)
    return _page(request, ctx, **shown(), results=results)
