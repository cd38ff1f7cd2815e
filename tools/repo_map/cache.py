"""Tags per file, kept in memory and in a small sqlite file, valid while the file's (mtime, size) hold.

The whole disk cache is dropped when the queries, the grammar versions (`languages.fingerprint`) or the row
layout (`ROW_FORMAT`) change.
The cache folder gets a `.gitignore` of `*` so it never shows up in the user's `git status` or patches.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .files import SourceFile
from .languages import fingerprint
from .tags import FileTags, Tag

DB_NAME = "repo_map_tags.sqlite"
ROW_FORMAT = 1  # bump when the JSON layout of a row changes
SQLITE_TIMEOUT_S = 5.0


class TagCacheError(OSError):
    """The on-disk tag cache could not be opened or written (the message names the file)."""


class TagCache:
    """Memory in front of an optional sqlite file; `cache_dir=None` keeps everything in memory only."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir
        self._memory: dict[str, tuple[int, int, FileTags]] = {}
        self._disk_rows: dict[str, tuple[int, int, str]] | None = None

    def get(self, file: SourceFile) -> FileTags | None:
        """The cached tags of `file`, or None when absent or made for another (mtime, size)."""
        entry = self._memory.get(file.rel)
        if entry is not None and entry[0] == file.mtime_ns and entry[1] == file.size:
            return entry[2]
        row = self._disk().get(file.rel)
        if row is None or row[0] != file.mtime_ns or row[1] != file.size:
            return None
        definitions, references, scopes = json.loads(row[2])
        tags = FileTags(
            [Tag(file.rel, *fields) for fields in definitions],
            references,
            [Tag(file.rel, *f) for f in scopes],
        )
        self._memory[file.rel] = (file.mtime_ns, file.size, tags)
        return tags

    def put(self, entries: Iterable[tuple[SourceFile, FileTags]]) -> None:
        """Remember freshly extracted tags, in memory and (one transaction) on disk."""
        rows = []
        for file, tags in entries:
            self._memory[file.rel] = (file.mtime_ns, file.size, tags)
            definitions = [tag[1:] for tag in tags.definitions]
            scopes = [tag[1:] for tag in tags.scopes]
            data = json.dumps(
                [definitions, tags.references, scopes], ensure_ascii=False, separators=(",", ":")
            )
            rows.append((file.rel, file.mtime_ns, file.size, data))
        if not rows or self.cache_dir is None:
            return
        disk = self._disk()
        for rel, mtime_ns, size, data in rows:
            disk[rel] = (mtime_ns, size, data)
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?)", rows)

    def retain(self, rels: set[str]) -> None:
        """Forget every file not in `rels` (deleted, renamed, or now ignored), in memory and on disk."""
        for rel in self._memory.keys() - rels:
            del self._memory[rel]
        stale = self._disk().keys() - rels
        if stale and self.cache_dir is not None:
            for rel in stale:
                del self._disk_rows[rel]
            with self._db() as db:
                db.executemany("DELETE FROM tags WHERE rel = ?", [(rel,) for rel in sorted(stale)])

    def _disk(self) -> dict[str, tuple[int, int, str]]:
        """All rows of the sqlite file, read once (one query is far cheaper than one per file)."""
        if self._disk_rows is None:
            self._disk_rows = {}
            if self.cache_dir is not None and (self.cache_dir / DB_NAME).exists():
                with self._db() as db:
                    rows = db.execute("SELECT rel, mtime_ns, size, data FROM tags").fetchall()
                self._disk_rows = {rel: (mtime_ns, size, data) for rel, mtime_ns, size, data in rows}
        return self._disk_rows

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """An open, schema-checked connection; commits on success, always closes, names the file on error."""
        assert self.cache_dir is not None
        path = self.cache_dir / DB_NAME
        db = None
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            ignore = self.cache_dir / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
            db = sqlite3.connect(path, timeout=SQLITE_TIMEOUT_S)
            # WAL with synchronous=NORMAL: commits do not wait for the disk, and a crash loses at most the
            # latest writes (which are re-parsed), never the database.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS tags (rel TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, data TEXT)"
            )
            version = f"{ROW_FORMAT}:{fingerprint()}"
            stored = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
            if stored is None or stored[0] != version:
                db.execute("DELETE FROM tags")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (version,))
            yield db
            db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise TagCacheError(f"repo map tag cache {path}: {exc}") from exc
        finally:
            if db is not None:
                db.close()
