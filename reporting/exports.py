"""CSV and XLSX of a Pemda's KPIs for a period: the same figures as the dashboard
(reporting.kpis), as tables a spreadsheet can filter and chart."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from reporting.kpis import TenantKpis

TABLES = ("daily", "opd", "category")


def has_rows(figures: TenantKpis) -> bool:
    return bool(figures.calls["calls"] or figures.incidents_total or figures.by_agency)


def _type_label(call_type: str) -> str:
    from incidents.models import CallType

    if call_type == "unclassified":
        return _("Unclassified")
    try:
        return str(CallType(call_type).label)
    except ValueError:
        return call_type


def table(figures: TenantKpis, name: str) -> tuple[str, list[str], list[list[Any]]]:
    """(sheet title, header, rows) of one table."""
    if name == "daily":
        header = [_("Date"), _("Calls"), *(_type_label(t) for t in figures.call_types),
                  _("Incidents"), _("Incidents closed")]
        incidents = {r["day"]: r for r in figures.incidents_per_day}
        rows = [
            [r["day"], r["total"], *(r[t] for t in figures.call_types),
             incidents[r["day"]]["count"], incidents[r["day"]]["closed"]]
            for r in figures.calls_per_day
        ]
        return _("Daily"), header, rows
    if name not in ("opd", "category"):
        raise ValueError(name)
    source = figures.by_agency if name == "opd" else figures.by_category_response
    header = [
        _("OPD") if name == "opd" else _("Category"), _("Dispatches"),
        _("Acknowledgement median (s)"), _("Acknowledgement p90 (s)"),
        _("Acknowledged within target (%)"), _("Arrival median (s)"), _("Arrival p90 (s)"),
        _("Arrived within target (%)"), _("Resolution median (s)"), _("Resolution p90 (s)"),
    ]
    rows = [
        [r["name"], r["dispatches"], r["ack_p50"], r["ack_p90"], r["ack_share"],
         r["arrive_p50"], r["arrive_p90"], r["arrive_share"], r["resolve_p50"],
         r["resolve_p90"]]
        for r in source
    ]
    return (_("Per OPD") if name == "opd" else _("Per category")), header, rows


def filename(slug: str, figures: TenantKpis, ext: str) -> str:
    return f"kpi-{slug}-{figures.period.slug}.{ext}"


def to_csv(figures: TenantKpis, name: str) -> bytes:
    _title, header, rows = table(figures, name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if hasattr(v, "isoformat") else v
                         for v in row])
    # A BOM so Excel opens the UTF-8 file with the right characters.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(figures: TenantKpis) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for name in TABLES:
        title, header, rows = table(figures, name)
        sheet = book.create_sheet(title[:31])
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = bold
        for col, head in enumerate(header, start=1):
            values = [head, *(r[col - 1] for r in rows)]
            width = max(len(str(v)) for v in values if v is not None)
            sheet.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 10), 48)
            if name == "daily" and col == 1:
                for cell in sheet[get_column_letter(col)][1:]:
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    book.properties.title = f"KPI {figures.period.start:%Y-%m-%d} – {figures.period.end:%Y-%m-%d}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
