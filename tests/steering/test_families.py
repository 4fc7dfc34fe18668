"""Product families: the reader, weighted Jaccard by hand, UPGMA against two independent
computations, row-order stability, the threshold, the explanation and the CLI."""

from __future__ import annotations

import csv
import io
import json
import random
import tomllib
from itertools import combinations, pairwise
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.core.steering.families import (
    DEFAULT_WEIGHTS,
    Product,
    cluster_products,
    jaccard,
    parse_products,
    parse_weights,
    read_products,
    similarity,
    similarity_matrix,
    upgma,
    value_streams,
    value_streams_toml,
)
from obeya.errors import InputError, ParseError
from obeya.store import Store

from support import SAMPLES

runner = CliRunner()
SAMPLE = SAMPLES / "products.csv"
HEADER = "product,steps,technologies,markets,segments"

# The families the sample catalogue was designed with.
SAMPLE_FAMILIES = {
    frozenset({"BI dashboards", "Data warehouse", "Event pipeline", "ML feature store"}),
    frozenset({"Card payments API", "Fraud scoring service", "Payouts API", "Refunds service"}),
    frozenset({"Customer Android app", "Customer iOS app", "Driver app", "Merchant app"}),
    frozenset({"Back-office admin", "HR onboarding portal", "Support console"}),
}

# A designed product–process matrix: three families on disjoint process steps, each product
# missing one step of its family's process, plus a platform step ("Code review") and a market
# they all share, so every pair has something in common.
DESIGNED = f"""{HEADER}
A1,Plan;Code review;Build;Unit test;Release,Go,EU,Retail
A2,Plan;Code review;Build;Unit test,Go,EU,Retail
A3,Plan;Code review;Unit test;Release,Go;Redis,EU,Retail
A4,Code review;Build;Unit test;Release,Go,EU,Retail;Wholesale
B1,Sketch;Code review;Prototype;Usability test;Launch,Swift,EU,Consumers
B2,Sketch;Code review;Prototype;Launch,Swift;Kotlin,EU,Consumers
B3,Code review;Prototype;Usability test;Launch,Kotlin,EU,Consumers
C1,Model;Code review;Load;Validate;Publish,Python,EU,Analysts
C2,Model;Code review;Load;Validate,Python;SQL,EU,Analysts
C3,Model;Code review;Validate;Publish,SQL,EU,Analysts
"""
DESIGNED_FAMILIES = {
    frozenset({"A1", "A2", "A3", "A4"}),
    frozenset({"B1", "B2", "B3"}),
    frozenset({"C1", "C2", "C3"}),
}


def families_of(result: object) -> set[frozenset[str]]:
    return {frozenset(f.products) for f in result.families}  # type: ignore[attr-defined]


def shuffled(text: str, seed: int) -> str:
    header, *rows = text.strip().splitlines()
    random.Random(seed).shuffle(rows)
    return "\n".join([header, *rows]) + "\n"


# -- known families are recovered, whatever the row order ---------------------------------------


def test_designed_matrix_recovers_its_families() -> None:
    result = cluster_products(parse_products(DESIGNED))
    assert families_of(result) == DESIGNED_FAMILIES
    # Largest first, then by first product; products sorted; rows of the matrix by family.
    assert [f.products for f in result.families] == [
        ("A1", "A2", "A3", "A4"),
        ("B1", "B2", "B3"),
        ("C1", "C2", "C3"),
    ]
    assert result.order == ("A1", "A2", "A3", "A4", "B1", "B2", "B3", "C1", "C2", "C3")


