"""Field checks shared by the forms (views) and the services, so bad input is
refused with a message a person can act on before anything is written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.utils import timezone
from django.utils.translation import gettext as _

from core.rules import INDONESIA_LAT, INDONESIA_LNG

MAX_LETTER_BYTES = 10 * 1024 * 1024
# Compared as Decimal: the coordinates are DecimalFields, and 6.3 as a float is not 6.3.
LAT_RANGE = (Decimal(str(INDONESIA_LAT[0])), Decimal(str(INDONESIA_LAT[1])))
LNG_RANGE = (Decimal(str(INDONESIA_LNG[0])), Decimal(str(INDONESIA_LNG[1])))


def validate_letter(upload: File) -> None:
    """A PDF (checked by its first bytes, not its name) of at most 10 MB."""
    if upload.size is not None and upload.size > MAX_LETTER_BYTES:
        raise ValidationError(
            _("The letter is %(size)s MB; the limit is 10 MB."),
            code="too_large",
            params={"size": f"{upload.size / 1024 / 1024:.1f}"},
        )
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head != b"%PDF-":
        raise ValidationError(
            _("The letter must be a PDF file (scan or export the signed letter as PDF)."),
            code="not_pdf",
        )


def validate_latitude(value: Decimal | float | None) -> None:
    if value is not None and not (LAT_RANGE[0] <= Decimal(str(value)) <= LAT_RANGE[1]):
        raise ValidationError(
            _("Latitude %(value)s is outside Indonesia (between -11.2 and 6.3)."),
            code="outside_indonesia",
            params={"value": value},
        )


def validate_longitude(value: Decimal | float | None) -> None:
    if value is not None and not (LNG_RANGE[0] <= Decimal(str(value)) <= LNG_RANGE[1]):
        raise ValidationError(
            _("Longitude %(value)s is outside Indonesia (between 94.7 and 141.2)."),
            code="outside_indonesia",
            params={"value": value},
        )


def validate_not_future(value: dt.date | None) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(
            _("%(date)s is in the future: record it once it has happened."),
            code="future",
            params={"date": value.isoformat()},
        )
