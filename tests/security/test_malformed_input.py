"""Malformed input the review sent that answered 500: each is now a 422 naming the field,
or (a form field that is no field of the form) ignored. And the upload folders a killed
server leaves behind are cleared when the next one starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from obeya.api.uploads import UPLOAD_PREFIX, clear_stale_uploads
from obeya.workspace import Workspace
from web.test_map_pages import PAGE, edit_form

HUGE = "99999999999999999999"  # past any version the store's column holds


@pytest.fixture
def saved(client: TestClient) -> TestClient:
    assert client.post("/streams/Tiny/map", follow_redirects=False).status_code == 303
    return client


def test_a_huge_expected_version_of_a_map_form_is_a_422(
    saved: TestClient, workspace: Workspace
) -> None:
    fields = {**edit_form(saved.get(PAGE).text), "expected_version": HUGE, "action": "save"}
    response = saved.post(PAGE, data=fields)
    assert response.status_code == 422, response.text[:300]
    assert "expected_version" in response.text
    assert [v.version for v in workspace.map_history("Tiny")] == [1]


FORMS = {
    "roadmap": {"title": "Pairing", "kind": "kaizen", "status": "idea", "business_value": "3",
                "time_criticality": "2", "job_size": "1"},
    "risks": {"title": "Vendor late", "probability": "0.4", "impact": "5"},
}  # fmt: skip


@pytest.mark.parametrize("page", sorted(FORMS))
def test_a_huge_expected_version_of_a_record_form_is_a_422(
    client: TestClient, workspace: Workspace, page: str
) -> None:
    """The roadmap's form saves (and edits) with it; a risk is edited on its own form."""
    url = f"/streams/Tiny/{page}"
    if page == "risks":
        risk = {"key": "R-1", "title": "Vendor late", "probability": 0.4, "impact": 5}
        workspace.steering.save_record("risk", risk, author="t", stream="Tiny")
        url += "/R-1"
    form = {**FORMS[page], "key": "X-1", "expected_version": HUGE}
    response = client.post(url, data=form)
    assert response.status_code == 422, response.text[:300]
    assert "expected_version" in response.text


def test_a_map_form_field_that_names_no_row_is_ignored(saved: TestClient) -> None:
    """``s-abc-name`` (and a row number of 5,000 digits) answered 500."""
    fields = edit_form(saved.get(PAGE).text)
    odd = {**fields, "s-abc-name": "x", f"s-{'9' * 5000}-name": "y", "s-1": "z"}
    plain = saved.post(f"{PAGE}/preview", data=fields, headers={"HX-Request": "true"})
    response = saved.post(f"{PAGE}/preview", data=odd, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text == plain.text  # the same preview: the odd fields named no row


def test_upload_folders_of_stopped_servers_are_cleared(tmp_path: Path) -> None:
    """A ``kill -9`` during an import left ``obeya-upload-*`` behind. A folder whose
    process is gone goes; one of a running process (this one) stays; other folders stay."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    dead = tmp_path / f"{UPLOAD_PREFIX}{gone.stdout.strip()}-abc"
    mine = tmp_path / f"{UPLOAD_PREFIX}{os.getpid()}-def"
    old_style = tmp_path / f"{UPLOAD_PREFIX}q1w2e3"  # a name from before the pid was in it
    other = tmp_path / "someone-else"
    for folder in (dead, mine, old_style, other):
        folder.mkdir()
        (folder / "upload.csv").write_text("item_id,state,timestamp\n")
    assert sorted(clear_stale_uploads(tmp_path)) == sorted([dead, old_style])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])


@pytest.mark.parametrize(
    "text",
    ["x = " + "[" * 50_000 + "]" * 50_000, "x = " + "9" * 5_000],
    ids=["nested arrays", "long integer"],
)
def test_a_scenario_file_beyond_the_toml_parser_is_a_422(client: TestClient, text: str) -> None:
    files = {"scenario": ("deep.toml", text.encode(), "application/toml")}
    response = client.post("/simulate/upload", files=files)
    assert response.status_code == 422, response.text[:300]
    assert "deep.toml" in response.text
