"""Documents declared once (obeya.core.documents): each steering document reads back what it
writes, refuses an unknown field or a bad value naming the field, keeps the stored shape of
before the declarations (key order and values, checked against documents written out by hand
here), and gives its form, its CLI options and its API schema the declared fields in order."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from obeya.core.documents import Document, declared, from_text
from obeya.core.steering.kinds import KINDS
from obeya.core.steering.objectives import KeyResult, Objective
from obeya.core.steering.risks import Risk
from obeya.core.steering.roadmap import Improvement, KaizenEvent
from obeya.core.steering.saved import ExperimentRecord
from obeya.core.steering.teams import Person, StreamProfile, Team
from obeya.errors import InputError
from obeya.web.document_forms import form_fields, form_values, posted_document

#: Documents as the store held them before the declarations (the key order of the old
#: hand-written ``to_dict``), one per declared kind, every field given.
STORED: dict[type[Document], dict[str, Any]] = {
    Risk: {
        "key": "R-7",
        "title": "Vendor API late",
        "description": "The payments vendor may slip",
        "teams": ["Payments", "Platform"],
        "probability": 0.4,
        "impact": 5.0,
        "owner": "ana",
        "due": "2024-01-20",
        "state": "owned",
        "blocked_item": "",
        "blocked_reason": "",
        "waiting_team": "Payments",
        "blocking_team": "Platform",
    },
    Objective: {
        "key": "O-1",
        "title": "Deliver faster",
        "description": "",
        "owner": "bo",
        "key_results": [
            {
                "key": "KR-1",
                "title": "p85 under 10 days",
                "metric": "cycle_time_p85",
                "comparator": "<=",
                "target": 10.0,
                "by": "2024-06-30",
                "baseline": 14.0,
                "current": None,
                "window_days": 28,
            },
            {
                "key": "KR-2",
                "title": "NPS 50",
                "metric": None,
                "comparator": ">=",
                "target": 50.0,
                "by": None,
                "baseline": None,
                "current": 41.5,
                "window_days": 7,
            },
        ],
    },
    Improvement: {
        "key": "I-1",
        "title": "Pair on reviews",
        "kind": "kaikaku",
        "status": "planned",
        "owners": ["cy"],
        "map": "current",
        "step": "Review",
        "target": "waiting",
        "business_value": 8.0,
        "time_criticality": 5.0,
        "risk_reduction": 3.0,
        "job_size": 3.0,
        "blocked_item": "PAY-3",
        "blocked_reason": "review",
        "waiting_team": "",
        "blocking_team": "",
    },
    KaizenEvent: {
        "key": "K-1",
        "title": "Review blitz",
        "start": "2024-02-05",
        "end": "2024-02-07",
        "participants": ["ana", "bo"],
        "outcomes": ["WIP limit on review"],
        "improvements": ["I-1"],
    },
    Team: {"key": "web", "name": "Web", "streams": ["Shop"]},
    Person: {"key": "ana", "name": "Ana", "teams": ["web"], "skills": ["react"]},
    StreamProfile: {"key": "Shop", "needs": ["react", "sql"], "products": ["cart"]},
    ExperimentRecord: {
        "key": "E-1",
        "hypothesis": "Pairing cuts cycle time",
        "metric": "cycle_time",
        "guard": "flow_efficiency",
        "baseline": "2024-01-01..2024-01-31",
        "trial": "2024-02-01..2024-02-29",
        "alpha": 0.05,
        "owner": "ana",
    },
}


@pytest.mark.parametrize("cls", list(STORED), ids=lambda c: c.__name__)
def test_a_stored_document_reads_back_byte_for_byte(cls: type[Document]) -> None:
    doc = STORED[cls]
    parsed = cls.from_dict(doc)
    assert json.dumps(parsed.to_dict()) == json.dumps(doc)  # same keys, order and values
    assert cls.from_dict(parsed.to_dict()) == parsed


def test_an_experiments_windows_are_written_back_as_read() -> None:
    spaced = {**STORED[ExperimentRecord], "baseline": " 2024-01-01 .. 2024-01-31 ", "guard": ""}
    record = ExperimentRecord.from_dict(spaced)
    assert (record.baseline, record.guard) == ("2024-01-01..2024-01-31", None)
    baseline, trial = record.windows()
    assert (baseline.start, baseline.end) == (date(2024, 1, 1), date(2024, 1, 31))
    assert (trial.start, trial.end) == (date(2024, 2, 1), date(2024, 2, 29))


def test_parsed_values_are_the_declared_types() -> None:
    risk = Risk.from_dict(STORED[Risk])
    assert risk == Risk(
        key="R-7",
        title="Vendor API late",
        description="The payments vendor may slip",
        teams=("Payments", "Platform"),
        probability=0.4,
        impact=5.0,
        owner="ana",
        due=date(2024, 1, 20),
        state="owned",
        waiting_team="Payments",
        blocking_team="Platform",
    )
    objective = Objective.from_dict(STORED[Objective])
    assert objective.key_results[1] == KeyResult(
        key="KR-2", title="NPS 50", comparator=">=", target=50.0, current=41.5, window_days=7
    )
    assert KaizenEvent.from_dict({**STORED[KaizenEvent], "end": None}).end == date(2024, 2, 5)
    assert Team.from_dict({"key": "ops"}).name == "ops"  # a blank name is the key


def test_defaults_fill_a_short_document() -> None:
    short = {"key": "R-1", "title": "t", "probability": 1, "impact": 2, "stream": "Shop"}
    assert Risk.from_dict(short).to_dict() == {
        "key": "R-1",
        "title": "t",
        "description": "",
        "teams": [],
        "probability": 1.0,
        "impact": 2.0,
        "owner": "",
        "due": None,
        "state": "open",
        "blocked_item": "",
        "blocked_reason": "",
        "waiting_team": "",
        "blocking_team": "",
    }


def test_an_unknown_field_is_named_with_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        Risk.from_dict({**STORED[Risk], "probabilty": 0.3})
    assert str(caught.value) == (
        "risk 'R-7': unknown field 'probabilty'; known fields: key, title, description, "
        "teams, probability, impact, owner, due, state, blocked_item, blocked_reason, "
        "waiting_team, blocking_team"
    )
    assert (caught.value.field, caught.value.value) == ("probabilty", 0.3)
    nested = json.loads(json.dumps(STORED[Objective]))
    nested["key_results"][1]["colour"] = "red"
    with pytest.raises(InputError, match=r"objective 'O-1': key_results\[1\]: unknown field"):
        Objective.from_dict(nested)


@pytest.mark.parametrize(
    ("cls", "change", "field", "message"),
    [
        (Risk, {"probability": 1.4}, "probability", "probability is 1.4; give a share in [0, 1]"),
        (Risk, {"probability": "140 %"}, "probability", "give a share from 0 % to 100 %"),
        (Risk, {"impact": True}, "impact", "impact is True; give a number ≥ 0"),
        (Risk, {"due": "soon"}, "due", "due is 'soon'; give a date as YYYY-MM-DD"),
        (Risk, {"teams": [1]}, "teams", "teams is [1]; give a list of text"),
        (Risk, {"title": "  "}, "title", "title is empty"),
        (Improvement, {"job_size": 0}, "job_size", "job_size is 0; give a number > 0"),
        (KaizenEvent, {"end": "2024-02-01"}, "end", "end is 2024-02-01, before start"),
        (Objective, {"key_results": {}}, "key_results", "must be a list of tables"),
        (ExperimentRecord, {"trial": "February"}, "trial", "trial is 'February'; give a window"),
        (ExperimentRecord, {"trial": "2024-01-31..2024-02-29"}, "trial", "overlaps baseline"),
        (ExperimentRecord, {"alpha": 0}, "alpha", "alpha is 0; give a level in (0, 0.5]"),
        (ExperimentRecord, {"guard": "speed"}, "guard", "guard is 'speed'; give one of"),
    ],
)
def test_a_bad_value_names_its_field(
    cls: type[Document], change: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        cls.from_dict({**STORED[cls], **change})
    assert message in str(caught.value)
    assert caught.value.field == field


def test_a_share_may_be_written_in_percent() -> None:
    assert Risk.from_dict({**STORED[Risk], "probability": "40 %"}).probability == 0.4
    window = {**STORED[Objective]["key_results"][0], "window_days": 7.5}
    with pytest.raises(InputError, match=r"window_days is 7\.5; give a whole number of days"):
        Objective.from_dict({**STORED[Objective], "key_results": [window]})


def test_every_declared_kind_is_a_document_class() -> None:
    declared_kinds = {k.name: k.document for k in KINDS.values() if k.document is not None}
    assert declared_kinds == {
        "risk": Risk,
        "objective": Objective,
        "improvement": Improvement,
        "kaizen-event": KaizenEvent,
        "team": Team,
        "person": Person,
        "stream-profile": StreamProfile,
        "experiment": ExperimentRecord,
    }
    assert set(STORED) == set(declared_kinds.values())


# -- shells ------------------------------------------------------------------------------------


def test_the_form_lists_exactly_the_declared_fields_in_order() -> None:
    names = ["key", "title", "description", "teams", "probability", "impact", "owner", "due"]
    fields = form_fields(Risk, {}, id_prefix="r-", next_key="R-3")
    link = ["blocked_item", "blocked_reason", "waiting_team", "blocking_team"]
    assert [f.name for f in fields] == [*names, "state", *link]
    assert [f.name for f in fields] == [f.name for f in declared(Risk)]
    by_name = {f.name: f for f in fields}
    assert by_name["key"].placeholder == "R-3" and not by_name["key"].required
    assert (by_name["title"].required, by_name["probability"].inputmode) == (True, "decimal")
    assert by_name["due"].type == "date" and by_name["description"].control == "textarea"
    assert by_name["state"].options[0] == ("open", "Open")
    kr = form_fields(KeyResult, {}, id_prefix="kr-0-", name_prefix="kr-0-", required=False)
    assert [f.name for f in kr] == [
        "kr-0-key", "kr-0-title", "kr-0-metric", "kr-0-comparator", "kr-0-target", "kr-0-by",
        "kr-0-baseline", "kr-0-current", "kr-0-window_days",
    ]  # fmt: skip
    assert kr[2].options[0] == ("", "by hand") and kr[-1].placeholder == "28"
    assert not any(f.required for f in kr)


def test_a_form_round_trips_a_stored_risk() -> None:
    # The form shows 0.4 as "40 %" and 5.0 as "5"; posted back, they read as before.
    values = form_values(Risk, STORED[Risk])
    assert (values["probability"], values["impact"], values["teams"]) == (
        "40 %",
        "5",
        "Payments, Platform",
    )
    assert Risk.from_dict(posted_document(Risk, values)) == Risk.from_dict(STORED[Risk])


def test_a_typed_value_names_its_field_as_an_option() -> None:
    [impact] = [f for f in declared(Risk) if f.name == "impact"]
    with pytest.raises(InputError) as caught:
        from_text(impact, "high", "key result 2")
    assert caught.value.shown("cli") == "key result 2: --impact is 'high'; give a number"
    assert caught.value.shown("web") == "key result 2: impact is 'high'; give a number"
    assert (caught.value.field, caught.value.value) == ("impact", "high")
    assert from_text(impact, "1,250.5") == 1250.5 and from_text(impact, " ") is None


def test_the_api_schema_shows_the_declared_fields(client: Any) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    risk = schema["RiskDocument"]
    assert list(risk["properties"]) == [f.name for f in declared(Risk)]
    assert risk["required"] == ["title", "probability", "impact"]  # key: the path's, or next
    probability = risk["properties"]["probability"]
    assert (probability["minimum"], probability["maximum"]) == (0, 1)
    assert risk["properties"]["state"]["enum"] == ["open", "owned", "accepted", "mitigated",
                                                   "resolved"]  # fmt: skip
    kr = schema["KeyResultDocument"]["properties"]
    assert kr["window_days"] == {**kr["window_days"], "type": "integer", "minimum": 1}
    record = schema["RecordOut"]["properties"]["document"]
    assert {"$ref": "#/components/schemas/RiskDocument"} in record["anyOf"]


def test_a_key_result_key_used_twice_is_named_first_in_order() -> None:
    # Keys a, b, b, a: both a and b are used twice; 'a' comes first, so the message names it
    # (a scan that stopped at the first repeat seen would name 'b').
    rows = [{**STORED[Objective]["key_results"][1], "key": k} for k in ("a", "b", "b", "a")]
    with pytest.raises(InputError) as caught:
        Objective.from_dict({**STORED[Objective], "key_results": rows})
    assert str(caught.value) == (
        "objective 'O-1': key_results use the key 'a' twice; keys must differ"
    )
    assert caught.value.field == "key_results"


def test_many_key_results_are_checked_for_repeats_in_one_pass() -> None:
    # 40,000 key results (about 2.5 MB of JSON: under the API's 4 MiB body limit) with the
    # first key repeated at the end. Counted once, they read in a second or two; compared
    # with every other key (key_results.count per key, as before) they took about a minute.
    import time

    row = {"title": "t", "comparator": "<=", "target": 1}
    rows = [{**row, "key": f"KR-{i}"} for i in range(40_000)] + [{**row, "key": "KR-0"}]
    started = time.perf_counter()
    with pytest.raises(InputError, match="use the key 'KR-0' twice"):
        Objective.from_dict({"key": "O-1", "title": "Many", "key_results": rows})
    assert time.perf_counter() - started < 20


def test_the_teams_page_forms_read_as_the_declared_documents() -> None:
    from obeya.web.steering_pages import Posted
    from obeya.web.team_pages import posted_record

    # Trimmed, a blank name becomes the key, a list split on commas with repeats dropped;
    # fields the document does not declare (the message) are not part of it.
    team = Posted((("key", " web "), ("name", ""), ("streams", "Shop, Ops,Shop"), ("message", "x")))
    assert Team.from_dict(posted_record("team", team)) == Team(
        key="web", name="web", streams=("Shop", "Ops")
    )
    person = Posted((("key", "ana"), ("teams", "web"), ("skills", "react\nsql")))
    assert Person.from_dict(posted_record("person", person)).skills == ("react", "sql")
    # A form that posts no key at all is refused as an empty key, as a blank one is.
    with pytest.raises(InputError, match=r"^person: key is empty$"):
        Person.from_dict(posted_record("person", Posted((("name", "Ana"),))))
    assert StreamProfile.from_dict(
        posted_record("profile", Posted((("key", "Shop"), ("needs", "sql"))))
    ) == StreamProfile(key="Shop", needs=("sql",))
