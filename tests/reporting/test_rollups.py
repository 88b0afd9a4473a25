"""Rollups into the public schema: national and provincial figures equal the sum of
the per-Pemda figures (reporting.kpis, read in each schema) after incidents are
added, changed and closed; the pages read only the public schema."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from reporting import kpis, national, rollups
from reporting.models import WINDOW_DAYS, WINDOW_ZONE, DailyRollup, RollupState, WindowRollup
from reporting.periods import Period
from tests.reporting import timeline

ADDITIVE = ("calls", "blocked", "offered", "answered", "missed", "prank_ghost", "within_10",
            "within_20", "incidents", "incidents_closed", "a2d_count", "dispatches", "ack_ok",
            "ack_due", "arrive_ok", "arrive_due", "resolved")


_as_of: list[dt.datetime] = []


def roll(now: dt.datetime | None = None) -> dt.datetime:
    """Roll up as of one instant, and read the tenants (and date the window) as of
    that same instant: how many dispatches are due for acknowledgement moves with
    the clock, and the WIB day turns at 17:00 UTC, so comparing a rollup made at t1
    with a reading at t2 fails whenever a deadline or midnight falls between.
    Every Pemda's rollup must succeed (rollup_all records a failure and goes on)."""
    now = now or timezone.now()
    _as_of[:] = [now]
    done = rollups.rollup_all(now=now)
    failed = {schema: RollupState.objects.get(tenant__schema_name=schema).last_error
              for schema, days in done.items() if days < 0}
    assert not failed
    return now


def as_of() -> dt.datetime:
    assert _as_of, "roll() first"
    return _as_of[0]


def per_tenant_sum(start: dt.date, end: dt.date, province: str = "") -> Counter:
    """The same figures read directly in every live tenant's schema (what the
    rollups must add up to)."""
    total: Counter = Counter()
    for tenant in rollups.live_tenants():
        if province and tenant.region.parent_id != province:
            continue
        period = Period(start, end, tenant.region.timezone)
        with schema_context(tenant.schema_name):
            calls = kpis.call_summary(period)
            for key in ("calls", "blocked", "offered", "answered", "missed", "prank_ghost",
                        "within_10", "within_20"):
                total[key] += calls[key]
            per_day = kpis.incidents_per_day(period)
            total["incidents"] += sum(r["count"] for r in per_day)
            total["incidents_closed"] += sum(r["closed"] for r in per_day)
            total["a2d_count"] += kpis.answer_to_dispatch(period)["incidents"]
            for row in kpis.response_times(period, "agency", as_of()):
                for key in ("dispatches", "ack_ok", "ack_due", "arrive_ok", "arrive_due",
                            "resolved"):
                    total[key] += row[key]
    return total


def assert_rollups_match(start: dt.date, end: dt.date) -> dict:
    period = Period(start, end)
    nat = national.totals(period)
    assert {k: nat[k] for k in ADDITIVE} == {k: per_tenant_sum(start, end)[k] for k in ADDITIVE}
    jatim = national.totals(period, "35")
    assert {k: jatim[k] for k in ADDITIVE} == {
        k: per_tenant_sum(start, end, "35")[k] for k in ADDITIVE}
    # ... and the provincial and league rows add up to the national ones.
    provinces = national.provinces(period)
    assert sum(p["calls"] for p in provinces) == nat["calls"]
    assert sum(p["incidents"] for p in provinces) == nat["incidents"]
    assert sum(r["calls"] for r in national.league(period)) == nat["calls"]
    assert_window_matches()
    return nat


def assert_window_matches() -> None:
    """The default period of the national pages is read from the per-Pemda window
    rows: they cover it (the last rollup wrote them), and the national and Jawa
    Timur figures read through them, and through the daily rows when a window row
    is stale, equal the sums read in each tenant's schema. The default period as of
    the last rollup's instant: the clock may have passed 17:00 UTC (the next WIB
    day) since, and then the page's window is rightly not that rollup's one."""
    window = Period.last_days(WINDOW_DAYS, WINDOW_ZONE,
                              today=as_of().astimezone(ZoneInfo(WINDOW_ZONE)).date())
    live = {t.pk for t in rollups.live_tenants()}
    assert set(WindowRollup.objects.filter(start=window.start, end=window.end)
               .values_list("tenant_id", flat=True)) >= live
    expected = per_tenant_sum(window.start, window.end)
    expected_jatim = per_tenant_sum(window.start, window.end, "35")
    assert expected["calls"] > 0
    found = national.figures(window)
    assert {k: found.totals[k] for k in ADDITIVE} == {k: expected[k] for k in ADDITIVE}
    assert {k: national.totals(window, "35")[k] for k in ADDITIVE} == {
        k: expected_jatim[k] for k in ADDITIVE}
    assert sum(r["incidents"] for r in found.league) == expected["incidents"]
    # A window row left over from yesterday is not used: that Pemda's daily rows are.
    stale = WindowRollup.objects.filter(tenant__status="live", calls__gt=0).first()
    assert stale is not None
    WindowRollup.objects.filter(pk=stale.pk).update(
        start=window.start - dt.timedelta(days=1), end=window.end - dt.timedelta(days=1),
        calls=0, incidents=0)
    mixed = national.figures(window).totals
    assert {k: mixed[k] for k in ADDITIVE} == {k: expected[k] for k in ADDITIVE}
    assert mixed["histograms"] == found.totals["histograms"]
    rollups.rollup_tenant(stale.tenant, now=as_of())  # and the next run puts it right
    assert WindowRollup.objects.get(pk=stale.pk).end == window.end


