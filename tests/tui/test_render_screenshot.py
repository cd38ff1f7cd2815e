"""docs/render_screenshot.py: the README's PNG drawn from a snapshot SVG (system librsvg and cairo)."""

from __future__ import annotations

import ctypes.util
import importlib.util
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("render_screenshot", ROOT / "docs" / "render_screenshot.py")
assert spec is not None and spec.loader is not None
render_screenshot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render_screenshot)

HAS_LIBS = all(ctypes.util.find_library(name) for name in ("rsvg-2", "cairo", "gobject-2.0"))


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(
    not HAS_LIBS, reason="librsvg2-2 or libcairo2 is not installed (apt-get install librsvg2-2)"
)
def test_the_main_screen_snapshot_renders_at_the_asked_width(tmp_path: Path) -> None:
    png = tmp_path / "main.png"
    assert render_screenshot.main([str(render_screenshot.SNAPSHOT), str(png), "--width", "800"]) == 0
    width, height = png_size(png)
    assert width == 800 and 480 < height < 540  # the snapshot's 80×24 cells keep their aspect


def test_a_file_that_is_not_a_snapshot_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svg = tmp_path / "plain.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    assert render_screenshot.main([str(svg), str(tmp_path / "out.png")]) == 1
    assert "no viewBox" in capsys.readouterr().err
