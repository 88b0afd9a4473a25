"""A hand-built day of operations with answers worked out by hand (see test_kpis).

All times are WIB (Sidoarjo). Nothing here goes through incidents.services: the
point is to control every timestamp to the second."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from itertools import count
from typing import Any

WIB = zoneinfo.ZoneInfo("Asia/Jakarta")
_seq = count(1)


def at(day: int, hh: int, mm: int, ss: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hh, mm, ss, tzinfo=WIB)


def sec(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


def call(ring: dt.datetime, answer_after: float | None, call_type: str = "emergency",
         *, is_test: bool = False, blocked: bool = False, incident: Any = None) -> Any:
    from incidents.models import Call

    n = next(_seq)
    return Call.objects.create(
        external_id=f"tl-{n}-{ring.timestamp()}", caller=f"+62812000{n:05d}",
        state="missed" if answer_after is None and not blocked else "ended",
        call_type=call_type, ringing_at=ring, is_test=is_test, blocked=blocked,
        answered_at=None if answer_after is None else ring + sec(answer_after),
        incident=incident,
    )


def incident(category: Any, created: dt.datetime, kecamatan: str = "Sidoarjo",
             *, is_test: bool = False, closed: dt.datetime | None = None) -> Any:
    from incidents.models import Incident

    n = next(_seq)
    return Incident.objects.create(
        reference=f"TL-{n}-{created:%H%M%S}-{created.timestamp()}", category=category,
        priority=category.priority, description="timeline", kecamatan=kecamatan,
        is_test=is_test, idempotency_key=f"tl-{n}-{created.timestamp()}",
        created_at=created, closed_at=closed, status="closed" if closed else "open",
        latitude=-7.45, longitude=112.7,
    )


def dispatch(inc: Any, agency: Any, sent: dt.datetime, *, ack: float | None = None,
             arrive: float | None = None, resolve: float | None = None,
             cancelled: bool = False) -> Any:
    from incidents.models import Dispatch

    status = ("cancelled" if cancelled else "resolved" if resolve is not None
              else "arrived" if arrive is not None else "acknowledged" if ack is not None
              else "pending")
    return Dispatch.objects.create(
        incident=inc, agency=agency, dispatched_at=sent, status=status,
        acknowledged_at=None if ack is None else sent + sec(ack),
        arrived_at=None if arrive is None else sent + sec(arrive),
        resolved_at=None if resolve is None else sent + sec(resolve),
        cancelled_at=sent + sec(30) if cancelled else None,
    )


def build() -> dict[str, Any]:
    """The timeline of test_kpis, in the current (tenant) schema."""
    from incidents.models import Agency, Category

    fire = Category.objects.create(code="tl-fire", name="Kebakaran TL", priority=1,
                                   ack_target_minutes=5, arrive_target_minutes=15)
    medic = Category.objects.create(code="tl-medic", name="Medis TL", priority=1,
                                    ack_target_minutes=2, arrive_target_minutes=10)
    a = Agency.objects.create(code="tl-a", name="AA Damkar TL")
    b = Agency.objects.create(code="tl-b", name="BB PSC TL")

    i1 = incident(fire, at(2, 8, 0), closed=at(2, 9, 30))
    i2 = incident(medic, at(2, 10, 0))
    i3 = incident(fire, at(3, 14, 0), kecamatan="Waru")
    i4 = incident(fire, at(2, 11, 0), is_test=True)
    # Calls on 2 March: answer times 4, 10, 12, 15, 30 s, one missed, one blocked.
    call(at(2, 7, 59), 4, incident=i1)
    call(at(2, 9, 58), 10, incident=i2)
    call(at(2, 12, 0), 12, "information")
    call(at(2, 12, 30), 15, "prank")
    call(at(2, 13, 0), 30, "ghost")
    call(at(2, 13, 30), None)
    call(at(2, 14, 0), None, "prank", blocked=True)
    call(at(2, 15, 0), 1, "prank", is_test=True, incident=i4)  # trial: never counts
    call(at(3, 23, 30), 6)  # last half hour of 3 March, local time
    call(at(28, 23, 59, month=2), 3)  # before the period
    call(at(4, 0, 0, 30), 3)  # after the period
    # i1: answered 07:59:04, dispatched 08:01:04 -> 120 s; i2: 09:58:10 -> 09:59:10 -> 60 s.
    dispatch(i1, a, at(2, 8, 1, 4), ack=180, arrive=1200, resolve=3600)
    dispatch(i2, b, at(2, 9, 59, 10), ack=240, arrive=480, resolve=1800)
    dispatch(i2, a, at(2, 10, 5), cancelled=True)
    dispatch(i3, a, at(3, 14, 2))  # never acknowledged: both targets missed
    dispatch(i4, a, at(2, 11, 1), ack=60, arrive=120, resolve=300)
    return {"fire": fire, "medic": medic, "a": a, "b": b, "incidents": [i1, i2, i3, i4]}


def build_now(t0: dt.datetime, prefix: str = "now") -> dict[str, Any]:
    """A small block of operations starting at `t0` (at or after the last rollup, as
    live data is), for the rollup tests: 4 calls (one prank, one missed), 2
    incidents, 2 live dispatches. The still pending one belongs to a category with
    zero-minute targets, so it is decided (missed) at once and no target passes
    while a test runs."""
    from incidents.models import Agency, Category

    cat, _ = Category.objects.get_or_create(
        code=f"{prefix}-fire", defaults={"name": f"Kebakaran {prefix}", "priority": 1,
                                         "ack_target_minutes": 5,
                                         "arrive_target_minutes": 15})
    urgent, _ = Category.objects.get_or_create(
        code=f"{prefix}-urgent", defaults={"name": f"Segera {prefix}", "priority": 1,
                                           "ack_target_minutes": 0,
                                           "arrive_target_minutes": 0})
    agency, _ = Agency.objects.get_or_create(code=f"{prefix}-a",
                                             defaults={"name": f"Damkar {prefix}"})
    i1 = incident(cat, t0 + sec(60))
    i2 = incident(urgent, t0 + sec(600), kecamatan="Waru")
    call(t0, 5, incident=i1)
    call(t0 + sec(540), 12, incident=i2)
    call(t0 + sec(700), 25, "prank")
    call(t0 + sec(800), None)
    dispatch(i1, agency, t0 + sec(120), ack=100, arrive=800, resolve=2000)
    pending = dispatch(i2, agency, t0 + sec(660))
    return {"incidents": [i1, i2], "pending": pending}
