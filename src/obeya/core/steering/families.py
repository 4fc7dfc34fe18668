"""Product families → candidate value streams (docs/steering.md, "Product families").

A catalogue of products and services, each with its process steps, technologies, markets and
customer segments, is clustered into families: products that go through the same process and
serve the same markets belong in one value stream.

Conventions:

* **Similarity** of two products: a weighted mean over the attributes of the Jaccard index
  ``|A ∩ B| / |A ∪ B|`` of their value sets. An attribute empty in both products says nothing
  about them and is left out of that pair's mean (its weight is not counted). Default weights:
  steps 0.4, technologies 0.2, markets 0.2, segments 0.2 (process steps first, as in a
  product–process matrix); given weights are normalised to sum to 1. Distance = 1 − similarity.
* **Clustering**: agglomerative, average linkage (UPGMA), cut at a distance threshold: two
  groups join when the mean distance between their products is ≤ the threshold (so products
  with identical attributes join even at threshold 0; at threshold 1 everything is one family).
* **Order**: products are sorted by name (code-point order, case-sensitive) before anything
  else, so the result does not depend on the row order of the file. Among equally close pairs
  (within 1e-12) the pair whose alphabetically first products come first is merged first.
* **Families** are listed largest first, then by their first product's name, and named after
  up to two process steps that set them apart (``Family 1: Card tokenisation + PCI review``).
* **Cohesion** of a family: the mean pairwise similarity of its products (1.0 for one product).
* **Explanation**: ``shared`` lists, per attribute, the values held by at least 75 % of the
  family's products; ``distinctive`` the values held by at least half of the family whose share
  inside the family most exceeds their share among the other products (top three).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from obeya.errors import InputError, ParseError

#: The attributes of a product, in the order of the CSV columns after ``product``.
ATTRIBUTES: tuple[str, ...] = ("steps", "technologies", "markets", "segments")
#: The CSV columns, in order.
COLUMNS: tuple[str, ...] = ("product", *ATTRIBUTES)
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "steps": 0.4,
    "technologies": 0.2,
    "markets": 0.2,
    "segments": 0.2,
}
DEFAULT_THRESHOLD = 0.5
#: Size caps a server applies to a catalogue sent in a request (:func:`check_catalogue_size`):
#: the similarity matrix and the agglomeration grow with products², the process matrix with
#: products × steps. 1,000 products cluster in about 0.6 s (measured when the cap was set,
#: 2 vCPU; docs/access.md, "Limits").
MAX_PRODUCTS = 1_000
MAX_STEPS = 1_000
#: Share of a family's products that must hold a value for it to count as shared.
SHARED_SHARE = 0.75
#: How many distinctive values each family lists, and how many steps its name takes.
DISTINCTIVE_TOP = 3
NAME_STEPS = 2
#: Distances closer than this are ties (sums of float shares differ in the last bits).
_TIE = 1e-12
_ROUND = 6


@dataclass(frozen=True)
class Product:
    """A product or service and its attribute values (``steps``, ``technologies``, …)."""

    name: str
    attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def values(self, attribute: str) -> frozenset[str]:
        return self.attributes.get(attribute, frozenset())


# -- reading -------------------------------------------------------------------------------


def read_products(path: str | Path) -> list[Product]:
    """Read a catalogue CSV with columns ``product,steps,technologies,markets,segments``.

    Each attribute cell is a ``;``-separated list. Names and values are trimmed, empty list
    items ignored, duplicates within a cell dropped; values are case-sensitive (``API`` and
    ``api`` differ). Other columns are ignored. Every product needs a name (unique) and at
    least one process step. Errors (:class:`~obeya.errors.ParseError`) name the file, the row
    (the header is row 1) and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ParseError(
            "not UTF-8 text; save the catalogue as UTF-8 CSV", file=path.name
        ) from None
    return parse_products(text, source=path.name)


