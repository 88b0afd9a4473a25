"""The 514 list as CSV and XLSX: exactly the rows and order the list shows, with
human labels in the reader's language (never `not_started` or `yes`), real dates
in the spreadsheet, and a file name that says which filter made it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from onboarding.models import Stage
from onboarding.selectors import PemdaFilter, PemdaRow

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"


def header() -> list[str]:
    return [
        _("Code"),
        _("Kabupaten/Kota"),
        _("Province"),
        _("Stage"),
        _("In this stage since"),
        _("Days in stage"),
        _("Stalled"),
        _("Launched"),
        _("Launch no."),
        _("Last updated"),
    ]


# Columns holding dates (0-based), for the spreadsheet's number format.
DATE_COLUMNS = (4, 7, 9)


def _local_date(value: dt.datetime | None) -> dt.date | None:
    # The day as the national console shows it (WIB), not the UTC day.
    return timezone.localtime(value).date() if value is not None else None


def _values(row: PemdaRow) -> list[Any]:
    return [
        row.code,
        row.name,
        row.province,
        row.stage_label,
        _local_date(row.stage_entered_at),
        row.days_in_stage,
        _("Yes") if row.is_stalled else _("No"),
        row.launched_on,
        row.ordinal,
        _local_date(row.updated_at),
    ]


def file_name(filters: PemdaFilter, province_name: str, extension: str) -> str:
    """siaga112-pemda-jawa-timur-diluncurkan-2026-11-29.xlsx: the filter in words,
    then the day it was taken."""
    parts = ["siaga112", "pemda"]
    if province_name:
        parts.append(slugify(province_name))
    if filters.stage:
        parts.append(slugify(str(Stage(filters.stage).label)))
    if filters.stalled:
        parts.append(slugify(_("stalled")))
    if filters.q:
        parts.append(slugify(filters.q)[:40] or "q")
    parts.append(timezone.localdate().isoformat())
    return "-".join(p for p in parts if p) + "." + extension


def as_csv(rows: Sequence[PemdaRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header())
    for row in rows:
        writer.writerow(
            [
                v.isoformat() if isinstance(v, dt.date) else ("" if v is None else v)
                for v in _values(row)
            ]
        )
    return buffer.getvalue()


def as_xlsx(rows: Sequence[PemdaRow]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Pemda"
    titles = header()
    sheet.append(titles)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(t) for t in titles]
    for row in rows:
        values = _values(row)
        sheet.append(values)
        for i, value in enumerate(values):
            text = value.isoformat() if isinstance(value, dt.date) else str(value or "")
            widths[i] = max(widths[i], len(text))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, 50)
    for column in DATE_COLUMNS:
        for (cell,) in sheet.iter_rows(
            min_row=2, min_col=column + 1, max_col=column + 1, max_row=sheet.max_row
        ):
            cell.number_format = DATE_FORMAT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(titles))}{max(sheet.max_row, 1)}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
