"""Routing is picked, not typed: each category's suggested agencies are ordered
selects of the Pemda's agencies (by name); places left at "—" are skipped."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from incidents.models import Agency, Category, RoutingRule

pytestmark = pytest.mark.django_db


def _routing(tenant, code="fire") -> list[str]:
    with schema_context(tenant.schema_name):
        return list(RoutingRule.objects.filter(category__code=code).order_by("order")
                    .values_list("agency__code", flat=True))


def test_the_admin_picks_agencies_in_order(tenant_a, as_user):
    admin = as_user(tenant_a, "admin")
    with schema_context(tenant_a.schema_name):
        fire = Category.objects.get(code="fire")
        ids = dict(Agency.objects.values_list("code", "pk"))
    page = admin.get("/manage/categories/").content.decode()
    row = page[page.index(f'name="category_id" value="{fire.pk}"><input type="hidden" '
                          'name="routing"'):]
    row = row[:row.index("</form>")]
    selects = re.findall(r'<select name="agency"[^>]*aria-label="([^"]+)"', row)
    assert len(selects) >= 3 and all("Kebakaran" in label for label in selects), selects
    chosen = re.findall(r'<option value="(\d+)" selected>', row)
    code_of = {str(pk): code for code, pk in ids.items()}
    assert chosen and [code_of[pk] for pk in chosen] == _routing(tenant_a)
    assert "damkar</code>" not in page  # no codes to copy any more

    answer = admin.post("/manage/categories/", {
        "category_id": fire.pk, "routing": "1",
        "agency": [ids["bpbd"], "", ids["damkar"]]})
    assert answer.status_code == 302
    assert _routing(tenant_a) == ["bpbd", "damkar"]


def test_a_foreign_agency_id_is_refused_and_nothing_changes(tenant_a, as_user):
    before = _routing(tenant_a)
    with schema_context(tenant_a.schema_name):
        fire = Category.objects.get(code="fire")
    answer = as_user(tenant_a, "admin").post(
        "/manage/categories/", {"category_id": fire.pk, "routing": "1", "agency": ["999999"]},
        HTTP_ACCEPT="application/json")
    assert answer.status_code == 400 and answer.json()["field"] == "agency"
    assert _routing(tenant_a) == before


@pytest.mark.parametrize("who", ["operator1", "supervisor", "damkar", "bupati"])
def test_only_the_admin_sets_routing(tenant_a, as_user, who):
    before = _routing(tenant_a)
    with schema_context(tenant_a.schema_name):
        fire = Category.objects.get(code="fire")
        bpbd = Agency.objects.get(code="bpbd").pk
    as_user(tenant_a, who).post("/manage/categories/",
                                {"category_id": fire.pk, "routing": "1", "agency": [bpbd]})
    assert _routing(tenant_a) == before