def parse_products(text: str, *, source: str = "products.csv") -> list[Product]:
    """The products of a catalogue CSV's text (see :func:`read_products`), in file order."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        raise ParseError(
            f"the file is empty; it needs a header: {','.join(COLUMNS)}", file=source, row=1
        )
    names = [cell.strip() for cell in header]
    for index, name in enumerate(names):
        if name and name in names[:index]:
            raise ParseError("the column appears twice", file=source, row=1, field=name)
    for column in COLUMNS:
        if column not in names:
            raise ParseError(
                f"missing column; the header needs {','.join(COLUMNS)} "
                f"(found: {','.join(n for n in names if n) or 'nothing'})",
                file=source,
                row=1,
                field=column,
            )
    position = {column: names.index(column) for column in COLUMNS}
    products: list[Product] = []
    first_row: dict[str, int] = {}
    row_number = 1
    for cells in rows:
        row_number += 1
        if not any(cell.strip() for cell in cells):
            continue  # blank lines between groups of products are allowed
        if len(cells) > len(names):
            raise ParseError(
                f"{len(cells)} cells but the header has {len(names)} columns; quote a cell "
                "that contains a comma",
                file=source,
                row=row_number,
            )
        cells = cells + [""] * (len(names) - len(cells))
        name = cells[position["product"]].strip()
        if not name:
            raise ParseError(
                "empty; give the product's name", file=source, row=row_number, field="product"
            )
        if name in first_row:
            raise ParseError(
                f"product {name!r} again (first on row {first_row[name]}); names are unique",
                file=source,
                row=row_number,
                field="product",
            )
        first_row[name] = row_number
        attributes = {a: _split(cells[position[a]]) for a in ATTRIBUTES}
        if not attributes["steps"]:
            raise ParseError(
                "empty; list the product's process steps separated by ';'",
                file=source,
                row=row_number,
                field="steps",
            )
        products.append(Product(name, attributes))
    if not products:
        raise ParseError("the file has a header but no products", file=source, row=2)
    return products


def _split(cell: str) -> frozenset[str]:
    return frozenset(item.strip() for item in cell.split(";") if item.strip())


def check_catalogue_size(
    products: Sequence[Product],
    *,
    where: str = "products",
    max_products: int = MAX_PRODUCTS,
    max_steps: int = MAX_STEPS,
) -> None:
    """Refuse a catalogue larger than a shared server should cluster in one request, naming
    the field and the cap (the CLI clusters any size)."""
    if len(products) > max_products:
        raise InputError(
            f"{where}: {len(products):,} products; the server clusters at most "
            f"{max_products:,} (use `obeya families cluster` for larger catalogues)"
        )
    steps = len({s for p in products for s in p.values("steps")})
    if steps > max_steps:
        raise InputError(
            f"{where}: {steps:,} distinct process steps; the server clusters at most "
            f"{max_steps:,} (use `obeya families cluster` for larger catalogues)"
        )


# -- options -------------------------------------------------------------------------------


def parse_weights(text: str) -> dict[str, float]:
    """``steps=0.4,technologies=0.2,…`` → normalised weights. Attributes not named weigh 0
    (``steps=1`` clusters by process steps alone, the classic product–process matrix)."""
    given: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        attribute, sep, value = (s.strip() for s in part.partition("="))
        if not sep:
            raise InputError(f"{{opt:weights}}: {part.strip()!r} is not ATTRIBUTE=NUMBER")
        if attribute in given:
            raise InputError(f"{{opt:weights}}: {attribute!r} is given twice")
        try:
            given[attribute] = float(value)
        except ValueError:
            raise InputError(f"{{opt:weights}}: {attribute}={value!r} is not a number") from None
    return normalise_weights(given)


def normalise_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights for every attribute (0 for those not given), scaled to sum to 1."""
    for attribute, weight in weights.items():
        if attribute not in ATTRIBUTES:
            raise InputError(
                f"{{opt:weights}}: unknown attribute {attribute!r}; known: {', '.join(ATTRIBUTES)}"
            )
        if not (math.isfinite(weight) and weight >= 0):
            raise InputError(f"{{opt:weights}}: {attribute}={weight} must be a number ≥ 0")
    total = sum(weights.values())
    if total <= 0:
        raise InputError("{opt:weights}: at least one attribute needs a weight above 0")
    return {a: weights.get(a, 0.0) / total for a in ATTRIBUTES}


