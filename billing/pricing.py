"""Invoice arithmetic, pure: Money in IDR in, Money in IDR out. Each line is
rounded once, to whole rupiah, half up (Rp 0,50 -> Rp 1), and the total is the sum
of the rounded lines, so the printed lines always add up to the printed total."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from djmoney.money import Money

IDR = "IDR"
WHOLE_RUPIAH = Decimal("1")


def round_rupiah(value: Money) -> Money:
    if str(value.currency) != IDR:
        raise ValueError(f"billing is in IDR only, not {value.currency}")
    return Money(value.amount.quantize(WHOLE_RUPIAH, rounding=ROUND_HALF_UP), IDR)


def rupiah(value: Money | Decimal | int | None) -> str:
    """'Rp 1.234.567' as Indonesian invoices write it (whole rupiah)."""
    if value is None:
        return "–"
    amount = value.amount if isinstance(value, Money) else Decimal(value)
    amount = amount.quantize(WHOLE_RUPIAH, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(int(amount)):,}".replace(",", ".")


@dataclass(frozen=True)
class Usage:
    seats: int
    calls: int
    notifications: int


@dataclass(frozen=True)
class Line:
    kind: str
    quantity: Decimal
    unit_price: Money
    amount: Money


def billed_days(year: int, month: int, starts_on: dt.date,
                ends_on: dt.date | None = None) -> tuple[int, int]:
    """(days of the month the subscription covers, days in the month)."""
    days = calendar.monthrange(year, month)[1]
    first, last = dt.date(year, month, 1), dt.date(year, month, days)
    start = max(first, starts_on)
    end = min(last, ends_on) if ends_on else last
    return max((end - start).days + 1, 0), days


def lines_for(*, base_fee: Money, seat_price: Money, call_price: Money,
              notification_price: Money, usage: Usage, active_days: int,
              month_days: int) -> list[Line]:
    """The base fee and seats are pro rata for a month the Pemda was live only part
    of (its launch month); calls and notifications are what happened."""
    share = Decimal(active_days) / Decimal(month_days)
    seats = Decimal(usage.seats) * share
    return [
        Line("base", share, base_fee, round_rupiah(base_fee * share)),
        Line("seats", seats, seat_price, round_rupiah(seat_price * seats)),
        Line("calls", Decimal(usage.calls), call_price,
             round_rupiah(call_price * usage.calls)),
        Line("notifications", Decimal(usage.notifications), notification_price,
             round_rupiah(notification_price * usage.notifications)),
    ]


def total_of(lines: list[Line]) -> Money:
    total = Money(0, IDR)
    for line in lines:
        total += line.amount
    return total
