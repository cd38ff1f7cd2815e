"""Render a Textual snapshot SVG to the PNG the README shows (`make screenshot`).

    python docs/render_screenshot.py [SVG] [PNG] [--width PIXELS]

It calls the system's librsvg and cairo through ctypes (Debian: librsvg2-2, libcairo2) so the project needs
no Python package for a picture rebuilt now and then. Fonts come from fontconfig: the SVG asks for Fira
Code and falls back to the system's monospace font.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests/tui/__snapshots__/test_snapshots/test_main_screen.svg"
SCREENSHOT = ROOT / "docs/screenshot-main.png"
CAIRO_FORMAT_ARGB32 = 0


class RenderError(Exception):
    """A library that is missing or a file it could not read or write; the message says which."""


class RsvgRectangle(ctypes.Structure):
    _fields_ = [(name, ctypes.c_double) for name in ("x", "y", "width", "height")]


class GError(ctypes.Structure):
    _fields_ = [("domain", ctypes.c_uint32), ("code", ctypes.c_int), ("message", ctypes.c_char_p)]


def load(name: str, package: str) -> ctypes.CDLL:
    found = ctypes.util.find_library(name)
    if found is None:
        raise RenderError(f"lib{name} not found; install it (Debian: apt-get install {package})")
    return ctypes.CDLL(found)


def prepared(svg: Path) -> tuple[bytes, float, float]:
    """The SVG with its spaces kept, and its viewBox size (Rich's SVGs have no width/height attributes).

    Rich writes a cell's leading spaces as no-break spaces; librsvg strips those from a <text> unless
    xml:space="preserve" is set, which glues `read_file` to `calc.py`.
    """
    text = svg.read_text(encoding="utf-8")
    match = re.search(r'<svg [^>]*viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"', text)
    if match is None:
        raise RenderError(f"{svg}: no viewBox on the <svg> element")
    kept = text.replace("<svg ", '<svg xml:space="preserve" ', 1)
    return kept.encode(), float(match[1]), float(match[2])


def render(svg: Path, png: Path, width: int) -> tuple[int, int]:
    """Draw `svg` scaled to `width` pixels wide; returns the PNG's size."""
    rsvg, cairo = load("rsvg-2", "librsvg2-2"), load("cairo", "libcairo2")
    gobject = load("gobject-2.0", "libglib2.0-0")
    rsvg.rsvg_handle_new_from_data.restype = ctypes.c_void_p
    rsvg.rsvg_handle_new_from_data.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.POINTER(ctypes.POINTER(GError)),
    ]
    rsvg.rsvg_handle_render_document.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.POINTER(RsvgRectangle),
        ctypes.POINTER(ctypes.POINTER(GError)),
    ]
    cairo.cairo_image_surface_create.restype = ctypes.c_void_p
    cairo.cairo_create.restype = ctypes.c_void_p
    cairo.cairo_create.argtypes = [ctypes.c_void_p]
    cairo.cairo_surface_write_to_png.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    cairo.cairo_destroy.argtypes = [ctypes.c_void_p]
    cairo.cairo_surface_destroy.argtypes = [ctypes.c_void_p]
    gobject.g_object_unref.argtypes = [ctypes.c_void_p]

    data, box_width, box_height = prepared(svg)
    height = round(width * box_height / box_width)
    error = ctypes.POINTER(GError)()
    handle = rsvg.rsvg_handle_new_from_data(data, len(data), ctypes.byref(error))
    if not handle:
        raise RenderError(
            f"{svg}: {error.contents.message.decode() if error else 'librsvg could not read it'}"
        )
    surface = cairo.cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height)
    context = cairo.cairo_create(surface)
    try:
        viewport = RsvgRectangle(0.0, 0.0, float(width), float(height))
        if not rsvg.rsvg_handle_render_document(handle, context, ctypes.byref(viewport), ctypes.byref(error)):
            raise RenderError(
                f"{svg}: {error.contents.message.decode() if error else 'librsvg could not draw it'}"
            )
        if cairo.cairo_surface_write_to_png(surface, str(png).encode()) != 0:
            raise RenderError(f"{png}: cairo could not write the PNG")
    finally:
        cairo.cairo_destroy(context)
        cairo.cairo_surface_destroy(surface)
        gobject.g_object_unref(handle)
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "svg", nargs="?", type=Path, default=SNAPSHOT, help="snapshot SVG (default: the main screen)"
    )
    parser.add_argument(
        "png", nargs="?", type=Path, default=SCREENSHOT, help="PNG to write (default: the README's)"
    )
    parser.add_argument("--width", type=int, default=1600, help="PNG width in pixels (default: 1600)")
    args = parser.parse_args(argv)
    try:
        width, height = render(args.svg, args.png, args.width)
    except (RenderError, OSError) as exc:
        print(f"render_screenshot: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.png} ({width}×{height}) from {args.svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
