"""Steering records in a TOML file, to load many at once (``obeya steering load FILE``):

```toml
[[risk]]
key = "R-1"
title = "Payment provider changes its API"
probability = 0.3
impact = 4

[[objective]]
key = "O-1"
title = "Deliver faster"
[[objective.key_results]]
key = "KR-1"
title = "85 % of items done within 10 days"
metric = "cycle_time_p85"
comparator = "<="
target = 10
```

One array of tables per kind (``risk``, ``objective``, ``improvement``, ``kaizen-event``,
``team``, ``person``, ``stream-profile``). Every record is checked before any is saved, and
errors name the file, the table and the field (``plan.toml: risk[2] 'R-3': probability ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from obeya.core.steering.kinds import KINDS, Record, parse
from obeya.core.tomlfile import read_toml
from obeya.errors import InputError


def read_steering_file(path: Path | str) -> list[tuple[str, Record, Mapping[str, Any]]]:
    """The records of the file as (kind, record, document), in file order per kind (teams
    come before people, whatever the file's order, so people can name them)."""
    path = Path(path)
    doc = read_toml(path, InputError)
    unknown = sorted(set(doc) - set(KINDS))
    if unknown:
        raise InputError(
            f"{path}: unknown table {unknown[0]!r}; give [[kind]] tables of {', '.join(KINDS)}"
        )
    records = []
    for kind, tables in doc.items():
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise InputError(f"{path}: {kind} must be an array of tables ([[{kind}]])")
        for i, table in enumerate(tables):
            records.append((kind, parse(kind, table, f"{path}: {kind}[{i}]"), table))
    records.sort(key=lambda r: r[0] == "person")
    if not records:
        raise InputError(f"{path}: no record; give [[kind]] tables of {', '.join(KINDS)}")
    return records