def test_national_and_provincial_equal_the_sum_of_pemda(tenant_b, tenant_c):
    now = timezone.now()
    today = now.astimezone(timeline.WIB).date()
    start, end = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    roll()
    before = assert_rollups_match(start, end)

    # Added: operations in Sidoarjo and Kota Malang, stamped after that rollup.
    t0 = timezone.now()
    with schema_context(tenant_b.schema_name):
        built = timeline.build_now(t0)
    with schema_context(tenant_c.schema_name):
        timeline.build_now(t0, prefix="mlg")
    added_at = roll()
    added = assert_rollups_match(start, end)
    assert added["calls"] == before["calls"] + 2 * 4
    assert added["incidents"] == before["incidents"] + 2 * 2

    # Changed and closed in Sidoarjo: the pending dispatch is acknowledged and arrives,
    # an incident is closed, a new call rings and is answered.
    from incidents.models import Dispatch

    with schema_context(tenant_b.schema_name):
        later = built["pending"].dispatched_at + dt.timedelta(minutes=2)
        Dispatch.objects.filter(pk=built["pending"].pk).update(
            status="arrived", acknowledged_at=later, arrived_at=later)
        inc = built["incidents"][0]
        inc.status, inc.closed_at = "closed", later
        inc.save(update_fields=["status", "closed_at"])
        timeline.call(later - dt.timedelta(seconds=30), 7)
    # Meanwhile in Kota Malang, a pending dispatch whose 5-minute acknowledgement
    # target passes a millisecond after the previous run, as the demo's pending ones
    # (or another test's) can while this test runs: not this test's change, so not
    # in the differences below. The next run is as of the previous run's instant,
    # so they are this test's changes only; as of the clock's later instant, that
    # dispatch would be due too and ack_due would grow by 2 (seen in full runs).
    with schema_context(tenant_c.schema_name):
        from incidents.models import Agency, Category

        sent = added_at - dt.timedelta(minutes=5) + dt.timedelta(milliseconds=1)
        timeline.dispatch(
            timeline.incident(Category.objects.get(code="mlg-fire"),
                              sent - dt.timedelta(minutes=1)),
            Agency.objects.get(code="mlg-a"), sent)
    assert timezone.now() > added_at + dt.timedelta(milliseconds=1)
    roll(added_at)
    changed = assert_rollups_match(start, end)
    assert changed["calls"] == added["calls"] + 1
    assert changed["incidents_closed"] == added["incidents_closed"] + 1
    assert changed["ack_ok"] == added["ack_ok"]  # acknowledged, but after its (zero) target
    # Sent at t0 + 11 min, it was not yet due at the previous run; acknowledged, it is.
    assert changed["ack_due"] == added["ack_due"] + 1
    # The monthly rows (the trend) are the sums of the daily ones, month by month.
    trend = national.monthly(end, 3)
    by_month: Counter = Counter()
    for day, calls, incidents in DailyRollup.objects.filter(
            tenant__status="live", day__gte=trend[0]["month"]).values_list(
            "day", "calls", "incidents"):
        by_month[(day.replace(day=1), "calls")] += calls
        by_month[(day.replace(day=1), "incidents")] += incidents
    assert sum(m["calls"] for m in trend) > 0
    for m in trend:
        assert (m["calls"], m["incidents"]) == (
            by_month[(m["month"], "calls")], by_month[(m["month"], "incidents")])
    state = RollupState.objects.get(tenant=tenant_b)
    assert state.last_error == "" and state.last_success_at is not None
    assert DailyRollup.objects.filter(tenant=tenant_b, day__gte=start).exists()