def test_sample_catalogue_recovers_its_families() -> None:
    result = cluster_products(read_products(SAMPLE))
    assert families_of(result) == SAMPLE_FAMILIES
    names = [f.name for f in result.families]
    assert names == [
        "Family 1: Data modelling + Data quality checks",
        "Family 2: API design + Backend build",
        "Family 3: Device testing + Mobile build",
        "Family 4: Deploy + Requirements",
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("text", [DESIGNED, SAMPLE.read_text(encoding="utf-8")])
def test_row_order_changes_nothing(text: str, seed: int) -> None:
    expected = cluster_products(parse_products(text)).to_dict()
    again = cluster_products(parse_products(shuffled(text, seed))).to_dict()
    assert json.dumps(again, sort_keys=True) == json.dumps(expected, sort_keys=True)


# -- similarity and cohesion by hand ------------------------------------------------------------


def test_jaccard_and_weighted_similarity_by_hand() -> None:
    p = Product(
        "P",
        {
            "steps": frozenset({"A", "B", "C"}),
            "technologies": frozenset({"X"}),
            "markets": frozenset({"EU"}),
            "segments": frozenset(),
        },
    )
    q = Product(
        "Q",
        {
            "steps": frozenset({"B", "C", "D"}),
            "technologies": frozenset({"X", "Y"}),
            "markets": frozenset({"US"}),
        },
    )
    assert jaccard(p.values("steps"), q.values("steps")) == pytest.approx(2 / 4)
    assert jaccard(p.values("technologies"), q.values("technologies")) == pytest.approx(1 / 2)
    assert jaccard(p.values("markets"), q.values("markets")) == 0.0
    assert jaccard(p.values("segments"), q.values("segments")) is None
    # Segments are empty in both: left out, so the weights 0.4, 0.2, 0.2 count.
    expected = (0.4 * 0.5 + 0.2 * 0.5 + 0.2 * 0.0) / (0.4 + 0.2 + 0.2)
    assert similarity(p, q) == pytest.approx(expected) == pytest.approx(0.375)
    assert similarity(p, q) == similarity(q, p)
    # Steps alone: 0.5; technologies and markets alone: 0.25.
    assert similarity(p, q, parse_weights("steps=3")) == pytest.approx(0.5)
    assert similarity(p, q, parse_weights("technologies=1,markets=1")) == pytest.approx(0.25)


# R {A,B}, S {A,B,C}, T {A,D} by steps alone: J(R,S) = 2/3, J(R,T) = 1/3, J(S,T) = 1/4.
# UPGMA: R+S at distance 1/3; then {R,S}–T at ((1 − 1/3) + (1 − 1/4)) / 2 = 17/24.
HAND = f"""{HEADER}
T,A;D,,,
S,A;B;C,,,
R,A;B,,,
"""


def test_cohesion_and_merge_heights_by_hand() -> None:
    products = parse_products(HAND)
    steps_only = {"steps": 1.0}
    merges = cluster_products(products, weights=steps_only, threshold=1.0).merges
    assert [(left, right) for left, right, _ in merges] == [(("R",), ("S",)), (("R", "S"), ("T",))]
    assert [d for *_, d in merges] == pytest.approx([1 / 3, 17 / 24])

    whole = cluster_products(products, weights=steps_only, threshold=1.0).families
    assert len(whole) == 1
    assert whole[0].cohesion == pytest.approx((2 / 3 + 1 / 3 + 1 / 4) / 3)

    split = cluster_products(products, weights=steps_only, threshold=0.5).families
    assert [f.products for f in split] == [("R", "S"), ("T",)]
    assert split[0].cohesion == pytest.approx(2 / 3)
    assert split[1].cohesion == 1.0
    # R+S exists for thresholds in [1/3, 17/24); T alone below 17/24.
    assert split[0].formed_at == pytest.approx(1 / 3)
    assert split[0].joins_at == pytest.approx(17 / 24)
    assert split[1].formed_at is None
    assert split[1].joins_at == pytest.approx(17 / 24)
    # Nearest family: mean similarity of T to R and S = (1/3 + 1/4) / 2.
    assert split[0].nearest == split[1].name
    assert split[0].nearest_similarity == pytest.approx((1 / 3 + 1 / 4) / 2)


def test_threshold_moves_the_cut() -> None:
    products = read_products(SAMPLE)
    alone = cluster_products(products, threshold=0.0)
    assert len(alone.families) == len(products)
    assert all(f.cohesion == 1.0 for f in alone.families)
    one = cluster_products(products, threshold=1.0)
    assert len(one.families) == 1
    assert one.families[0].products == tuple(sorted(p.name for p in products))
    counts = [len(cluster_products(products, threshold=t / 20).families) for t in range(21)]
    assert counts == sorted(counts, reverse=True)  # a higher threshold never splits a family
    # Identical products are indistinguishable: they join even at threshold 0.
    twins = parse_products(f"{HEADER}\nX,A;B,Go,EU,Retail\nY,A;B,Go,EU,Retail\nZ,C,Go,EU,Retail\n")
    assert families_of(cluster_products(twins, threshold=0.0)) == {
        frozenset({"X", "Y"}),
        frozenset({"Z"}),
    }


# -- the clustering against two independent computations ---------------------------------------


def plain_upgma(
    names: list[str], dist: dict[frozenset[str], float], t: float
) -> set[frozenset[str]]:
    """Average linkage from scratch: the mean over all pairs of original distances, every time."""
    groups = [frozenset({n}) for n in sorted(names)]
    while len(groups) > 1:
        best = None
        for a, b in combinations(groups, 2):
            d = sum(dist[frozenset({x, y})] for x in a for y in b) / (len(a) * len(b))
            if best is None or d < best[0] - 1e-12:
                best = (d, a, b)
        assert best is not None
        d, a, b = best
        if d > t + 1e-12:
            break
        groups = [g for g in groups if g not in (a, b)] + [a | b]
    return set(groups)


def random_catalogue(seed: int, n: int = 14) -> list[Product]:
    rng = random.Random(seed)
    pools = {
        "steps": [f"s{i}" for i in range(12)],
        "technologies": [f"t{i}" for i in range(8)],
        "markets": ["EU", "UK", "US", "APAC"],
        "segments": ["Retail", "SMB", "Enterprise", "Public"],
    }
    products = []
    for k in range(n):
        attributes = {
            a: frozenset(rng.sample(pool, rng.randint(1 if a == "steps" else 0, len(pool) // 2)))
            for a, pool in pools.items()
        }
        products.append(Product(f"P{k:02d}", attributes))
    return products


@pytest.mark.parametrize("seed", range(8))
def test_clustering_agrees_with_plain_python_upgma(seed: int) -> None:
    products = random_catalogue(seed)
    by_name = {p.name: p for p in products}
    dist = {
        frozenset({a, b}): 1 - similarity(by_name[a], by_name[b], DEFAULT_WEIGHTS)
        for a, b in combinations(by_name, 2)
    }
    for t in (0.3, 0.5, 0.6, 0.7, 0.8):
        expected = plain_upgma(list(by_name), dist, t)
        assert families_of(cluster_products(products, threshold=t)) == expected, (seed, t)


@pytest.mark.parametrize("source", ["sample", "designed", *range(4)])
def test_merge_heights_and_cuts_agree_with_scipy(source: str | int) -> None:
    if source == "sample":
        products = read_products(SAMPLE)
    elif source == "designed":
        products = parse_products(DESIGNED)
    else:
        products = random_catalogue(100 + int(source))
    ordered = sorted(products, key=lambda p: p.name)
    distance = 1 - similarity_matrix(ordered)
    reference = linkage(squareform(distance, checks=False), method="average")
    ours = upgma(distance)
    assert [m.distance for m in ours] == pytest.approx(sorted(reference[:, 2]))
    heights = sorted({round(m.distance, 9) for m in ours})
    # Cut between every pair of consecutive merge heights (never on one).
    for t in [0.0, *((a + b) / 2 for a, b in pairwise(heights)), 1.0]:
        labels = fcluster(reference, t=t, criterion="distance")
        expected = {
            frozenset(p.name for p, label in zip(ordered, labels, strict=True) if label == k)
            for k in set(labels)
        }
        assert families_of(cluster_products(products, threshold=t)) == expected, t


# -- the explanation and the matrices -----------------------------------------------------------


def test_shared_and_distinctive_values() -> None:
    result = cluster_products(parse_products(DESIGNED))
    a = result.families[0]
    # Build, Unit test and Release: 3 or 4 of 4 (≥ 75 %) are shared; Plan (3 of 4) too.
    assert a.shared["steps"] == ("Code review", "Unit test", "Build", "Plan", "Release")
    assert a.shared["technologies"] == ("Go",)
    assert a.shared["segments"] == ("Retail",)  # Wholesale is 1 of 4
    # EU is held by every product, inside and out: shared but not distinctive.
    assert a.shared["markets"] == ("EU",)
    assert [(d.attribute, d.value) for d in a.distinctive] == [
        ("steps", "Unit test"),
        ("technologies", "Go"),
        ("segments", "Retail"),
    ]
    assert (a.distinctive[0].inside, a.distinctive[0].outside) == (1.0, 0.0)
    assert a.name == "Family 1: Unit test + Build"
    b = result.families[1]
    # Swift and Kotlin are each in 2 of 3 B products (67 %): not shared.
    assert b.shared["technologies"] == ()
    assert b.cohesion == pytest.approx(
        np.mean([similarity(x, y) for x, y in combinations(parse_products(DESIGNED)[4:7], 2)])
    )


def test_matrices_in_family_order() -> None:
    result = cluster_products(parse_products(DESIGNED))
    doc = result.to_dict()["matrix"]
    assert doc["products"] == list(result.order)
    assert doc["family"][:4] == [result.families[0].name] * 4
    products = {p.name: p for p in parse_products(DESIGNED)}
    for name, row in zip(doc["products"], doc["process"], strict=True):
        assert {s for s, cell in zip(doc["steps"], row, strict=True) if cell} == set(
            products[name].values("steps")
        )
    # Steps are grouped by the family that uses them most: A's first, then B's, then C's.
    assert doc["steps"][:5] == ["Code review", "Unit test", "Build", "Plan", "Release"]
    sim = np.array(doc["similarity"])
    assert np.allclose(sim, sim.T) and np.allclose(np.diag(sim), 1.0)
    assert sim[0, 1] == pytest.approx(similarity(products["A1"], products["A2"]), abs=1e-6)


def test_accepted_grouping_as_value_streams() -> None:
    result = cluster_products(read_products(SAMPLE))
    streams = value_streams(result)
    assert [(s.name, s.products) for s in streams] == [
        (f.name, f.products) for f in result.families
    ]
    doc = tomllib.loads(value_streams_toml(result, source="products.csv"))
    assert doc["threshold"] == 0.5
    assert doc["weights"]["steps"] == pytest.approx(0.4)
    assert [(v["name"], tuple(v["products"])) for v in doc["value_stream"]] == [
        (s.name, s.products) for s in streams
    ]


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "product,steps,technologies,segments\nA,x,,\n",
            "products.csv, row 1, field 'markets': missing column",
        ),
        (f"{HEADER}\nA,x,,,\n ,y,,,\n", "products.csv, row 3, field 'product': empty"),
        (
            f"{HEADER}\nA,x,,,\nB,y,,,\nA,z,,,\n",
            "products.csv, row 4, field 'product': product 'A' again (first on row 2)",
        ),
        (f"{HEADER}\nA,x,,,\nB, ; ,Go,,\n", "products.csv, row 3, field 'steps': empty"),
        (f"{HEADER}\nA,x,,,,extra\n", "products.csv, row 2: 6 cells but the header has 5"),
        (f"{HEADER}\n", "products.csv, row 2: the file has a header but no products"),
        ("", "products.csv, row 1: the file is empty"),
        (
            "product,steps,steps,technologies,markets,segments\n",
            "products.csv, row 1, field 'steps': the column appears twice",
        ),
    ],
)
def test_bad_catalogue_names_file_row_and_field(text: str, message: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_products(text, source="products.csv")
    assert str(raised.value).startswith(message)


def test_reader_trims_and_ignores_empty_items() -> None:
    text = f'{HEADER}\n" Shop ", Plan ;; Build;Plan ,"",EU;,\n'
    (product,) = parse_products(text)
    assert product.name == "Shop"
    assert product.values("steps") == {"Plan", "Build"}
    assert product.values("technologies") == frozenset()
    assert product.values("markets") == {"EU"}
    # Values are case-sensitive.
    (upper, lower) = parse_products(f"{HEADER}\nU,API,,,\nL,api,,,\n")
    assert similarity(upper, lower) == 0.0


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("steps=0.5,speed=0.5", "unknown attribute 'speed'"),
        ("steps=-1,markets=2", "steps=-1.0 must be a number ≥ 0"),
        ("steps=much", "steps='much' is not a number"),
        ("steps", "'steps' is not ATTRIBUTE=NUMBER"),
        ("steps=0,markets=0", "at least one attribute needs a weight above 0"),
        ("steps=1,steps=2", "'steps' is given twice"),
    ],
)
def test_bad_weights(weights: str, message: str) -> None:
    with pytest.raises(InputError, match="weights: " + message.replace("(", r"\(")):
        parse_weights(weights)


