from __future__ import annotations

import pytest

from mimo_agent.tools.languages import get_parser, language_for_path
from mimo_agent.tools.syntax import find_problems, syntax_report
from mimo_agent.tools.textfile import BinaryFileError, decode, looks_binary

BROKEN = {
    "a.py": "def f(:\n    return 1\n",
    "a.js": "function f( {\n  return 1;\n}\n",
    "a.ts": "let x: number = ;\n",
    "a.tsx": "const A = () => <div>;\n",
    "a.go": "package main\nfunc main() {\n  x := \n}\n",
    "a.rs": "fn main() { let x = ; }\n",
    "a.java": "class A { void f( { } }\n",
    "a.c": "int main( { return 0; }\n",
    "a.cpp": "int main() { return 0 }\n",
}
VALID = {
    "a.py": "def f():\n    return 1\n",
    "a.js": "function f() { return 1; }\n",
    "a.ts": "let x: number = 1;\n",
    "a.go": "package main\nfunc main() {}\n",
    "a.rs": "fn main() {}\n",
    "a.java": "class A { void f() {} }\n",
    "a.c": "int main(void) { return 0; }\n",
    "a.cpp": "int main() { return 0; }\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_code_is_reported(name: str) -> None:
    language, problems = find_problems(name, BROKEN[name])
    assert language is not None and problems, name


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_code_has_no_problems(name: str) -> None:
    assert find_problems(name, VALID[name])[1] == []


def test_report_shows_context_lines() -> None:
    report = syntax_report("m.py", "import os\n\ndef f(:\n    pass\n\nx = 1\n")
    assert report.splitlines() == [
        "Syntax check (python) found 1 problem(s) in m.py; the file was written anyway:",
        "  line 3, column 7: missing ')'",
        "        1 | import os",
        "        2 | ",
        "  >     3 | def f(:",
        "        4 |     pass",
        "        5 | ",
    ]


def test_unchecked_files_are_skipped() -> None:
    assert find_problems("notes.md", "# (((") == (None, [])
    assert find_problems("Makefile", "all: (((") == (None, [])
    assert language_for_path("x.rs") == "rust"
    assert get_parser("python") is not None


def test_binary_detection() -> None:
    assert looks_binary(b"abc\x00def")
    assert looks_binary(bytes(range(1, 32)) * 20)
    assert not looks_binary("héllo wörld".encode())
    assert not looks_binary(("é" * 5000).encode()[:8193])
    with pytest.raises(BinaryFileError, match="img.png is a binary file"):
        decode(b"\x89PNG\x00\x00", "img.png")


def test_decode_round_trip_formats() -> None:
    for data in (b"a\r\nb\r\n", b"\xef\xbb\xbfa\nb\n", "é\n".encode("utf-16"), b"caf\xe9\n", b"a\nb\r\nc"):
        text = decode(data, "f")
        assert text.encode(text.text) == data