def check_threshold(threshold: float) -> float:
    if not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
        raise InputError(
            f"{{opt:threshold}} {threshold} is outside [0, 1]; it is a distance (1 − similarity)"
        )
    return threshold


# -- similarity ------------------------------------------------------------------------------


def jaccard(a: frozenset[str], b: frozenset[str]) -> float | None:
    """|A ∩ B| / |A ∪ B|; None when both are empty (nothing to compare)."""
    union = len(a | b)
    return None if union == 0 else len(a & b) / union


def similarity(a: Product, b: Product, weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> float:
    """Weighted mean of the per-attribute Jaccard indexes, in [0, 1]. Attributes empty in
    both products (or weighing 0) are left out; 0.0 if nothing is left to compare."""
    total = weight_sum = 0.0
    for attribute in ATTRIBUTES:
        weight = weights.get(attribute, 0.0)
        index = jaccard(a.values(attribute), b.values(attribute))
        if weight > 0 and index is not None:
            total += weight * index
            weight_sum += weight
    return total / weight_sum if weight_sum > 0 else 0.0


def similarity_matrix(
    products: Sequence[Product], weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> npt.NDArray[np.float64]:
    """Pairwise :func:`similarity` (symmetric, 1.0 on the diagonal), computed with matrix
    products of the 0/1 product × value incidence of each attribute: a Python loop over the
    n²/2 pairs took seconds at a thousand products. The arithmetic is the same as
    :func:`similarity`'s (same divisions, same order of the sum), so the values are too."""
    n = len(products)
    total = np.zeros((n, n))
    weight_sum = np.zeros((n, n))
    for attribute in ATTRIBUTES:
        weight = weights.get(attribute, 0.0)
        if weight <= 0:
            continue
        incidence = _incidence(products, attribute)
        inter = incidence @ incidence.T  # exact: counts far below 2**24
        sizes = incidence.sum(axis=1, dtype=np.float64)
        union = sizes[:, None] + sizes[None, :] - inter
        compared = union > 0
        index = np.divide(inter, union, out=np.zeros((n, n)), where=compared)
        total += np.where(compared, weight * index, 0.0)
        weight_sum += np.where(compared, weight, 0.0)
    matrix = np.divide(total, weight_sum, out=np.zeros((n, n)), where=weight_sum > 0)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def _incidence(products: Sequence[Product], attribute: str) -> npt.NDArray[np.float32]:
    """Products × values of ``attribute``, 1 where the product holds the value."""
    columns: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, product in enumerate(products):
        for value in product.values(attribute):
            rows.append(i)
            cols.append(columns.setdefault(value, len(columns)))
    incidence = np.zeros((len(products), len(columns)), dtype=np.float32)
    incidence[rows, cols] = 1.0
    return incidence


# -- clustering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Merge:
    """One step of the agglomeration: two groups (indexes into the sorted products) joined
    at ``distance`` (the mean distance between their products)."""

    left: tuple[int, ...]
    right: tuple[int, ...]
    distance: float


def upgma(distance: npt.NDArray[np.float64]) -> list[Merge]:
    """Average-linkage (UPGMA) agglomeration of a symmetric distance matrix: n − 1 merges in
    order of increasing distance (average linkage never merges below an earlier merge).

    Ties: a group is known by its lowest index; among pairs within 1e-12 of the smallest
    distance, the pair with the lowest first index, then the lowest second, merges first."""
    n = len(distance)
    d = np.array(distance, dtype=np.float64)
    np.fill_diagonal(d, np.inf)
    # Each row's smallest distance, kept up to date, so a step scans n minima rather than
    # the n² matrix (the whole matrix per merge made the agglomeration cubic).
    row_min = d.min(axis=1) if n else np.empty(0)
    size = np.ones(n)
    members: dict[int, tuple[int, ...]] = {i: (i,) for i in range(n)}
    merges: list[Merge] = []
    for _ in range(n - 1):
        smallest = row_min.min()
        # The lowest row holding a pair within the tie, then its lowest such column (above
        # the diagonal: a lower column would be an earlier row with the same pair).
        i = int(np.argmax(row_min <= smallest + _TIE))
        j = int(np.argmax(d[i] <= smallest + _TIE))
        merges.append(Merge(members[i], members[j], float(d[i, j])))
        # Lance–Williams update for average linkage: the size-weighted mean of the distances.
        joined = (size[i] * d[i] + size[j] * d[j]) / (size[i] + size[j])
        # Rows whose minimum sat in column i or j may have lost it: look at them again.
        stale = (d[:, i] == row_min) | (d[:, j] == row_min)
        d[i, :] = joined
        d[:, i] = joined
        d[i, i] = np.inf
        d[j, :] = np.inf
        d[:, j] = np.inf
        np.minimum(row_min, joined, out=row_min)
        stale[[i, j]] = True
        rows = np.nonzero(stale)[0]
        row_min[rows] = d.min(axis=1)[rows] if 2 * len(rows) > n else d[rows].min(axis=1)
        size[i] += size[j]
        members[i] = tuple(sorted(members[i] + members.pop(j)))
    return merges


def cut(merges: Iterable[Merge], n: int, threshold: float) -> list[tuple[int, ...]]:
    """The groups left when only the merges at distance ≤ ``threshold`` are made, each sorted,
    in order of their lowest index."""
    group = list(range(n))
    for merge in merges:
        if merge.distance <= threshold + _TIE:
            target = group[merge.left[0]]
            for index in merge.right:
                group[index] = target
            for index in merge.left:
                group[index] = target
    found: dict[int, list[int]] = {}
    for index in range(n):
        found.setdefault(group[index], []).append(index)
    return [tuple(members) for members in found.values()]


# -- the result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Distinctive:
    """A value common in a family but rarer outside it; shares in [0, 1]."""

    attribute: str
    value: str
    inside: float
    outside: float


@dataclass(frozen=True)
class Family:
    """A candidate value stream: its products (sorted), how alike they are and why.

    ``formed_at``: the distance of the family's last inner merge (None for one product);
    ``joins_at``: the distance at which it joins another group (None if it never does). The
    family stays as it is for every threshold in [formed_at, joins_at)."""

    name: str
    products: tuple[str, ...]
    cohesion: float
    shared: dict[str, tuple[str, ...]]
    distinctive: tuple[Distinctive, ...]
    nearest: str | None
    nearest_similarity: float | None
    formed_at: float | None
    joins_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "products": list(self.products),
            "cohesion": _r(self.cohesion),
            "shared": {a: list(v) for a, v in self.shared.items()},
            "distinctive": [
                {
                    "attribute": d.attribute,
                    "value": d.value,
                    "inside": _r(d.inside),
                    "outside": _r(d.outside),
                }
                for d in self.distinctive
            ],
            "nearest": None
            if self.nearest is None
            else {"family": self.nearest, "similarity": _r(self.nearest_similarity)},
            "formed_at": _r(self.formed_at),
            "joins_at": _r(self.joins_at),
        }


@dataclass(frozen=True)
class FamilyClustering:
    """Families of a catalogue and the matrices behind them.

    ``order`` is the products in family order (families in turn, products sorted within),
    the row order of ``process`` (products × ``steps``, 0/1) and of ``similarity``."""

    threshold: float
    weights: dict[str, float]
    families: tuple[Family, ...]
    order: tuple[str, ...]
    steps: tuple[str, ...]
    process: npt.NDArray[np.int8]
    similarity: npt.NDArray[np.float64]
    merges: tuple[tuple[tuple[str, ...], tuple[str, ...], float], ...]

    def to_dict(self) -> dict[str, Any]:
        family_of = {p: f.name for f in self.families for p in f.products}
        return {
            "threshold": self.threshold,
            "weights": {a: _r(w) for a, w in self.weights.items()},
            "families": [f.to_dict() for f in self.families],
            "matrix": {
                "products": list(self.order),
                "family": [family_of[p] for p in self.order],
                "steps": list(self.steps),
                "process": self.process.tolist(),
                "similarity": [[_r(float(v)) for v in row] for row in self.similarity],
            },
            "merges": [
                {"left": list(left), "right": list(right), "distance": _r(distance)}
                for left, right, distance in self.merges
            ],
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, _ROUND)


def cluster_products(
    products: Sequence[Product],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    weights: Mapping[str, float] | None = None,
) -> FamilyClustering:
    """Cluster a catalogue into candidate value streams (conventions in the module docstring).

    ``weights`` are normalised (attributes not given weigh 0); ``threshold`` is a distance in
    [0, 1]. The result depends on the products, never on their order."""
    check_threshold(threshold)
    chosen = normalise_weights(DEFAULT_WEIGHTS if weights is None else weights)
    if not products:
        raise InputError("no products to cluster")
    names = [p.name for p in products]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise InputError(f"product {duplicate!r} appears twice; names are unique")
    ordered = sorted(products, key=lambda p: p.name)
    sim = similarity_matrix(ordered, chosen)
    merges = upgma(1.0 - sim)
    groups = cut(merges, len(ordered), threshold)
    groups.sort(key=lambda g: (-len(g), g[0]))  # largest first, then by first name
    families = _describe(ordered, groups, sim, merges, threshold)
    order = [i for g in groups for i in g]
    steps = _step_order(ordered, groups)
    column = {step: k for k, step in enumerate(steps)}
    process = np.zeros((len(order), len(steps)), dtype=np.int8)
    for row, i in enumerate(order):
        process[row, [column[s] for s in ordered[i].values("steps")]] = 1
    return FamilyClustering(
        threshold=threshold,
        weights=chosen,
        families=tuple(families),
        order=tuple(ordered[i].name for i in order),
        steps=tuple(steps),
        process=process,
        similarity=sim[np.ix_(order, order)],
        merges=tuple(
            (
                tuple(ordered[i].name for i in m.left),
                tuple(ordered[i].name for i in m.right),
                m.distance,
            )
            for m in merges
        ),
    )


def _shares(products: Sequence[Product], group: Iterable[int]) -> dict[tuple[str, str], float]:
    """Share of the group's products holding each (attribute, value)."""
    members = list(group)
    counts: dict[tuple[str, str], int] = {}
    for i in members:
        for attribute in ATTRIBUTES:
            for value in products[i].values(attribute):
                counts[attribute, value] = counts.get((attribute, value), 0) + 1
    return {key: count / len(members) for key, count in counts.items()} if members else {}


def _describe(
    products: Sequence[Product],
    groups: Sequence[tuple[int, ...]],
    sim: npt.NDArray[np.float64],
    merges: Sequence[Merge],
    threshold: float,
) -> list[Family]:
    """Name and explain each family. Every figure comes from whole-catalogue aggregates
    (value counts, one family × family product of the similarity matrix, one pass over the
    merges), so describing many families stays O(n²), not O(families × n²)."""
    n = len(products)
    rank = {a: k for k, a in enumerate(ATTRIBUTES)}
    everywhere = _counts(products, range(n))
    names: list[str] = []
    explained: list[tuple[dict[str, tuple[str, ...]], tuple[Distinctive, ...]]] = []
    for number, group in enumerate(groups, start=1):
        counts = _counts(products, group)
        inside = {key: count / len(group) for key, count in counts.items()}
        rest = n - len(group)
        outside = {
            key: (everywhere[key] - counts.get(key, 0)) / rest
            for key in inside
            if rest and everywhere[key] > counts.get(key, 0)
        }
        scored = sorted(
            (
                (-(share - outside.get(key, 0.0)), -share, rank[key[0]], key[1], key)
                for key, share in inside.items()
                if share >= 0.5
            ),
        )
        steps = [key[1] for *_, key in scored if key[0] == "steps"][:NAME_STEPS]
        names.append(f"Family {number}: {' + '.join(steps)}" if steps else f"Family {number}")
        shared = {
            a: tuple(
                v
                for _, v in sorted(
                    (-share, value)
                    for (attr, value), share in inside.items()
                    if attr == a and share >= SHARED_SHARE - _TIE
                )
            )
            for a in ATTRIBUTES
        }
        distinctive = tuple(
            Distinctive(key[0], key[1], inside[key], outside.get(key, 0.0))
            for lift, *_, key in scored
            if -lift > 0
        )[:DISTINCTIVE_TOP]
        explained.append((shared, distinctive))
    family_of = np.empty(n, dtype=np.intp)
    for k, group in enumerate(groups):
        family_of[list(group)] = k
    membership = np.zeros((n, len(groups)))
    membership[np.arange(n), family_of] = 1.0
    sizes = membership.sum(axis=0)
    block_sums = membership.T @ sim @ membership
    block_means = block_sums / np.outer(sizes, sizes)
    # In merge order, a group's inner merges come before the merges that join it to others:
    # the last merge within the cut that lands in a family formed it; the first one above the
    # cut that holds one of its products joins it to another group.
    formed: dict[int, float] = {}
    joins: dict[int, float] = {}
    for merge in merges:
        if merge.distance <= threshold + _TIE:
            formed[int(family_of[merge.left[0]])] = merge.distance
            continue
        for index in (*merge.left, *merge.right):
            joins.setdefault(int(family_of[index]), merge.distance)
    families: list[Family] = []
    for k, group in enumerate(groups):
        m = len(group)
        cohesion = 1.0 if m == 1 else float((block_sums[k, k] - m) / (m * (m - 1)))
        nearest: str | None = None
        nearest_similarity: float | None = None
        for other in range(len(groups)):
            if other == k:
                continue
            mean = float(block_means[k, other])
            if nearest_similarity is None or mean > nearest_similarity + _TIE:
                nearest, nearest_similarity = names[other], mean
        families.append(
            Family(
                name=names[k],
                products=tuple(products[i].name for i in group),
                cohesion=cohesion,
                shared=explained[k][0],
                distinctive=explained[k][1],
                nearest=nearest,
                nearest_similarity=nearest_similarity,
                formed_at=formed.get(k),
                joins_at=joins.get(k),
            )
        )
    return families


def _counts(products: Sequence[Product], group: Iterable[int]) -> dict[tuple[str, str], int]:
    """How many of the group's products hold each (attribute, value)."""
    counts: dict[tuple[str, str], int] = {}
    for i in group:
        for attribute in ATTRIBUTES:
            for value in products[i].values(attribute):
                counts[attribute, value] = counts.get((attribute, value), 0) + 1
    return counts


def _step_order(products: Sequence[Product], groups: Sequence[tuple[int, ...]]) -> list[str]:
    """Steps ordered so the matrix reads as blocks: by the family that uses a step most (the
    earlier family on a tie), then by how many products use it (most first), then by name."""
    best: dict[str, tuple[float, int]] = {}
    count: dict[str, int] = {}
    for k, group in enumerate(groups):
        for (attribute, step), share in _shares(products, group).items():
            if attribute != "steps":
                continue
            count[step] = count.get(step, 0) + round(share * len(group))
            if step not in best or share > best[step][0] + _TIE:
                best[step] = (share, k)
    return sorted(best, key=lambda s: (best[s][1], -count[s], s))


# -- accepted families → value streams ---------------------------------------------------------


@dataclass(frozen=True)
class ValueStreamDefinition:
    """A value stream to create from an accepted family: its name and its products."""

    name: str
    products: tuple[str, ...]
    cohesion: float


def value_streams(clustering: FamilyClustering) -> list[ValueStreamDefinition]:
    """One value stream definition per family, in family order."""
    return [ValueStreamDefinition(f.name, f.products, f.cohesion) for f in clustering.families]


def value_streams_toml(clustering: FamilyClustering, *, source: str | None = None) -> str:
    """The accepted grouping as TOML: a ``[[value_stream]]`` table per family (``name``,
    ``products``, ``cohesion``) after the threshold and weights that produced it."""
    import json

    def text(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML

    lines = ["# Value streams accepted from `obeya families cluster`"]
    if source is not None:
        lines.append(f"source = {text(source)}")
    lines.append(f"threshold = {clustering.threshold!r}")
    weights = ", ".join(f"{a} = {_r(w)!r}" for a, w in clustering.weights.items())
    lines.append(f"weights = {{ {weights} }}")
    for stream in value_streams(clustering):
        lines += [
            "",
            "[[value_stream]]",
            f"name = {text(stream.name)}",
            f"products = [{', '.join(text(p) for p in stream.products)}]",
            f"cohesion = {_r(stream.cohesion)!r}",
        ]
    return "\n".join(lines) + "\n"
