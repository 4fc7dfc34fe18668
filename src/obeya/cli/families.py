"""``obeya families cluster``: product families → candidate value streams (docs/steering.md,
"Product families"). A sub-app, registered by :mod:`obeya.cli.main`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from obeya.cli.common import PlainTable, err, handle_errors, lines, out, print_json, safe
from obeya.core.steering.families import (
    DEFAULT_THRESHOLD,
    FamilyClustering,
    cluster_products,
    parse_weights,
    read_products,
    value_streams,
    value_streams_toml,
)
from obeya.render.numbers import share

families_app = typer.Typer(
    help="Product families: cluster a product catalogue into candidate value streams.",
    no_args_is_help=True,
)


@families_app.command("cluster")
def cluster_command(
    products: Annotated[
        Path,
        typer.Argument(
            help="Catalogue CSV: product,steps,technologies,markets,segments; each attribute "
            "cell a ';'-separated list."
        ),
    ],
    threshold: Annotated[
        float,
        typer.Option(
            help="Distance (1 − similarity) up to which groups join, in [0, 1]: lower gives "
            "more, tighter families."
        ),
    ] = DEFAULT_THRESHOLD,
    weights: Annotated[
        str | None,
        typer.Option(
            help="Attribute weights, normalised; unnamed attributes weigh 0 "
            "(default: steps=0.4,technologies=0.2,markets=0.2,segments=0.2)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON document.")] = False,
    output: Annotated[
        Path | None,
        typer.Option("--out", help="Write the families as value stream definitions (TOML)."),
    ] = None,
    accept: Annotated[
        bool,
        typer.Option(
            help="Accept the grouping: create each family as an (empty) value stream in the "
            "app store; existing streams are left as they are."
        ),
    ] = False,
) -> None:
    """Cluster products by their process steps, technologies, markets and segments (weighted
    Jaccard similarity, average linkage) and explain each family."""
    with handle_errors():
        chosen = parse_weights(weights) if weights is not None else None
        result = cluster_products(read_products(products), threshold=threshold, weights=chosen)
        if output is not None:
            output.write_text(value_streams_toml(result, source=products.name), encoding="utf-8")
        created, existing = _accept(result) if accept else ([], [])
    console = err if as_json else out
    if as_json:
        print_json(result.to_dict())
    else:
        _print_clustering(result, console)
    if output is not None:
        console.print(f"{len(result.families)} value stream definitions written to {safe(output)}")
    if accept:
        for name in created:
            console.print(f"value stream '{safe(name)}' created")
        for name in existing:
            console.print(f"value stream '{safe(name)}' already exists: left as it is")
        if output is None:
            console.print(
                "the store does not hold a stream's products yet: keep them with --out FILE"
            )


def _accept(result: FamilyClustering) -> tuple[list[str], list[str]]:
    """Create the families as value streams (empty until history is imported), each with a
    stream profile naming its products; (created, already there). A stream that exists keeps
    its data; its profile's products are set to the family's, its needed skills kept."""
    from obeya.cli.maps_store import default_author
    from obeya.errors import NotFoundError
    from obeya.workspace import Workspace

    created: list[str] = []
    existing: list[str] = []
    with Workspace() as ws:
        ws.initialise()
        there = {s.name for s in ws.streams()}
        for stream in value_streams(result):
            if stream.name in there:
                existing.append(stream.name)
            else:
                ws.create_stream(stream.name)
                created.append(stream.name)
            try:
                profile = ws.steering.record("stream-profile", stream.name).document
            except NotFoundError:
                profile = {"key": stream.name, "needs": []}
            ws.steering.save_record(
                "stream-profile",
                {**profile, "products": list(stream.products)},
                author=default_author(),
                message="products from `obeya families cluster --accept`",
            )
    return created, existing


def _shares(values: dict[str, tuple[str, ...]]) -> Text:
    return lines(f"{a}: {', '.join(v)}" for a, v in values.items() if v)


def _print_clustering(result: FamilyClustering, console: Console) -> None:
    weights = ", ".join(f"{a} {w:.2f}" for a, w in result.weights.items() if w > 0)
    table = PlainTable(
        title=f"{len(result.families)} families of {len(result.order)} products "
        f"(threshold {result.threshold:g}; weights {weights})",
        show_lines=True,
    )
    table.add_column("Family")
    table.add_column("Products")
    table.add_column("Cohesion", justify="right")
    table.add_column("Shared (≥ 75 %)")
    table.add_column("Distinctive (inside / outside)")
    for family in result.families:
        distinctive = lines(
            f"{d.value} ({d.attribute}) {share(d.inside)} / {share(d.outside)}"
            for d in family.distinctive
        )
        table.add_row(
            family.name,
            lines(family.products),
            f"{family.cohesion:.2f}",
            _shares(family.shared),
            distinctive,
        )
    console.print(table)
    for family in result.families:
        stable = f"unchanged for thresholds from {family.formed_at or 0:.3f}" + (
            f" to below {family.joins_at:.3f}" if family.joins_at is not None else " up"
        )
        nearest = (
            f"; nearest: {safe(family.nearest)} (similarity {family.nearest_similarity:.2f})"
            if family.nearest is not None and family.nearest_similarity is not None
            else ""
        )
        console.print(f"{safe(family.name)}: {stable}{nearest}", highlight=False)
    matrix = PlainTable(title="Product–process matrix (● the product goes through the step)")
    matrix.add_column("Product", no_wrap=True)
    for number, _ in enumerate(result.steps, start=1):
        matrix.add_column(str(number), justify="center")
    family_of = {p: k for k, f in enumerate(result.families) for p in f.products}
    order = result.order
    for index, (product, row) in enumerate(zip(order, result.process.tolist(), strict=True)):
        last_of_family = (
            index + 1 < len(order) and family_of[order[index + 1]] != family_of[product]
        )
        matrix.add_row(product, *("●" if cell else "·" for cell in row), end_section=last_of_family)
    console.print(matrix)
    console.print(
        "Steps: " + safe("; ".join(f"{n} {s}" for n, s in enumerate(result.steps, start=1))),
        highlight=False,
    )