def test_a_passing_acknowledgement_target_is_rolled_up_before_the_arrival_one(tenant_c):
    """An incremental run recomputes a day when one of its pending dispatches' targets
    passes, the acknowledgement one included, not only the later arrival one: sent at
    T with 10- and 60-minute targets, the dispatch is due for acknowledgement from
    T+10 min, which the run at T+16 min (watermark T+1 min: the previous run's start
    less the overlap, after the dispatch was sent) must count. The clock is pinned by
    passing each run its instant; 2027 is a year nothing else in the session is on."""
    from incidents.models import Agency, Category

    sent = dt.datetime(2027, 1, 15, 3, 0, tzinfo=dt.UTC)  # 10:00 WIB in Kota Malang
    tz = tenant_c.region.timezone
    day = sent.astimezone(ZoneInfo(tz)).date()
    with schema_context(tenant_c.schema_name):
        slow = Category.objects.create(code="tl-ack-first", name="Ack first", priority=1,
                                       ack_target_minutes=10, arrive_target_minutes=60)
        agency = Agency.objects.create(code="tl-ack-first", name="Ack first")
        timeline.dispatch(timeline.incident(slow, sent - dt.timedelta(minutes=1)), agency, sent)

    def run(minutes: int, *, full: bool = False) -> tuple[int, int]:
        now = sent + dt.timedelta(minutes=minutes)
        rollups.rollup_tenant(tenant_c, full=full, now=now)
        row = DailyRollup.objects.get(tenant=tenant_c, day=day)
        with schema_context(tenant_c.schema_name):
            read = kpis.response_times(Period(day, day, tz), "agency", now)
        # The rolled-up day equals the day read in the schema as of the same instant.
        assert (row.ack_due, row.arrive_due) == (sum(r["ack_due"] for r in read),
                                                 sum(r["arrive_due"] for r in read))
        return row.ack_due, row.arrive_due

    assert run(1, full=True) == (0, 0)
    assert run(6) == (0, 0)  # recomputed (sent after the watermark), nothing due yet
    assert run(16) == (1, 0)  # the acknowledgement target passed at T+10 min
    assert run(26) == (1, 0)
    assert run(61) == (1, 1)  # and the arrival one at T+60 min


@pytest.mark.parametrize(("zone", "hour", "minute"), [
    ("Asia/Jakarta", 17, 30),  # 00:30 WIB on 16 January
    ("Asia/Makassar", 16, 30),  # 00:30 WITA on 16 January, still 23:30 on the 15th in WIB
    ("Asia/Jayapura", 15, 30),  # 00:30 WIT, 22:30 WIB
])
def test_days_are_the_pemdas_own_and_the_window_ends_on_wibs_today(db, zone, hour, minute):
    """At the moment a Pemda's local day turns, pinned by passing the rollup its
    instant: calls rung before local midnight are on its local yesterday, one rung
    10 minutes after on its local today (not on the UTC date, still the day
    before); the window row ends on WIB's date of that instant, and the national
    figures of that default period read through it equal the sum read in the schema."""
    tenant = rollups.live_tenants().filter(region__timezone=zone).first()
    assert tenant is not None, f"the demo has a live Pemda in {zone}"
    now = dt.datetime(2027, 1, 15, hour, minute, tzinfo=dt.UTC)
    local = ZoneInfo(zone)
    assert now.date() == dt.date(2027, 1, 15) and now.astimezone(local).date() == dt.date(
        2027, 1, 16)
    with schema_context(tenant.schema_name):
        timeline.call(now - dt.timedelta(minutes=40), 5)  # 23:50 local on the 15th
        timeline.call(now - dt.timedelta(minutes=35), 6)  # 23:55
        timeline.call(now - dt.timedelta(minutes=20), 8)  # 00:10 on the 16th, UTC's 15th
    rollups.rollup_tenant(tenant, full=True, now=now)
    assert dict(DailyRollup.objects.filter(tenant=tenant, day__year=2027)
                .values_list("day", "calls")) == {dt.date(2027, 1, 15): 2,
                                                  dt.date(2027, 1, 16): 1}
    wib_today = now.astimezone(ZoneInfo(WINDOW_ZONE)).date()
    window = Period.last_days(WINDOW_DAYS, WINDOW_ZONE, today=wib_today)
    row = WindowRollup.objects.get(tenant=tenant)
    assert (row.start, row.end) == (window.start, window.end)
    with schema_context(tenant.schema_name):
        expected = kpis.call_summary(Period(window.start, window.end, zone))["calls"]
    # In WIB the 16th has begun only at 17:00 UTC: a WITA or WIT Pemda's 16th is not
    # in the national window yet at 16:30 or 15:30 UTC.
    assert expected == (3 if wib_today == dt.date(2027, 1, 16) else 2)
    assert row.calls == expected
    league = national.figures(window).league
    assert next(r for r in league if r["region"].code == tenant.region.code)["calls"] == expected


