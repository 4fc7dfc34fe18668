"""Map calculations against a five-step software map worked on paper.

The map (demand 4 items/day, 8 available hours/day, 100 per hour, money over 30 days):

    step     PT   LT   %C&A  people avail  inventory  handoffs  capacity
    Analyse  1    9    0.8   1      1.0    8          1         -
    Develop  8    40   0.8   5      1.0    4          1         -
    Review   2    20   0.5   1      0.8    6          1         -
    Test     3    24   0.75  2      1.0    2          1         -
    Deploy   0.5  4    1.0   1      0.5    0          2         10/day (given)

Per step, by hand:
    capacity = people × avail × 8 ÷ PT; utilisation = 4 ÷ capacity
    Analyse  1×1×8/1 = 8       -> 4/8 = 0.5
    Develop  5×1×8/8 = 5       -> 4/5 = 0.8
    Review   1×0.8×8/2 = 3.2   -> 4/3.2 = 1.25   (needs 4×2 = 8 h a day, has 6.4 h)
    Test     2×1×8/3 = 16/3    -> 4÷(16/3) = 0.75
    Deploy   10 (given)        -> 4/10 = 0.4
    inventory wait = inventory ÷ 4 × 24: 48, 24, 36, 12, 0 (Σ 120 h)
    wait = LT − PT: 8, 32, 18, 21, 3.5 (Σ 82.5 h)

Totals:
    Σ LT = 9+40+20+24+4 = 97; total LT = 97 + 120 = 217 h
    Σ PT = 1+8+2+3+0.5 = 14.5 h; activity ratio = 14.5/217 = 0.066820...
    rolled %C&A = 0.8 × 0.8 × 0.5 × 0.75 × 1 = 0.24
    takt = 8 ÷ 4 = 2 h
    constraint: Review (1.25, the highest)

Waste, hours per item:
    waiting = 82.5
    rework = 1×(1/0.8−1) + 8×(1/0.8−1) + 2×(1/0.5−1) + 3×(1/0.75−1) + 0
           = 0.25 + 2 + 2 + 1 = 5.25
    handoffs = (1+1+1+1+2) × 0.5 = 3.0
    partially done work = 120  -> the biggest
    total = 82.5 + 5.25 + 3 + 120 = 210.75
Money per 30 days = hours × 4 items/day × 30 days × 100 = hours × 12,000:
    waiting 990,000; rework 63,000; handoffs 36,000; partially done 1,440,000;
    total 2,529,000
"""

from __future__ import annotations

import pytest

from obeya.core.maps.calculations import calculate
from obeya.core.maps.compare import compare, variant_of, with_step
from obeya.core.maps.model import MapError, Step, ValueStreamMap


def textbook(demand: float | None = 4.0, hourly_cost: float | None = 100.0) -> ValueStreamMap:
    return ValueStreamMap(
        name="Software delivery",
        demand_per_day=demand,
        available_hours_per_day=8.0,
        hourly_cost=hourly_cost,
        steps=(
            Step("Analyse", 1.0, 9.0, 0.8, inventory_before=8, handoffs=1),
            Step("Develop", 8.0, 40.0, 0.8, people=5, inventory_before=4, handoffs=1),
            Step("Review", 2.0, 20.0, 0.5, availability=0.8, inventory_before=6, handoffs=1),
            Step("Test", 3.0, 24.0, 0.75, people=2, inventory_before=2, handoffs=1),
            Step("Deploy", 0.5, 4.0, 1.0, availability=0.5, capacity_per_day=10, handoffs=2),
        ),
    )


approx = pytest.approx


def test_totals_and_takt() -> None:
    f = calculate(textbook())
    assert f.lead_time_hours == approx(217.0)
    assert f.process_time_hours == approx(14.5)
    assert f.activity_ratio == approx(14.5 / 217)
    assert f.activity_ratio == approx(0.0668203, abs=1e-7)
    assert f.rolled_complete_accurate == approx(0.24)
    assert f.takt_time_hours == approx(2.0)


def test_each_step() -> None:
    f = calculate(textbook())
    capacity = {"Analyse": 8.0, "Develop": 5.0, "Review": 3.2, "Test": 16 / 3, "Deploy": 10.0}
    utilisation = {"Analyse": 0.5, "Develop": 0.8, "Review": 1.25, "Test": 0.75, "Deploy": 0.4}
    inventory_wait = {"Analyse": 48.0, "Develop": 24.0, "Review": 36.0, "Test": 12.0, "Deploy": 0}
    wait = {"Analyse": 8.0, "Develop": 32.0, "Review": 18.0, "Test": 21.0, "Deploy": 3.5}
    for name in capacity:
        step = f.step(name)
        assert step.capacity_per_day == approx(capacity[name]), name
        assert step.utilisation == approx(utilisation[name]), name
        assert step.inventory_wait_hours == approx(inventory_wait[name]), name
        assert step.wait_hours == approx(wait[name]), name


