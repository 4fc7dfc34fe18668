"""SVG drawings as PNG images, for slides and documents.

resvg (a Rust renderer shipped inside the ``resvg-py`` wheel) draws the SVG; no browser, no
system library and no download is needed. The drawings ask for the fonts a browser has
(``system-ui``, ``Segoe UI``, ... ``sans-serif``); resvg knows none of those names on a machine
without them and would draw no text at all, so DejaVu Sans (shipped in ``fonts/``, with its
licence) is the sans-serif it falls back to, beside the system's fonts.
"""

from __future__ import annotations

from pathlib import Path

import resvg_py

from obeya.errors import ObeyaError

FONTS = Path(__file__).with_name("fonts")
FALLBACK_FAMILY = "DejaVu Sans"


def svg_to_png(svg: str) -> bytes:
    """The SVG rasterised at its own size (its width and height, in pixels)."""
    try:
        return bytes(
            resvg_py.svg_to_bytes(
                svg_string=svg,
                font_files=[str(path) for path in sorted(FONTS.glob("*.ttf"))],
                sans_serif_family=FALLBACK_FAMILY,
            )
        )
    except Exception as error:  # resvg raises plain exceptions for unreadable SVG
        raise ObeyaError(f"cannot draw the SVG as PNG: {error}") from error