def test_rollup_is_idempotent_and_full_refresh_agrees(tenant_b):
    now = timezone.now()
    with schema_context(tenant_b.schema_name):
        timeline.build_now(now)
    rollups.rollup_tenant(tenant_b)
    first = list(DailyRollup.objects.filter(tenant=tenant_b).order_by("day").values(*ADDITIVE))
    rollups.rollup_tenant(tenant_b)
    rollups.rollup_tenant(tenant_b, full=True)
    again = list(DailyRollup.objects.filter(tenant=tenant_b).order_by("day").values(*ADDITIVE))
    assert first == again and first


def test_failing_rollup_is_recorded_and_shown(tenant_b, client_for, monkeypatch):
    from accounts.models import User

    rollups.rollup_tenant(tenant_b)
    rows_before = list(DailyRollup.objects.filter(tenant=tenant_b).values_list("pk", "calls"))

    def broken(*args, **kwargs):
        raise RuntimeError("schema unreachable")

    monkeypatch.setattr(rollups, "day_figures", broken)
    with pytest.raises(RuntimeError):
        rollups.rollup_tenant(tenant_b, full=True)
    state = RollupState.objects.get(tenant=tenant_b)
    assert "schema unreachable" in state.last_error
    assert list(DailyRollup.objects.filter(tenant=tenant_b).values_list("pk", "calls")) == \
        rows_before
    RollupState.objects.filter(pk=state.pk).update(
        last_success_at=timezone.now() - dt.timedelta(hours=5))
    with schema_context("public"):
        officer = User.objects.get(username="prov.jatim")
    html = client_for(None, officer).get("/kpi/provinsi/35/").content.decode()
    assert 'id="freshness" class="alert alert-warning' in html
    assert "gagal" in html


@pytest.mark.parametrize("path", ["/kpi/", "/kpi/provinsi/35/"])
def test_public_pages_refuse_the_wrong_people(public_client, client_for, path):
    from accounts.models import User

    response = public_client.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for username in ("koordinator.dairi", "auditor"):
        with schema_context("public"):
            user = User.objects.get(username=username)
        assert client_for(None, user).get(path).status_code == 403


def test_provincial_officer_sees_only_their_province(client_for):
    from accounts.models import User

    with schema_context("public"):
        officer = User.objects.get(username="prov.jatim")
    client = client_for(None, officer)
    response = client.get("/kpi/")
    assert response.status_code == 302 and response["Location"].startswith("/kpi/provinsi/35/")
    assert client.get("/kpi/provinsi/12/").status_code == 404
    assert client.get("/kpi/provinsi/35/").status_code == 200


def test_national_officer_sees_league_tables_without_tenant_queries(tenant_b, client_for):
    from accounts.models import User

    roll()
    with schema_context("public"):
        officer = User.objects.get(username="nasional")
    client = client_for(None, officer)
    with CaptureQueriesContext(connection) as queries:
        national_html = client.get("/kpi/").content.decode()
        jatim = client.get("/kpi/provinsi/35/")
    assert jatim.status_code == 200
    html = jatim.content.decode()
    assert 'data-region="35.15"' in html and "Kab. Sidoarjo" in html
    assert 'data-province="35"' in national_html
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert not re.search(r"incidents_(call|incident|dispatch|category|agency)\b", sql)
    assert "pemda_" not in sql
    # The default period comes from the window rows; the trend from the monthly ones.
    assert "reporting_windowrollup" in sql and "reporting_monthlyrollup" in sql


def test_cached_page_figures_follow_the_rollups(tenant_b, client_for):
    """The page figures are cached under the rollup version: a second view reads no
    rollup table, new incidents show once a rollup has landed, not before."""
    from accounts.models import User

    roll()
    with schema_context("public"):
        officer = User.objects.get(username="prov.jatim")
    client = client_for(None, officer)
    today = timezone.now().astimezone(timeline.WIB).date()
    path = (f"/kpi/provinsi/35/?start={today - dt.timedelta(days=1)}"
            f"&end={today + dt.timedelta(days=1)}")

    def incidents() -> int:
        html = client.get(path).content.decode()
        found = re.search(r'id="nat-incidents">([\d.,]+)<', html)
        assert found, html[:500]
        return int(re.sub(r"[.,]", "", found.group(1)))

    before = incidents()
    with CaptureQueriesContext(connection) as queries:
        assert incidents() == before
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "reporting_rollupstate" in sql  # the version
    assert not re.search(r"reporting_(daily|monthly|window)rollup", sql)  # the rest: cache
    with schema_context(tenant_b.schema_name):
        timeline.build_now(timezone.now())
    assert incidents() == before  # not rolled up yet: the rollups are the page's source
    roll()
    assert incidents() == before + 2
