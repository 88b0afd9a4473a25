"""The 514 list: sortable columns (server-side, stable), a clear message for an
empty filter, exports with human labels in the reader's language, a real
spreadsheet (bold frozen header, widths, autofilter, dates as dates) and a file
name that says which filter made it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from openpyxl import load_workbook

from onboarding.models import STAGE_ORDER, PemdaOnboarding, Stage

RAW_CODES = {s.value for s in Stage} | {"yes", "no", "True", "False"}


def _names(page: str) -> list[str]:
    return re.findall(r'<td><a href="/pemda/[\d.]+/">([^<]+)</a></td>', page)


def _codes(page: str) -> list[str]:
    return re.findall(r'<tr[^>]*><td>([\d.]+)</td>', page)


def _english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["name", "-name", "province", "-province", "stage", "-stage",
                                  "days", "-days", "updated", "-updated", "code", "-code"])
def test_every_column_sorts_server_side_and_stably(as_user, sort):
    client = as_user("nasional")
    page = client.get(f"/pemda/?province=35&sort={sort}").content.decode()
    codes = _codes(page)
    assert len(codes) == 38
    obs = {ob.region_id: ob for ob in PemdaOnboarding.objects.select_related("region")
           .filter(region__parent_id="35")}
    now = timezone.now()
    key_of = {
        "code": lambda c: 0,
        "name": lambda c: obs[c].region.name.casefold(),
        "province": lambda c: 0,
        "stage": lambda c: STAGE_ORDER.index(obs[c].stage),
        "days": lambda c: (now - obs[c].stage_entered_at).days if obs[c].stage_entered_at else None,
        "updated": lambda c: obs[c].updated_at,
    }[sort.lstrip("-")]
    keys = [key_of(c) for c in codes]
    present = [k for k in keys if k is not None]
    assert present == sorted(present, reverse=sort.startswith("-"))
    assert keys[len(present):] == [None] * (len(keys) - len(present))  # no value: last
    # Ties are ordered by code (ascending) whichever the direction.
    for (k1, c1), (k2, c2) in zip(zip(keys, codes, strict=True), zip(keys[1:], codes[1:],
                                                                    strict=True), strict=False):
        if k1 == k2 and sort.lstrip("-") != "code":
            assert c1 < c2
    # The same order twice (stable), and the export follows the list.
    assert _codes(client.get(f"/pemda/?province=35&sort={sort}").content.decode()) == codes
    rows = list(csv.reader(io.StringIO(
        client.get(f"/pemda/?province=35&sort={sort}&format=csv").content.decode())))
    assert [r[0] for r in rows[1:]] == codes


@pytest.mark.django_db
def test_header_links_flip_the_direction_and_keep_the_filter(as_user):
    page = as_user("nasional").get("/pemda/?province=35&stage=trial&sort=name").content.decode()
    link = re.search(r'href="([^"]+)" data-sort="name"', page).group(1).replace("&amp;", "&")
    assert "sort=-name" in link and "province=35" in link and "stage=trial" in link
    assert 'aria-sort="ascending"' in page
    other = re.search(r'href="([^"]+)" data-sort="stage"', page).group(1)
    assert "sort=stage" in other and "sort=-stage" not in other
    # A bad sort is ignored, never an error.
    response = as_user("nasional").get("/pemda/?sort=password")
    assert response.status_code == 200
    assert _codes(response.content.decode()) == sorted(_codes(response.content.decode()))


@pytest.mark.django_db
def test_an_empty_filter_says_so(as_user):
    page = as_user("nasional").get("/pemda/?q=tidak-ada-pemda-ini").content.decode()
    assert 'id="no-rows"' in page and "Tidak ada Pemda yang cocok dengan filter ini." in page
    assert 'id="pemda-table"' not in page
    english = _english(as_user("nasional")).get("/pemda/?q=nothing-here").content.decode()
    assert "No Pemda matches this filter." in english
    # A provincial officer's other province: the same message, nothing leaks.
    page = as_user("prov.jatim").get("/pemda/?province=12").content.decode()
    assert 'id="no-rows"' in page and "Dairi" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("lang,stalled_yes,header", [
    ("id", "Ya", ["Kode", "Kabupaten/Kota", "Provinsi", "Tahap"]),
    ("en", "Yes", ["Code", "Kabupaten/Kota", "Province", "Stage"]),
])
def test_exports_use_human_labels_in_the_readers_language(as_user, lang, stalled_yes, header):
    client = as_user("nasional")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    text = client.get("/pemda/?format=csv").content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == header
    values = {v for r in rows[1:] for v in r}
    assert not values & RAW_CODES, values & RAW_CODES
    assert stalled_yes in {r[6] for r in rows[1:]}
    labels = {str(s.label) for s in Stage}
    book = load_workbook(io.BytesIO(client.get("/pemda/?format=xlsx").content))
    cells = {c for r in book.active.iter_rows(min_row=2, values_only=True) for c in r}
    assert not cells & RAW_CODES
    if lang == "id":
        assert {"Belum mulai", "Diluncurkan"} <= cells
    else:
        assert {"Not started", "Launched"} <= cells and labels


@pytest.mark.django_db
def test_xlsx_is_a_real_spreadsheet(as_user):
    content = as_user("nasional").get("/pemda/?province=35&format=xlsx").content
    sheet = load_workbook(io.BytesIO(content)).active
    assert all(cell.font.bold for cell in sheet[1])
    assert not any(cell.font.bold for cell in sheet[2])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:J{sheet.max_row}"
    assert sheet.max_row == 39
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width > 5
    launched = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[7] is not None]
    assert launched and all(isinstance(r[7], dt.datetime) for r in launched)
    assert all(isinstance(r[4], dt.datetime) for r in sheet.iter_rows(min_row=2, values_only=True)
               if r[4] is not None)
    assert all(isinstance(r[5], int) for r in launched if r[5] is not None)
    assert sheet.cell(row=2, column=8).number_format == "yyyy-mm-dd"


@pytest.mark.django_db
@pytest.mark.parametrize("query,fmt,expected", [
    ("province=35&stage=launched", "xlsx", "siaga112-pemda-jawa-timur-diluncurkan-{d}.xlsx"),
    ("", "csv", "siaga112-pemda-{d}.csv"),
    ("stalled=1&q=Kota", "csv", "siaga112-pemda-tertahan-kota-{d}.csv"),
])
def test_file_name_carries_the_filter(as_user, query, fmt, expected):
    response = as_user("nasional").get(f"/pemda/?{query}&format={fmt}")
    # The file is named after the ministry's day (WIB), not UTC's.
    day = timezone.localdate(timezone=ZoneInfo("Asia/Jakarta")).isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="{expected.format(d=day)}"'


@pytest.mark.django_db
def test_provincial_officer_file_name_names_the_province(as_user):
    response = as_user("prov.jatim").get("/pemda/?format=xlsx")
    assert "siaga112-pemda-jawa-timur-" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert {r[2] for r in sheet.iter_rows(min_row=2, values_only=True)} == {"Jawa Timur"}


@pytest.mark.django_db
def test_pemda_page_names_the_tenant_site_not_its_slug(as_user):
    page = as_user("nasional").get("/pemda/71.74/").content.decode()
    site = re.search(r'id="tenant-site">([^<]+)<', page).group(1)
    assert "Kotamobagu" in site and "kotamobagu<" not in page and "<code>kotamobagu" not in page
    assert "Tenant:" not in page
