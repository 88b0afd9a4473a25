"""What the public host shows: times with their zone (WIB/WITA/WIT), the launches
chart up to the present month, a navbar per role with only links the role may
open, and a favicon on every host."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from onboarding import selectors
from onboarding.models import PemdaOnboarding, Stage

ZONED = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} (WIB|WITA|WIT)\b")


def test_zoned_filter_names_the_zone():
    at = dt.datetime(2026, 3, 17, 6, 5, tzinfo=dt.UTC)
    render = Template("{% load zoned %}{{ at|zoned:zone }}|{{ at|zoned }}").render
    with timezone.override(zoneinfo.ZoneInfo("Asia/Jakarta")):
        assert render(Context({"at": at, "zone": "Asia/Makassar"})) == (
            "2026-03-17 14:05 WITA|2026-03-17 13:05 WIB")
        assert render(Context({"at": at, "zone": "Asia/Jayapura"})).startswith(
            "2026-03-17 15:05 WIT|")
        # No zone or an unknown one: the active zone, still labelled.
        assert render(Context({"at": at, "zone": "Mars/Olympus"})).startswith(
            "2026-03-17 13:05 WIB|")
        assert render(Context({"at": None, "zone": None})) == "|"


@pytest.mark.django_db
@pytest.mark.parametrize("code,zone", [("71.74", "WITA"), ("12.11", "WIB")])
def test_pemda_timeline_times_carry_the_regions_zone(as_user, code, zone):
    page = as_user("nasional").get(f"/pemda/{code}/").content.decode()
    timeline = page[page.index('id="timeline"'):]
    timeline = timeline[: timeline.index("</ul>")]
    stamps = re.findall(r'<span class="text-muted text-nowrap ms-2">([^<]+)</span>', timeline)
    assert stamps, "the demo Pemda has a timeline"
    assert all(ZONED.fullmatch(s) and s.endswith(f" {zone}") for s in stamps), stamps


@pytest.mark.django_db
@pytest.mark.parametrize("url,user", [("/", "nasional"), ("/provinsi/35/", "prov.jatim")])
def test_console_says_as_of_when_in_wib(as_user, url, user):
    page = as_user(user).get(url, follow=True).content.decode()
    as_of = re.search(r'id="as-of">([^<]+)<', page).group(1)
    assert as_of.startswith("Per ") and ZONED.search(as_of).group(1) == "WIB"


@pytest.mark.django_db
def test_launch_chart_runs_to_the_present_month(as_user):
    page = as_user("nasional").get("/").content.decode()
    data = json.loads(re.search(
        r'<script id="launch-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    today = timezone.localdate()
    assert data["labels"][-1] == f"{today.year:04d}-{today.month:02d}"
    assert all(isinstance(n, int) for n in data["monthly"] + data["cumulative"])
    assert data["cumulative"][-1] == PemdaOnboarding.objects.filter(stage=Stage.LAUNCHED).count()
    # Months are contiguous: no gap where nobody launched.
    months = [dt.date(int(m[:4]), int(m[5:]), 1) for m in data["labels"]]
    assert all((b.year * 12 + b.month) - (a.year * 12 + a.month) == 1
               for a, b in zip(months, months[1:], strict=False))
    assert "precision: 0" in page  # whole launches only on the axes


@pytest.mark.django_db
def test_launches_over_time_with_a_fixed_today():
    series = selectors.launches_over_time(today=dt.date(2031, 2, 3))
    assert series[-1][0] == "2031-02" and series[-1][1] == 0
    assert series[-1][2] == series[-2][2]


@pytest.mark.django_db
@pytest.mark.parametrize("user,title,expected_links", [
    # console, the 514 list, the audit trail, KPIs, invoices
    ("nasional", "Konsol nasional", 5),
    ("auditor", "Konsol nasional", 3),
    ("prov.jatim", "Konsol provinsi", 3),  # province, its Pemda list, its KPIs
    ("koordinator.dairi", "Onboarding Pemda", 1),
])
def test_navbar_per_role_only_links_the_role_may_open(as_user, user, title, expected_links):
    client = as_user(user)
    page = client.get("/", follow=True).content.decode()
    nav = page[page.index("<nav"):page.index("</nav>")]
    brand = re.sub(r"\s+", " ", re.search(r'<small class="fw-normal">(.*?)</small>', nav, re.S)
                   .group(1)).strip()
    assert brand == title
    links = re.findall(r'class="nav-link" href="([^"]+)"', nav)
    assert len(links) == expected_links
    for href in links:
        assert client.get(href).status_code == 200, (user, href)
    if user != "nasional":
        assert "Konsol nasional" not in nav or title == "Konsol nasional"


@pytest.mark.django_db
def test_anonymous_navbar_has_no_console_links(public_client):
    page = public_client.get("/accounts/login/").content.decode()
    nav = page[page.index("<nav"):page.index("</nav>")]
    assert 'class="nav-link"' not in nav


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["localhost", "dairi.localhost"])
def test_favicon_is_served_on_every_host(client, host):
    response = client.get("/favicon.ico", HTTP_HOST=host)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"
    assert "max-age" in response["Cache-Control"]
    assert client.post("/favicon.ico", HTTP_HOST=host).status_code in (403, 405)


@pytest.mark.django_db
def test_pages_link_the_favicon(as_user):
    page = as_user("nasional").get("/").content.decode()
    assert re.search(r'rel="icon" href="[^"]*favicon[^"]*\.svg"', page)