def test_constraint_and_reason() -> None:
    c = calculate(textbook()).constraint
    assert c is not None
    assert c.step == "Review"
    assert c.utilisation == approx(1.25)
    assert c.reason == (
        "Review: utilisation 125 % — demand 4.0/day needs 8.0 h of work a day, 6.4 h are available"
    )


def test_waste_hours_money_and_biggest() -> None:
    w = calculate(textbook()).waste
    hours = {"waiting": 82.5, "rework": 5.25, "handoffs": 3.0, "partially_done_work": 120.0}
    money = {"waiting": 990_000, "rework": 63_000, "handoffs": 36_000}
    money["partially_done_work"] = 1_440_000
    for name, value in hours.items():
        assert w.category(name).hours_per_item == approx(value), name
        assert w.category(name).money_per_period == approx(money[name]), name
    assert w.total_hours_per_item == approx(210.75)
    assert w.total_money_per_period == approx(2_529_000)
    assert w.biggest == "partially_done_work"


def test_parameters_change_money_and_handoffs() -> None:
    # Handoff cost 1 h: 6 handoffs -> 6 h. Period 7 days, 50/h: 6 × 4 × 7 × 50 = 8,400.
    w = calculate(textbook(), hourly_cost=50, handoff_cost_hours=1.0, period_days=7).waste
    assert w.category("handoffs").hours_per_item == approx(6.0)
    assert w.category("handoffs").money_per_period == approx(8_400)


def test_without_demand() -> None:
    # No demand: inventory cannot become time; total LT = Σ LT = 97; activity 14.5/97.
    # Constraint = lowest capacity = longest PT ÷ (people × availability):
    # Analyse 1, Develop 1.6, Review 2.5, Test 1.5, Deploy 8 h ÷ 10/day = 0.8 -> Review.
    f = calculate(textbook(demand=None))
    assert f.lead_time_hours == approx(97.0)
    assert f.activity_ratio == approx(14.5 / 97)
    assert f.takt_time_hours is None
    assert all(s.utilisation is None for s in f.steps)
    assert f.constraint is not None and f.constraint.step == "Review"
    assert f.constraint.utilisation is None
    assert "2.50 h an item" in f.constraint.reason
    assert f.waste.category("partially_done_work").hours_per_item == 0
    assert f.waste.category("waiting").money_per_period is None
    assert f.waste.biggest == "waiting"


def test_no_hourly_cost_means_no_money() -> None:
    w = calculate(textbook(hourly_cost=None)).waste
    assert w.total_money_per_period is None
    assert w.category("rework").hours_per_item == approx(5.25)


def test_step_without_work_has_no_limit() -> None:
    # PT 0: no capacity, no utilisation; the constraint is the other step.
    vsm = ValueStreamMap("m", (Step("Wait", 0.0, 5.0), Step("Do", 4.0, 4.0)), demand_per_day=1.0)
    f = calculate(vsm)
    assert f.step("Wait").capacity_per_day is None
    assert f.step("Wait").utilisation is None
    assert f.constraint is not None and f.constraint.step == "Do"
    assert f.step("Do").utilisation == approx(0.5)  # 1 × 4 ÷ 8


def test_given_capacity_reason() -> None:
    vsm = ValueStreamMap("m", (Step("Ship", 1.0, 2.0, capacity_per_day=2),), demand_per_day=3)
    c = calculate(vsm).constraint
    assert c is not None
    assert c.reason == "Ship: utilisation 150 % — demand 3.0/day against a capacity of 2.0/day"


def test_to_dict_shape() -> None:
    doc = calculate(textbook()).to_dict()
    assert [s["name"] for s in doc["steps"]] == ["Analyse", "Develop", "Review", "Test", "Deploy"]
    keys = {"name", "process_time_hours", "lead_time_hours", "complete_accurate", "utilisation"}
    assert keys <= set(doc["steps"][0])
    assert set(doc["totals"]) >= {
        "lead_time_hours",
        "process_time_hours",
        "activity_ratio",
        "rolled_complete_accurate",
        "takt_time_hours",
    }
    assert doc["constraint"]["step"] == "Review"
    assert doc["waste"]["biggest"] == "partially_done_work"
    assert doc["waste"]["categories"]["rework"]["hours_per_item"] == approx(5.25)


