"""The settings an operator gives through the environment, declared once: name, default, help.

Every limit of the server (body sizes, what a file may inflate to, the simulation budget, the
caps of quadratic work, tokens' lifetime) is a positive whole number read here and nowhere
else. A setting is read when it is needed, so every process of a server, the CLI and a test
see the value they were started with; :func:`check_environment` reads them all when the server
starts, so a typo stops it there, naming the variable, instead of leaving a limit at its
default. ``tests/test_settings.py`` checks that docs/access.md documents every one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from obeya.core.steering.dependencies import MAX_PLAN_TASKS
from obeya.core.steering.families import MAX_PRODUCTS
from obeya.errors import InputError

MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class Setting:
    name: str
    default: int
    help: str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("OBEYA_MAX_UPLOAD_BYTES", 200 * MIB, "bytes of an uploaded file to import"),
        Setting("OBEYA_MAX_BODY_BYTES", 4 * MIB, "bytes of any other request body"),
        Setting(
            "OBEYA_MAX_DECOMPRESSED_BYTES",
            GIB,
            "bytes a gzipped input (or a deflated archive member) may inflate to",
        ),
        Setting("OBEYA_MAX_EVENTS_PER_ITEM", 10_000, "events of one item in one file"),
        Setting("OBEYA_MAX_EVENT_COPIES", 100, "copies of one XES event, every field equal"),
        Setting(
            "OBEYA_MAX_ARCHIVE_TABLE_BYTES", 256 * MIB, "bytes of a JSON Lines table of an archive"
        ),
        Setting("OBEYA_MAX_SIM_EVENTS", 2_000_000, "simulated events of one request"),
        Setting("OBEYA_MAX_FAMILY_PRODUCTS", MAX_PRODUCTS, "products clustered in one request"),
        Setting("OBEYA_MAX_PLAN_TASKS", MAX_PLAN_TASKS, "tasks of a plan scheduled in one request"),
        Setting("OBEYA_MAX_TOKEN_DAYS", 365, "days an API token may live"),
        Setting("OBEYA_ARGON2_TIME_COST", 3, "passes of argon2id over its memory per password"),
        Setting("OBEYA_ARGON2_MEMORY_KIB", 65_536, "KiB of memory argon2id fills per password"),
    )
}


def setting(name: str, environ: Mapping[str, str] | None = None) -> int:
    """The setting ``name``: its environment variable (``_`` or ``,`` may group digits), else
    its default. InputError naming the variable when it is set to anything but a positive
    whole number."""
    declared = SETTINGS[name]
    raw = (os.environ if environ is None else environ).get(name, "")
    text = raw.strip().replace("_", "").replace(",", "")
    if not text:
        return declared.default
    if not text.isdigit() or len(text) > 18 or int(text) == 0:
        raise InputError(
            f"{name}={raw[:40]!r} is not a positive whole number ({declared.help}; "
            f"default {declared.default:,})"
        )
    return int(text)


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Read every setting once: InputError on the first that is set wrong."""
    for name in SETTINGS:
        setting(name, environ)
