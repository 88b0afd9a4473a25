"""A Pemda tenant's status changes only through tenants.services.tenant_set_status:
onboarding (and the demo) call it instead of writing the field."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tenants.models import Tenant
from tenants.services import tenant_set_status

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "audit", "accounts", "onboarding", "incidents", "outbox", "referrals", "reporting",
        "platform/siaga112")


@pytest.mark.django_db
def test_tenant_set_status_changes_only_that_pemda(tenant_a, tenant_b):
    before_b = tenant_b.status
    assert tenant_set_status(region_id=tenant_a.region_id, status=Tenant.Status.TRAINING) == 1
    assert Tenant.objects.get(pk=tenant_a.pk).status == Tenant.Status.TRAINING
    assert Tenant.objects.get(pk=tenant_b.pk).status == before_b
    # A Pemda not provisioned yet: nothing to change, no error.
    assert tenant_set_status(region_id="99.99", status=Tenant.Status.LIVE) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Tenant.Status.PLATFORM, "bogus", ""])
def test_tenant_set_status_refuses_what_a_pemda_cannot_be(tenant_a, status):
    before = Tenant.objects.get(pk=tenant_a.pk).status
    with pytest.raises(ValueError):
        tenant_set_status(region_id=tenant_a.region_id, status=status)
    assert Tenant.objects.get(pk=tenant_a.pk).status == before
    assert set(Tenant.objects.filter(schema_name__in=["public", "tenant_template"])
               .values_list("status", flat=True)) == {Tenant.Status.PLATFORM}


def _writes_tenant_status(tree: ast.AST) -> list[int]:
    """Lines that write `status` on Tenant rows: `Tenant.objects....update(status=)`
    or `<something tenant>.status = ...`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            chain = ast.unparse(node.func)
            if "Tenant.objects" in chain and node.func.attr in {"update", "update_or_create"} \
                    and any(k.arg == "status" for k in node.keywords):
                lines.append(node.lineno)
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status" \
                        and "tenant" in ast.unparse(target.value).lower():
                    lines.append(node.lineno)
    return lines


def test_no_app_writes_tenant_status_itself():
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for line in _writes_tenant_status(ast.parse(path.read_text())):
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == []
    # The guard sees the old idiom (it must be able to fail).
    old = "Tenant.objects.filter(region_id=r).update(status=s)\ntenant.status = 'live'\n"
    assert sorted(_writes_tenant_status(ast.parse(old))) == [1, 2]
