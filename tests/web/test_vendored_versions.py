"""The vendored Vega, Vega-Lite and vega-embed agree with the specs the app writes.

vega-embed warns on the console when a spec's ``$schema`` is newer than the Vega-Lite it has,
or when Vega-Lite compiles to another Vega major than the Vega loaded (vega 6.3.0's build
called itself 5.33.1, and every chart warned). The versions are read from the files
``scripts/fetch_vega.sh`` installs, as the browser reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from obeya.render import charts
from obeya.web.pages import STATIC

VENDOR = STATIC / "vendor"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fetch_vega.sh"


def vendored(name: str) -> str:
    path = VENDOR / name
    if not path.exists():
        pytest.fail(f"{path} is missing: `make install` runs scripts/fetch_vega.sh", pytrace=False)
    return path.read_text(encoding="utf-8")


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_the_specs_schema_is_the_vendored_vega_lite() -> None:
    spec = charts.chart("throughput", {"throughput_weekly": {"2024-01-01": 3}})
    found = re.fullmatch(
        r"https://vega\.github\.io/schema/vega-lite/v([\d.]+)\.json", spec["$schema"]
    )
    assert found, spec["$schema"]
    schema = version(found.group(1))
    # The bundle's header: ...(e.vega)}(this,function(e,t){"use strict";var n="6.4.1";...
    header = re.search(r'"use strict";var \w+="([\d.]+)"', vendored("vega-lite.min.js")[:2000])
    assert header, "no version in the vendored vega-lite.min.js"
    library = version(header.group(1))
    assert library[0] == schema[0], f"vega-lite {library} for specs of {schema}"
    assert library >= schema, f"the specs ({schema}) are newer than vega-lite {library}"


def test_the_vendored_vega_is_the_major_vega_lite_compiles_to() -> None:
    compiled = re.search(
        r'\$schema:"https://vega\.github\.io/schema/vega/v(\d+)\.json"',
        vendored("vega-lite.min.js"),
    )
    assert compiled, "vega-lite.min.js names no Vega schema"
    found = re.search(r'version="([\d.]+)"', vendored("vega.min.js"))
    assert found, "no version in the vendored vega.min.js"
    assert version(found.group(1))[0] == int(compiled.group(1)), found.group(1)


def test_the_installed_files_are_the_pinned_ones() -> None:
    pins = re.search(r'^pins="([^"]+)"$', SCRIPT.read_text(encoding="utf-8"), re.MULTILINE)
    assert pins
    assert vendored("VERSIONS").strip() == pins.group(1)
    pinned = dict(pin.rsplit("@", 1) for pin in pins.group(1).split())
    assert f'version="{pinned["vega"]}"' in vendored("vega.min.js")
    assert f'"{pinned["vega-lite"]}"' in vendored("vega-lite.min.js")[:2000]