def test_weights_are_normalised() -> None:
    assert parse_weights("steps=2, markets=2") == {
        "steps": 0.5,
        "technologies": 0.0,
        "markets": 0.5,
        "segments": 0.0,
    }


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan")])
def test_threshold_outside_0_1(threshold: float) -> None:
    with pytest.raises(InputError, match=r"threshold .* is outside \[0, 1\]"):
        cluster_products(parse_products(DESIGNED), threshold=threshold)


# -- the command -----------------------------------------------------------------------------------


def test_cli_json_document() -> None:
    result = runner.invoke(app, ["families", "cluster", str(SAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc["families"], list)
    for family in doc["families"]:
        assert {"name", "products", "cohesion"} <= set(family)
        assert family["products"] == sorted(family["products"])
        assert 0 < family["cohesion"] <= 1
    assert {frozenset(f["products"]) for f in doc["families"]} == SAMPLE_FAMILIES
    assert doc["threshold"] == 0.5
    assert doc["weights"] == {"steps": 0.4, "technologies": 0.2, "markets": 0.2, "segments": 0.2}
    assert set(doc["matrix"]) >= {"products", "steps", "process", "similarity"}


def test_cli_threshold_and_weights() -> None:
    result = runner.invoke(
        app,
        ["families", "cluster", str(SAMPLE), "--json", "--threshold", "0", "--weights", "steps=1"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["weights"]["steps"] == 1.0
    # By steps alone, threshold 0 groups exactly the products with the same process steps.
    same_steps: dict[frozenset[str], set[str]] = {}
    for product in read_products(SAMPLE):
        same_steps.setdefault(product.values("steps"), set()).add(product.name)
    assert {frozenset(f["products"]) for f in doc["families"]} == {
        frozenset(names) for names in same_steps.values()
    }
    assert len(doc["families"]) == 12


def test_cli_text_output() -> None:
    result = runner.invoke(app, ["families", "cluster", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "4 families of 15 products" in result.stdout
    assert "Family 2: API design + Backend build" in result.stdout
    assert "Product–process matrix" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "1.5"], "--threshold 1.5 is outside [0, 1]"),
        (["--weights", "speed=1"], "--weights: unknown attribute 'speed'"),
    ],
)
def test_cli_bad_options(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["families", "cluster", str(SAMPLE), *args])
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())


def test_cli_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(f"{HEADER}\nA,x,,,\nA,y,,,\n", encoding="utf-8")
    result = runner.invoke(app, ["families", "cluster", str(path), "--json"])
    assert result.exit_code == 1
    assert "catalogue.csv, row 3, field 'product': product 'A' again" in result.stderr
    assert result.stdout == ""


def test_cli_out_and_accept(tmp_path: Path, obeya_home: Path) -> None:
    target = tmp_path / "streams.toml"
    args = ["families", "cluster", str(SAMPLE), "--out", str(target), "--accept"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = tomllib.loads(target.read_text(encoding="utf-8"))
    names = [v["name"] for v in doc["value_stream"]]
    assert {frozenset(v["products"]) for v in doc["value_stream"]} == SAMPLE_FAMILIES
    with Store() as store:
        assert [s.name for s in store.list_streams()] == sorted(names)
        assert all(s.events == 0 for s in store.list_streams())
        # Each stream's profile names the family's products.
        profiles = {r.key: r.document["products"] for r in store.records.all("stream-profile")}
        assert profiles == {v["name"]: v["products"] for v in doc["value_stream"]}
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "already exists" in again.stdout


def test_csv_module_round_trip_of_sample() -> None:
    # The sample is valid CSV with exactly the five columns.
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    assert rows[0] == HEADER.split(",")
    assert all(len(row) == 5 for row in rows)


# -- the server's size caps ---------------------------------------------------------------------


def test_catalogue_size_caps_name_the_field_and_the_cap() -> None:
    from obeya.core.steering.families import check_catalogue_size

    products = [Product(f"P{i}", {"steps": frozenset({f"s{i}", "common"})}) for i in range(5)]
    check_catalogue_size(products, max_products=5, max_steps=6)  # at the caps: fine
    with pytest.raises(InputError, match="file: 5 products; the server clusters at most 4"):
        check_catalogue_size(products, where="file", max_products=4)
    with pytest.raises(InputError, match=r"6 distinct process steps; .* at most 5"):
        check_catalogue_size(products, max_steps=5)


def test_an_over_cap_upload_is_refused_with_422(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBEYA_MAX_FAMILY_PRODUCTS", "3")
    rows = "\n".join(f"P{i},Build;Test,Go,EU,Retail" for i in range(4))
    files = {"file": ("products.csv", f"{HEADER}\n{rows}\n", "text/csv")}
    response = client.post("/api/families/cluster", files=files)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == (
        "file: products.csv: 4 products; the server clusters at most 3 "
        "(use `obeya families cluster` for larger catalogues)"
    )
    three = {"file": ("products.csv", f"{HEADER}\n" + "\n".join(rows.split("\n")[:3]), "text/csv")}
    assert client.post("/api/families/cluster", files=three).status_code == 200


def test_the_default_cap_is_a_thousand_products() -> None:
    from obeya.core.steering.families import MAX_PRODUCTS, check_catalogue_size

    assert MAX_PRODUCTS == 1000
    many = [Product(f"P{i}", {"steps": frozenset({"Build"})}) for i in range(1001)]
    with pytest.raises(InputError, match="1,001 products; the server clusters at most 1,000"):
        check_catalogue_size(many)


@pytest.mark.parametrize("seed", range(4))
def test_vectorised_similarity_equals_the_pairwise_definition(seed: int) -> None:
    rng = random.Random(seed)
    values = [f"v{i}" for i in range(6)]
    products = [
        Product(
            f"P{i}",
            {a: frozenset(rng.sample(values, rng.randint(0, 3))) for a in DEFAULT_WEIGHTS},
        )
        for i in range(25)
    ]
    matrix = similarity_matrix(products)
    for i, j in combinations(range(len(products)), 2):
        assert matrix[i, j] == matrix[j, i] == similarity(products[i], products[j])
    assert (np.diag(matrix) == 1.0).all()
