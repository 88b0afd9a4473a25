"""The pgserver package (PostgreSQL binaries on PyPI), imported quietly.

Shared by the embedded servers (`siaga112.embedded`) and tenant cloning, which
uses the pg_dump it bundles: the apps reach it here, not in the project package."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType


def import_pgserver() -> ModuleType:
    # platformdirs warns about a missing XDG_RUNTIME_DIR on import; harmless here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver
    return pgserver


def bundled_binary(name: str) -> Path:
    """Where pgserver keeps `name` (e.g. pg_dump); the path may not exist."""
    return Path(str(import_pgserver().__file__)).parent / "pginstall" / "bin" / name