# Future state: Review gets a second person. By hand: capacity 2 × 0.8 × 8 ÷ 2 = 6.4/day
# (+3.2, +100 %), utilisation 4 ÷ 6.4 = 0.625 (−0.625, −50 %); people 1 -> 2 (+100 %).
# Times do not change (total LT 217, delta 0, 0 %), so waste does not either. The constraint
# moves to Develop (0.8, now the highest).


def test_compare_review_people_doubled() -> None:
    base = textbook()
    future = with_step(variant_of(base, "two reviewers"), "Review", people=2)
    result = compare(base, future)
    (variant,) = result.variants
    assert variant.variant == "two reviewers"
    capacity = variant.figure("steps.Review.capacity_per_day")
    assert (capacity.base, capacity.value) == (approx(3.2), approx(6.4))
    assert (capacity.delta, capacity.change_pct) == (approx(3.2), approx(100.0))
    util = variant.figure("steps.Review.utilisation")
    assert (util.base, util.value) == (approx(1.25), approx(0.625))
    assert (util.delta, util.change_pct) == (approx(-0.625), approx(-50.0))
    people = variant.figure("steps.Review.people")
    assert (people.delta, people.change_pct) == (approx(1.0), approx(100.0))
    lead = variant.figure("totals.lead_time_hours")
    assert (lead.base, lead.value, lead.delta, lead.change_pct) == (217, 217, 0, 0)
    assert variant.figure("waste.total.money_per_period").delta == approx(0)
    assert variant.figure("steps.Develop.utilisation").delta == approx(0)
    assert result.base.constraint is not None and result.base.constraint.step == "Review"
    assert variant.constraint == "Develop"
    doc = result.to_dict()
    assert doc["base"]["constraint"] == "Review"
    assert doc["variants"][0]["constraint"] == "Develop"
    row = next(f for f in doc["variants"][0]["figures"] if f["figure"] == "totals.takt_time_hours")
    takt = {"figure": "totals.takt_time_hours", "base": 2.0, "value": 2.0, "delta": 0.0}
    assert row == {**takt, "change_pct": 0.0}


def test_compare_lead_time_cut_and_new_step() -> None:
    # Review LT 20 -> 10 and a new step "Release" (PT 0, LT 1): total LT 217 − 10 + 1 = 208
    # (delta −9, −9/217 = −4.147 %); waiting 82.5 − 10 + 1 = 73.5. Release exists only in the
    # variant, so its base is None and so are its delta and change.
    base = textbook()
    shorter = with_step(base, "Review", lead_time_hours=10.0)
    future = variant_of(shorter, "faster", steps=(*shorter.steps, Step("Release", 0.0, 1.0)))
    (variant,) = compare(base, future).variants
    lead = variant.figure("totals.lead_time_hours")
    assert lead.value == approx(208.0)  # 207 + Release's 1 h
    assert lead.delta == approx(-9.0)
    assert lead.change_pct == approx(-4.147, abs=1e-3)
    release = variant.figure("steps.Release.lead_time_hours")
    assert (release.base, release.value, release.delta, release.change_pct) == (
        None,
        1.0,
        None,
        None,
    )
    waiting = variant.figure("waste.waiting.hours_per_item")
    assert waiting.value == approx(73.5)


def test_variant_of_and_bad_changes() -> None:
    base = textbook()
    copy = variant_of(base, "future", demand_per_day=5.0)
    assert copy.variant == "future" and copy.demand_per_day == 5.0 and base.demand_per_day == 4.0
    with pytest.raises(MapError, match=r"steps\[2\].complete_accurate is 1.5"):
        with_step(base, "Review", complete_accurate=1.5)
    with pytest.raises(MapError, match="no step named 'QA'"):
        with_step(base, "QA", people=2)
    with pytest.raises(MapError, match="at least one variant"):
        compare(base)


