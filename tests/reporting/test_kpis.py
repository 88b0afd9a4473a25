"""KPI arithmetic on a hand-built timeline (tests/reporting/timeline.py): every
expected figure below is worked out by hand from the timestamps there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation
from django_tenants.utils import schema_context

from reporting import kpis
from reporting.periods import MAX_PERIOD_DAYS, Period, PeriodForm, period_from_request
from tests.reporting import timeline

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 3), "Asia/Jakarta")


@pytest.fixture
def built(tenant_b):
    with schema_context(tenant_b.schema_name):
        yield timeline.build()


def test_call_figures_percentiles_and_service_level(built):
    calls = kpis.call_summary(MARCH)
    # 9 non-test calls in the period (one blocked); the trial call and the two
    # outside the period are not counted.
    assert calls["calls"] == 8
    assert calls["blocked"] == 1
    assert calls["offered"] == 7
    assert calls["answered"] == 6
    assert calls["missed"] == 1
    # Answer times 4, 6, 10, 12, 15, 30 s: median (10+12)/2, p90 at rank 4.5 -> 15 + .5 * 15.
    assert calls["answer_p50"] == 11.0
    assert calls["answer_p90"] == 22.5
    # Within 10 s: 4, 6 and exactly 10; within 20 s: also 12 and 15. Over 7 offered.
    assert (calls["within_10"], calls["within_10_share"]) == (3, 42.9)
    assert (calls["within_20"], calls["within_20_share"]) == (5, 71.4)
    # Prank + ghost (the blocked prank counts, the trial prank does not) over all 8.
    assert (calls["prank_ghost"], calls["prank_share"]) == (3, 37.5)


def test_calls_per_day_use_local_days(built):
    per_day, types = kpis.calls_per_day(MARCH)
    assert [r["day"] for r in per_day] == [dt.date(2026, 3, d) for d in (1, 2, 3)]
    assert [r["total"] for r in per_day] == [0, 7, 1]
    assert types == ["emergency", "ghost", "information", "prank"]
    assert per_day[1]["prank"] == 2 and per_day[1]["emergency"] == 3
    hours = kpis._by_hour(kpis.CALLS_PER_HOUR_SQL, MARCH)
    assert hours[23] == 1 and hours[15] == 0  # 23:30 WIB is 16:30 UTC; 15:00 was a test
    assert kpis.busiest(hours) == [(12, 2), (13, 2), (7, 1)]


def test_answer_to_dispatch(built):
    figures = kpis.answer_to_dispatch(MARCH)
    assert figures == {"incidents": 2, "p50": 90.0, "p90": 114.0}


def test_response_times_per_opd_and_category(built):
    now = timeline.at(10, 0, 0)
    by_agency = {r["key"]: r for r in kpis.response_times(MARCH, "agency", now)}
    assert set(by_agency) == {"tl-a", "tl-b"}
    a, b = by_agency["tl-a"], by_agency["tl-b"]
    # A: d1 (ack 3 min, arrive 20 min, resolve 60 min) and d4 (nothing, overdue);
    # the cancelled dispatch and the test incident's are left out.
    assert a["dispatches"] == 2
    assert (a["ack_ok"], a["ack_due"], a["ack_share"]) == (1, 2, 50.0)
    assert (a["arrive_ok"], a["arrive_due"], a["arrive_share"]) == (0, 2, 0.0)
    assert (a["ack_p50"], a["arrive_p50"], a["resolve_p50"], a["resolved"]) == (
        180.0, 1200.0, 3600.0, 1)
    # B: ack 4 min against a 2 min target, arrival 8 min against 10.
    assert (b["ack_share"], b["arrive_share"]) == (0.0, 100.0)
    by_category = {r["key"]: r for r in kpis.response_times(MARCH, "category", now)}
    assert by_category["tl-fire"]["ack_share"] == 50.0
    assert by_category["tl-medic"]["arrive_share"] == 100.0


def test_undecided_dispatch_is_not_counted_yet(built):
    # Two minutes after d4 was sent its 5-minute target has not passed: not due yet.
    now = timeline.at(3, 14, 4)
    a = {r["key"]: r for r in kpis.response_times(MARCH, "agency", now)}["tl-a"]
    assert (a["ack_ok"], a["ack_due"]) == (1, 1)


def test_incident_breakdowns_and_drill_down(built):
    figures = kpis.tenant_kpis(MARCH, now=timeline.at(10, 0, 0))
    assert figures.incidents_total == 3
    assert [(r["code"], r["count"]) for r in figures.incidents_by_category] == [
        ("tl-fire", 2), ("tl-medic", 1)]
    assert [(r["kecamatan"], r["count"]) for r in figures.incidents_by_kecamatan] == [
        ("Sidoarjo", 2), ("Waru", 1)]
    assert [h for h, n in enumerate(figures.incidents_by_hour) if n] == [8, 10, 14]
    assert [r["count"] for r in figures.incidents_per_day] == [0, 2, 1]
    assert [r["closed"] for r in figures.incidents_per_day] == [0, 1, 0]
    # Each number leads to exactly the incidents it counts.
    i1, i2, i3, _test = built["incidents"]
    assert list(kpis.incidents_behind(MARCH, category="tl-fire")) == [i3, i1]
    assert list(kpis.incidents_behind(MARCH, kecamatan="Waru")) == [i3]
    assert list(kpis.incidents_behind(MARCH, hour=10)) == [i2]
    assert list(kpis.incidents_behind(MARCH, day=dt.date(2026, 3, 2))) == [i2, i1]


def test_empty_period_gives_no_shares(tenant_b):
    with schema_context(tenant_b.schema_name):
        empty = Period(dt.date(2019, 1, 1), dt.date(2019, 1, 2))
        calls = kpis.call_summary(empty)
    assert calls["calls"] == 0 and calls["within_10_share"] is None
    assert calls["answer_p50"] is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "", "end": ""}, "first day"),
        ({"start": "2026-03-05", "end": ""}, "last day"),
        ({"start": "2026-03-05", "end": "2026-03-01"}, "ends before it starts"),
        ({"start": "2024-01-01", "end": "2026-01-02"}, "two years"),
        ({"start": "kemarin", "end": "2026-03-01"}, "not a date"),
    ],
)
def test_bad_periods_have_clear_messages(data, message):
    with translation.override("en"):
        form = PeriodForm(data)
        assert not form.is_valid()
        assert message in " ".join(str(e) for errs in form.errors.values() for e in errs)


def test_period_limits_and_default():
    form = PeriodForm({"start": "2024-01-01", "end": "2025-12-31"})
    assert form.is_valid() and form.period("Asia/Jayapura").days == MAX_PERIOD_DAYS
    period, _form = period_from_request({}, "Asia/Makassar")
    assert period is not None and period.days == 30 and period.zone_label == "WITA"
    assert Period.month(2026, 12).end == dt.date(2026, 12, 31)
    assert Period.month(2026, 2).since.isoformat() == "2026-02-01T00:00:00+07:00"


def test_handover_and_dashboard_figures_leave_out_test_calls(built):
    """The supervisor's handover and the old dashboard count as the KPIs do: the trial
    call and the trial incident of the timeline are in the window and are not counted."""
    from incidents import selectors
    from incidents.models import Call, Incident

    now = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
    since = now - dt.timedelta(hours=96)
    calls = Call.objects.filter(ringing_at__gte=since)
    incidents = Incident.objects.filter(created_at__gte=since)
    assert calls.filter(is_test=True).exists() and incidents.filter(is_test=True).exists()
    summary = selectors.handover_summary(96, now)
    assert summary["calls_total"] == calls.filter(is_test=False).count()
    assert summary["incidents_created"] == incidents.filter(is_test=False).count()
    assert sum(row["n"] for row in summary["by_category"]) == summary["incidents_created"]
