"""`core` is the shared floor: apps import it, it imports no app, and no app
imports the project package `siaga112` (settings, URLs, CLI sit above them)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("tenants", "accounts", "onboarding", "incidents", "outbox", "referrals", "reporting")


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_apps_do_not_import_the_project_package():
    offenders = {app: sorted(_imports(app).get("siaga112", ())) for app in APPS}
    assert {app: files for app, files in offenders.items() if files} == {}


def test_core_imports_no_product_app():
    imported = _imports("core")
    assert {name: sorted(imported[name]) for name in (*APPS, "siaga112") if name in imported} == {}


def test_the_checks_can_fail():
    assert "django" in _imports("core") and "core" in _imports("outbox")
