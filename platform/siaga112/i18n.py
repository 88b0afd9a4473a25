"""Compile the .po catalogues to .mo with polib, so a machine without GNU
gettext (msgfmt) still gets the Indonesian/English UI. Run by `make setup`."""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]


def compile_all(root: Path = ROOT) -> int:
    count = 0
    for po_path in root.glob("*/locale/*/LC_MESSAGES/*.po"):
        if "node_modules" in po_path.parts or ".venv" in po_path.parts:
            continue
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        count += 1
    return count


if __name__ == "__main__":
    n = compile_all()
    if n:
        sys.stdout.write(f"compiled {n} translation catalogue(s)\n")
