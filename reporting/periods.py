"""Reporting periods: whole local days of one Pemda (or of WIB for the nation).

A period is asked for in dates the reader thinks in (the Pemda's own zone); the
queries need the UTC instants that bound it. Both live here so every figure of
one page is computed over exactly the same instants."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_PERIOD_DAYS = 731  # two years, a leap day included
ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day, inclusive
    end: dt.date  # last day, inclusive
    tz: str = "Asia/Jakarta"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.tz)

    @property
    def zone_label(self) -> str:
        return ZONE_LABELS.get(self.tz, self.tz)

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=self.zone)

    @property
    def until(self) -> dt.datetime:
        """Exclusive: local midnight after the last day."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def slug(self) -> str:
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    def day_list(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    @classmethod
    def month(cls, year: int, month: int, tz: str = "Asia/Jakarta") -> Period:
        first = dt.date(year, month, 1)
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        return cls(first, nxt - dt.timedelta(days=1), tz)

    @classmethod
    def last_days(cls, days: int, tz: str = "Asia/Jakarta", today: dt.date | None = None) -> Period:
        today = today or timezone.now().astimezone(zoneinfo.ZoneInfo(tz)).date()
        return cls(today - dt.timedelta(days=days - 1), today, tz)


def previous_month(today: dt.date) -> tuple[int, int]:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return first.year, first.month


class PeriodForm(forms.Form):
    """The period picker. Errors are sentences a supervisor can act on."""

    start = forms.DateField(
        label=_("From"),
        required=True,
        error_messages={
            "required": _("Choose the first day of the period."),
            "invalid": _("The first day is not a date (use YYYY-MM-DD)."),
        },
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To"),
        required=True,
        error_messages={
            "required": _("Choose the last day of the period."),
            "invalid": _("The last day is not a date (use YYYY-MM-DD)."),
        },
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, dt.date) and isinstance(end, dt.date):
            if end < start:
                raise forms.ValidationError(
                    _("The period ends before it starts: swap the two dates."), code="inverted"
                )
            if (end - start).days + 1 > MAX_PERIOD_DAYS:
                raise forms.ValidationError(
                    _("A period may be at most two years long."), code="too_long"
                )
        return data

    def period(self, tz: str) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"], tz)


def period_from_request(
    params: dict[str, str] | object, tz: str, default_days: int = 30
) -> tuple[Period | None, PeriodForm]:
    """(period, form): the default (last `default_days` days) when nothing was asked,
    None with the form's errors when what was asked is not a usable period."""
    get = getattr(params, "get", None)
    asked = get is not None and (get("start") is not None or get("end") is not None)
    if not asked:
        period = Period.last_days(default_days, tz)
        return period, PeriodForm(initial={"start": period.start, "end": period.end})
    form = PeriodForm(params)  # type: ignore[arg-type]
    if form.is_valid():
        return form.period(tz), form
    return None, form
