"""The Pemda admin's settings form: every input has its label (a screen reader and a
click on the words both reach it), and the area's edges are written with a decimal
point in Indonesian too, so saving the form unchanged keeps them."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from incidents.models import IncidentSettings

pytestmark = pytest.mark.django_db
AREA = ("area_min_lat", "area_max_lat", "area_min_lng", "area_max_lng")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_setting_is_labelled_and_the_area_survives_a_save(tenant_a, as_user, lang):
    admin = as_user(tenant_a, "admin")
    admin.cookies["django_language"] = lang
    page = admin.get("/manage/settings/").content.decode()
    start = page.rindex("<form", 0, page.index('name="prank_threshold"'))
    form = page[start:page.index("</form>", start)]
    inputs = re.findall(r"<input [^>]*>", form)
    fields = [i for i in inputs if 'type="hidden"' not in i]
    assert len(fields) >= 11
    for field in fields:
        found = re.search(r'\bid="([^"]+)"', field)
        assert found, field
        label = re.search(rf'<label [^>]*for="{found[1]}"[^>]*>([^<]+)</label>', form)
        assert label and label[1].strip(), field
        assert "placeholder=" not in field or label, field
    assert ("Batas selatan" if lang == "id" else "Southern edge") in form

    with schema_context(tenant_a.schema_name):
        before = IncidentSettings.load()
        edges = tuple(getattr(before, name) for name in AREA)
    assert None not in edges and any(not float(e).is_integer() for e in edges), edges
    shown = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', form)[1] for name in AREA}
    assert all("," not in v for v in shown.values()), shown
    # Saving exactly what the form shows (with the other settings as they are).
    values = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form))
    values.pop("csrfmiddlewaretoken", None)
    assert admin.post("/manage/settings/", values).status_code == 302
    with schema_context(tenant_a.schema_name):
        after = IncidentSettings.load()
        assert tuple(getattr(after, name) for name in AREA) == pytest.approx(edges)
