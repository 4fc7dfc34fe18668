"""SVG drawings as PNG images, for slides and documents.

resvg (a Rust renderer shipped inside the ``resvg-py`` wheel) draws the SVG with the system's
fonts; no browser, no system library and no download is needed.
"""

from __future__ import annotations

import resvg_py

from obeya.errors import ObeyaError


def svg_to_png(svg: str) -> bytes:
    """The SVG rasterised at its own size (its width and height, in pixels)."""
    try:
        return bytes(resvg_py.svg_to_bytes(svg_string=svg))
    except Exception as error:  # resvg raises plain exceptions for unreadable SVG
        raise ObeyaError(f"cannot draw the SVG as PNG: {error}") from error