def test_lead_times_that_include_inventory_are_not_counted_twice() -> None:
    # Two steps measured from history, demand 6/day. Queue: 2 items waiting before "Do" wait
    # 2 / 6 × 24 = 8 h, inside Do's LT of 10 h (PT 1): wait 10 − 1 − 8 = 1 h. Check holds 3
    # items: 3 / 6 × 24 = 12 h, capped at its LT − PT = 4 − 2 = 2 h: wait 0.
    # Total LT = 10 + 4 = 14 h (not 14 + 8 + 12); waiting waste 1 + 0 = 1 h;
    # partially done work 8 + 2 = 10 h. Without the flag: 14 + 8 + 12 = 34 h.
    steps = (
        Step("Do", process_time_hours=1, lead_time_hours=10, inventory_before=2),
        Step("Check", process_time_hours=2, lead_time_hours=4, inventory_before=3),
    )
    measured = ValueStreamMap(
        "Measured", steps, demand_per_day=6, lead_time_includes_inventory=True
    )
    figures = calculate(measured)
    assert figures.lead_time_hours == pytest.approx(14.0)
    assert [s.wait_hours for s in figures.steps] == pytest.approx([1.0, 0.0])
    assert [s.inventory_wait_hours for s in figures.steps] == pytest.approx([8.0, 2.0])
    assert figures.waste.category("waiting").hours_per_item == pytest.approx(1.0)
    assert figures.waste.category("partially_done_work").hours_per_item == pytest.approx(10.0)
    drawn = calculate(ValueStreamMap("Drawn", steps, demand_per_day=6))
    assert drawn.lead_time_hours == pytest.approx(34.0)


def test_a_step_few_items_visit_weighs_by_its_share() -> None:
    """The textbook map with Review visited by a quarter of the items only (a side branch
    would be under 5 %), worked by hand:

        Review utilisation = 4 × 0.25 ÷ 3.2 = 0.3125 (was 1.25): Develop, 0.8, is the
        constraint now;
        Review's inventory wait per visit = 6 ÷ (4 × 0.25) × 24 = 144 h, × 0.25 = 36 h per
        item of the stream, as before (Little's law on the whole queue);
        total LT = 217 − 0.75 × 20 = 202 h (the inventory wait is unchanged); total PT =
        14.5 − 0.75 × 2 = 13 h;
        rolled %C&A = 0.8 × 0.8 × (1 − 0.25 × 0.5) × 0.75 × 1 = 0.42;
        waste: waiting 82.5 − 0.75 × 18 = 69; rework 5.25 − 0.75 × 2 = 3.75; handoffs
        (6 − 0.75) × 0.5 = 2.625; partially done work 120.
    """
    base = textbook()
    steps = tuple(
        Step(
            s.name,
            s.process_time_hours,
            s.lead_time_hours,
            s.complete_accurate,
            people=s.people,
            availability=s.availability,
            capacity_per_day=s.capacity_per_day,
            inventory_before=s.inventory_before,
            handoffs=s.handoffs,
            visit_share=0.25 if s.name == "Review" else 1.0,
        )
        for s in base.steps
    )
    f = calculate(
        ValueStreamMap(
            name=base.name,
            demand_per_day=4.0,
            available_hours_per_day=8.0,
            hourly_cost=100.0,
            steps=steps,
        )
    )
    review = f.step("Review")
    assert review.utilisation == approx(0.3125)
    assert review.inventory_wait_hours == approx(144.0)
    assert not review.side_branch
    assert f.constraint is not None and f.constraint.step == "Develop"
    assert calculate(
        ValueStreamMap(
            name="Review only",
            demand_per_day=4.0,
            available_hours_per_day=8.0,
            steps=(steps[2],),
        )
    ).constraint.reason == (
        # Alone on its map Review is at 0.31, under 0.8, and its wait is the lead time's
        # bulk: 0.25 × (LT − PT 18 h + inventory wait 144 h) = 40.5 h of 0.25 × 164 = 41 h.
        "Review: utilisation 31 % — demand 4.0/day (25 % of it visiting) needs 2.0 h of work a "
        "day, 6.4 h are available. No step is near its capacity (all under 80 %): the lead "
        "time is mostly waiting in Review (40.5 h of 41.0 h), which more people would barely "
        "shorten"
    )
    assert f.lead_time_hours == approx(202.0)
    assert f.process_time_hours == approx(13.0)
    assert f.rolled_complete_accurate == approx(0.42)
    hours = {c.category: c.hours_per_item for c in f.waste.categories}
    assert hours == approx(
        {"waiting": 69.0, "rework": 3.75, "handoffs": 2.625, "partially_done_work": 120.0}
    )
    with pytest.raises(MapError, match=r"steps\[2\]\.visit_share is 1\.5"):
        ValueStreamMap(
            name="x", steps=(Step("A", 1, 1), Step("B", 1, 1), Step("C", 1, 1, visit_share=1.5))
        )
