"""The tenant KPI dashboard, its drill-down and exports, tried from outside."""

from __future__ import annotations

import csv
import io

import pytest
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from tests.reporting import timeline

MARCH = "start=2026-03-01&end=2026-03-03"


@pytest.fixture
def built(tenant_b):
    with schema_context(tenant_b.schema_name):
        return timeline.build()


PATHS = [f"/laporan/?{MARCH}", f"/laporan/export.csv?{MARCH}", f"/laporan/export.xlsx?{MARCH}",
         f"/laporan/insiden/?{MARCH}"]


@pytest.mark.parametrize("path", PATHS)
def test_anonymous_is_sent_to_login(tenant_b, client_for, path):
    response = client_for(tenant_b).get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("username", ["operator1", "damkar"])
def test_operator_and_responder_are_refused(tenant_b, as_user, built, path, username):
    response = as_user(tenant_b, username).get(path)
    assert response.status_code == 403
    assert b"Kebakaran TL" not in response.content and b"Medis TL" not in response.content


@pytest.mark.parametrize("path", PATHS)
def test_other_tenants_login_means_nothing(tenant_a, tenant_b, as_user, path):
    for username in ("supervisor", "admin", "bupati"):
        client = as_user(tenant_a, username)
        response = client.get(path, HTTP_HOST="sidoarjo.localhost")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_public_officers_mean_nothing_on_a_pemda_host(tenant_b, client_for):
    from accounts.models import User

    with schema_context("public"):
        user = User.objects.get(username="nasional")
    response = client_for(None, user).get(f"/laporan/?{MARCH}", HTTP_HOST="sidoarjo.localhost")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("username", ["supervisor", "admin", "bupati"])
def test_right_roles_see_the_figures_with_their_zone(tenant_b, as_user, built, username):
    response = as_user(tenant_b, username).get(f"/laporan/?{MARCH}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kpi-calls">8<' in html
    assert "42,9%" in html and "71,4%" in html  # within 10 s / 20 s, Indonesian decimals
    assert "37,5%" in html  # prank + ghost
    assert "WIB" in html and "01-03-2026" in html
    assert "Kebakaran TL" in html and "AA Damkar TL" in html
    # Drill-down links only for who may open incidents (not the Pemda admin).
    assert ("/laporan/insiden/?" in html) is (username != "admin")


def test_indonesian_first_english_available(tenant_b, as_user, built):
    client = as_user(tenant_b, "supervisor")
    assert "Panggilan per hari menurut jenis" in client.get(f"/laporan/?{MARCH}").content.decode()
    client.cookies["django_language"] = "en"
    assert "Calls per day by type" in client.get(f"/laporan/?{MARCH}").content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-03-05&end=2026-03-01", "sebelum"),
        ("start=2023-01-01&end=2026-01-01", "dua tahun"),
        ("start=&end=", "hari pertama"),
    ],
)
def test_bad_period_is_a_clear_message(tenant_b, as_user, query, message):
    client = as_user(tenant_b, "supervisor")
    for path in ("/laporan/", "/laporan/export.xlsx", "/laporan/insiden/"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert message in response.content.decode()


def test_drill_down_lists_exactly_the_incidents_counted(tenant_b, as_user, built):
    client = as_user(tenant_b, "bupati")
    i1, i2, i3, test_incident = built["incidents"]
    html = client.get(f"/laporan/insiden/?{MARCH}&category=tl-fire").content.decode()
    assert i1.reference in html and i3.reference in html
    assert i2.reference not in html and test_incident.reference not in html
    html = client.get(f"/laporan/insiden/?{MARCH}&kecamatan=Waru").content.decode()
    assert i3.reference in html and i1.reference not in html
    assert f'/incidents/{i3.pk}/' in html


def test_csv_export(tenant_b, as_user, built):
    response = as_user(tenant_b, "supervisor").get(f"/laporan/export.csv?{MARCH}&table=opd")
    assert response.status_code == 200
    assert 'filename="kpi-sidoarjo-20260301-20260303.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "OPD" and len(rows) == 3
    assert rows[1][:2] == ["AA Damkar TL", "2"] and rows[1][4] == "50.0"


def test_xlsx_export_is_a_real_spreadsheet(tenant_b, as_user, built):
    import datetime as dt

    response = as_user(tenant_b, "supervisor").get(f"/laporan/export.xlsx?{MARCH}")
    assert response.status_code == 200
    assert 'filename="kpi-sidoarjo-20260301-20260303.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    daily = book.worksheets[0]
    assert [c.value for c in daily[1]][:2] == ["Tanggal", "Panggilan"]
    assert all(c.font.bold for c in daily[1])
    assert daily.freeze_panes == "A2" and daily.auto_filter.ref == daily.dimensions
    assert daily["A3"].value == dt.datetime(2026, 3, 2) and daily["A3"].number_format == "yyyy-mm-dd"
    assert daily["B3"].value == 7
    assert daily.column_dimensions["A"].width >= 10
    assert len(book.worksheets) == 3


def test_export_without_rows_says_so(tenant_b, as_user):
    client = as_user(tenant_b, "supervisor")
    response = client.get("/laporan/export.xlsx?start=2019-01-01&end=2019-01-31", follow=True)
    assert response.redirect_chain and response.status_code == 200
    assert "xlsx" not in response.get("Content-Type", "")
    assert "Tidak ada yang bisa diekspor" in response.content.decode()
    assert as_user(tenant_b, "supervisor").get(f"/laporan/export.pdf?{MARCH}").status_code == 404
