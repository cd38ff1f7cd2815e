"""Reading and writing text files without changing what the tools did not mean to change.

A file's encoding (UTF-8, UTF-8 with BOM, UTF-16 with BOM, or latin-1 as a fallback) and its line endings
(uniform CRLF is normalised to LF in memory and restored on write) are remembered, so an edit round-trips
every byte it did not touch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SNIFF_BYTES = 8192
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# Every byte except the control characters that do not occur in text: deleting these leaves the suspects.
_NOT_SUSPECT = bytes(b for b in range(256) if b >= 32 or b in (7, 8, 9, 10, 11, 12, 13, 27))


class BinaryFileError(ValueError):
    """The file looks binary (NUL bytes or mostly control characters); the message names the file."""


@dataclass(frozen=True)
class TextFile:
    """Decoded content plus how to encode it back; `text` uses LF when the file was uniformly CRLF."""

    text: str
    encoding: str = "utf-8"
    newline: str = "\n"

    @property
    def note(self) -> str:
        """A remark for the model when the file is not plain UTF-8 with LF line endings."""
        parts = []
        if self.encoding == "latin-1":
            parts.append("not valid UTF-8; decoded as latin-1 and written back as latin-1")
        elif self.encoding != "utf-8":
            parts.append(f"encoding {self.encoding}")
        if self.newline == "\r\n":
            parts.append("CRLF line endings (shown and edited as LF, written back as CRLF)")
        return "; ".join(parts)

    def encode(self, text: str) -> bytes:
        """`text` in this file's encoding and line endings; raises UnicodeEncodeError for latin-1 misfits."""
        if self.newline == "\r\n":
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        return text.encode(self.encoding)


def looks_binary(data: bytes) -> bool:
    sample = data[:SNIFF_BYTES]
    if not sample or sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in sample:
        return True
    return len(sample.translate(None, _NOT_SUSPECT)) / len(sample) > 0.1


def decode(data: bytes, name: str) -> TextFile:
    """Decode file bytes; raises BinaryFileError naming `name` when they are not text."""
    if looks_binary(data):
        raise BinaryFileError(
            f"{name} is a binary file ({len(data)} bytes); it cannot be shown or edited as text"
        )
    encoding = "utf-8"
    for bom, codec in _BOMS:
        if data.startswith(bom):
            encoding = codec
            break
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        encoding, text = "latin-1", data.decode("latin-1")
    newline = "\n"
    crlf = text.count("\r\n")
    if crlf and crlf == text.count("\n"):
        newline, text = "\r\n", text.replace("\r\n", "\n")
    return TextFile(text=text, encoding=encoding, newline=newline)


def read_text(path: Path, name: str) -> TextFile:
    return decode(path.read_bytes(), name)


def write_text(path: Path, text: str, like: TextFile | None = None) -> None:
    """Write `text` with the encoding and line endings of `like` (the file's previous content), creating parents."""
    data = (like or TextFile(text="")).encode(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.mimo-tmp")
    tmp.write_bytes(data)
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    os.replace(tmp, path)
