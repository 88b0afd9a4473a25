"""Form widgets whose value the browser can read in every language.

An `<input type="date">` only accepts `YYYY-MM-DD` (and `datetime-local` only
`YYYY-MM-DDTHH:MM`), whatever the page's language. Django's plain DateInput
writes the active locale's first input format instead: `17-03-2026` in
Indonesian, which the browser rejects, so the field shows empty and is saved
blank on the next submit. These widgets pin the wire format to ISO; the page
still shows the date the browser's way (its own localised picker).

Parsing needs nothing: Django accepts the ISO formats in every locale.
"""

from __future__ import annotations

from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class IsoDateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATE)


class IsoDateTimeInput(forms.DateTimeInput):
    """For `datetime-local`: the value is the wall time in the active time zone
    (the form field converts it back to an aware datetime on submit)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATETIME_LOCAL)
