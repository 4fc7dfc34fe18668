"""Importing an uploaded file: the same path as ``obeya import``, through a temporary file.

The readers work on files (they sniff the format, gunzip, report rows), so an upload is copied
to a temporary directory under its own file name: error messages and the import record then
name the file the user chose, not a random temporary name. The body reached the route through
the gate's counter (:mod:`obeya.api.gate`), so it is at most the upload limit plus the form's
envelope; the copy is counted again so the file itself keeps to the limit.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

# The readers load with the server, not on its first upload (obeya.ingest defers them for the
# command line's start-up): a request's memory is then its own.
import obeya.ingest.csv_reader
import obeya.ingest.jira_reader
import obeya.ingest.wide_reader
import obeya.ingest.xes_reader  # noqa: F401
from obeya.api.limits import MAX_UPLOAD_BYTES, BodyTooLarge
from obeya.core.workflow import Workflow
from obeya.errors import InputError, ObeyaError, ParseError
from obeya.ingest import FORMATS, ColumnMap
from obeya.store import ImportResult
from obeya.workspace import Workspace

_CHUNK = 1 << 20
#: Upload folders are named ``obeya-upload-<pid>-…``: the process that made one can be told
#: apart from one that died, so a restart can clear what a killed server left behind.
UPLOAD_PREFIX = "obeya-upload-"
log = logging.getLogger("obeya.api")


def safe_name(filename: str | None) -> str:
    """The base name of an uploaded file, reduced to characters safe in any file system."""
    base = Path((filename or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    return cleaned or "upload.csv"


def too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(limit, "the file")


def _name_as_uploaded(error: ObeyaError, path: Path) -> None:
    """Make ``error`` name the file as the user uploaded it, not by its temporary path."""
    temporary = str(path)
    if error.args and isinstance(error.args[0], str):
        error.args = (error.args[0].replace(temporary, path.name), *error.args[1:])
    if isinstance(error, ParseError) and error.file == temporary:
        error.file = path.name


def column_map(fields: dict[str, str | None]) -> ColumnMap:
    """A ColumnMap from form fields; blank fields keep the standard column names."""
    chosen = {name: value.strip() for name, value in fields.items() if value and value.strip()}
    return ColumnMap(**chosen)


def parse_workflow(text: str | None, filename: str | None = None) -> Workflow | None:
    """The workflow TOML a user pasted or uploaded; None when there is none."""
    if text is None or not text.strip():
        return None
    return Workflow.from_toml_text(text, source=filename or "workflow")


def import_upload(
    workspace: Workspace,
    stream: str,
    upload: IO[bytes],
    filename: str | None,
    *,
    workflow: Workflow | None,
    columns: ColumnMap,
    file_format: str | None,
    limit: int = MAX_UPLOAD_BYTES,
    strict: bool = False,
) -> ImportResult:
    """Copy ``upload`` to a temporary file (at most ``limit`` bytes) and import it;
    ``strict`` refuses a file with events that go backwards in time."""
    if not stream.strip():
        raise InputError("give the value stream a name")
    if file_format and file_format not in FORMATS:
        raise InputError(f"format {file_format!r} is not one of {', '.join(FORMATS)}")
    with spooled(upload, filename, limit) as path:
        return workspace.import_file(
            path,
            stream.strip(),
            workflow=workflow,
            columns=columns,
            file_format=file_format or None,
            strict=strict,
        )


@contextmanager
def spooled(upload: IO[bytes], filename: str | None, limit: int) -> Iterator[Path]:
    """``upload`` copied (at most ``limit`` bytes) to a temporary file under its own name,
    removed afterwards; errors raised while it is read name the file as uploaded."""
    with tempfile.TemporaryDirectory(prefix=f"{UPLOAD_PREFIX}{os.getpid()}-") as tmp:
        path = Path(tmp) / safe_name(filename)
        copied = 0
        with open(path, "wb") as out:
            while chunk := upload.read(_CHUNK):
                copied += len(chunk)
                if copied > limit:
                    raise too_large(limit)
                out.write(chunk)
        if copied == 0:
            raise InputError(f"{path.name}: the uploaded file is empty")
        try:
            yield path
        except ObeyaError as exc:
            _name_as_uploaded(exc, path)
            raise


def clear_stale_uploads(directory: Path | None = None) -> list[Path]:
    """Remove the upload folders of server processes that are gone (a ``kill -9`` during an
    import leaves its copy behind); called when ``obeya serve`` starts. Folders of running
    processes — another server importing now — are left alone. Returns what was removed."""
    root = Path(directory or tempfile.gettempdir())
    removed = []
    for folder in root.glob(f"{UPLOAD_PREFIX}*"):
        owner = folder.name.removeprefix(UPLOAD_PREFIX).split("-", 1)[0]
        if not folder.is_dir() or folder.is_symlink():
            continue
        if owner.isdigit() and _running(int(owner)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    if removed:
        log.warning("removed %d upload folder(s) left by stopped servers", len(removed))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: running, and not ours to clear
        return True
    return True
