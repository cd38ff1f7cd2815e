"""Whether the package index answers: tests that pip-install into their own venvs skip only without it."""

from __future__ import annotations

import os

import httpx


def index_reachable() -> bool:
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/").rstrip("/")
    try:
        return httpx.get(f"{index}/pip/", timeout=10, follow_redirects=True).status_code < 500
    except httpx.HTTPError:
        return False
