"""Repo map golden files: one small sample project per language and the exact map expected of it.

To accept a deliberate change, run with REPO_MAP_UPDATE_GOLDEN=1 and review the diff of golden/*.txt.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mimo_agent.tools.repo_map import RepoMapper

FIXTURES = Path(__file__).parent / "fixtures" / "repo_map"
LANGUAGES = ["python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_map_matches_golden(language: str) -> None:
    result = RepoMapper(FIXTURES / language, cache_dir=None).build(max_tokens=4096)
    golden = FIXTURES / "golden" / f"{language}.txt"
    if os.environ.get("REPO_MAP_UPDATE_GOLDEN"):
        golden.write_text(result.text, encoding="utf-8")
    assert result.text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_sample_file_is_mapped(language: str) -> None:
    """Each sample file defines something, so each must appear in its language's map."""
    root = FIXTURES / language
    result = RepoMapper(root, cache_dir=None).build(max_tokens=4096)
    sources = [
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.suffix not in (".mod",)
    ]
    sources = [s for s in sources if not s.endswith("__init__.py")]
    assert result.files == len(sources) + (language == "python")  # shapes/__init__.py is listed but empty
    for source in sources:
        assert f"{source}:\n" in result.text
