"""The readers on real, third-party logs (see tests/datasets/README.md)."""

from __future__ import annotations

import pytest

from obeya.ingest import ColumnMap, read_events
from obeya.ingest.sources import open_input
from obeya.ingest.xes_reader import XesRows, attribute_keys, stream_rows

from support import DATASETS

pytestmark = pytest.mark.slow  # whole real logs (`make test`, not `make check`)

BPIC_CSV = DATASETS / "bpic2013_incidents_transitions.csv.gz"
BPIC_XES = DATASETS / "bpic2013_incidents.xes.gz"
HELPDESK = DATASETS / "helpdesk.xes.gz"

#: The CSV's own column names (README: case_id,status,status_group,timestamp,resource,group,...).
BPIC_COLUMNS = ColumnMap(item_id="case_id", state="status", assignee="resource", team="group")
KEY = ["item_id", "state", "t", "assignee", "team"]


def test_bpic2013_csv() -> None:
    log = read_events(BPIC_CSV, columns=BPIC_COLUMNS)
    assert log.num_events == 65_533
    assert len(log.item_ids()) == 7_554
    assert log.table.column("seq").to_pylist() == list(range(65_533))


def test_bpic2013_xes_matches_the_csv() -> None:
    """The CSV is a column-subset conversion of the XES: the same events, value for value."""
    xes = read_events(BPIC_XES, columns=ColumnMap(state="lifecycle:transition"))
    csv = read_events(BPIC_CSV, columns=BPIC_COLUMNS)
    assert xes.num_events == 65_533
    assert len(xes.item_ids()) == 7_554
    order = [(name, "ascending") for name in KEY]
    assert xes.table.select(KEY).sort_by(order).equals(csv.table.select(KEY).sort_by(order))


def test_helpdesk_repeated_events_are_kept() -> None:
    """21,348 events of 4,580 cases, 127 of them exact copies of the event before them;
    XES repeats are kept (docs/conventions.md)."""
    log = read_events(HELPDESK)
    assert log.num_events == 21_348
    assert len(log.item_ids()) == 4_580

    rows = XesRows()
    with open_input(HELPDESK) as stream:
        stream_rows(stream, str(HELPDESK), attribute_keys(ColumnMap()), rows)
    assert len(rows.events) == 21_348
    assert len({trace[0] for trace in rows.traces}) == len(rows.traces) == 4_580
