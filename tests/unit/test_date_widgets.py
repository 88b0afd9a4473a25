"""Date inputs carry ISO values in every language: a browser's `<input type="date">`
rejects `17-03-2026` (Indonesian's first input format) and shows the field empty."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect

import pytest
from django import forms
from django.utils import translation

from core.widgets import IsoDateInput, IsoDateTimeInput

# Every module of the project that defines forms.
FORM_MODULES = ["onboarding.forms", "incidents.forms"]


def _project_forms() -> list[type[forms.BaseForm]]:
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, forms.BaseForm) and obj.__module__ == module.__name__:
                found.append(obj)
    return found


def test_the_form_modules_are_found():
    names = {f.__name__ for f in _project_forms()}
    assert {"ApplicationForm", "InstallationForm", "RegulationForm", "RoutingForm"} <= names


@pytest.mark.parametrize("form_class", _project_forms(), ids=lambda c: c.__name__)
def test_every_date_widget_in_the_project_writes_iso(form_class):
    for name, field in form_class.base_fields.items():
        widget = field.widget
        if isinstance(widget, forms.DateTimeInput) or (
            isinstance(widget, forms.DateInput) and widget.input_type != "text"
        ):
            assert isinstance(widget, IsoDateInput | IsoDateTimeInput), (
                f"{form_class.__name__}.{name}: use core.widgets for browser date inputs"
            )


@pytest.mark.parametrize("lang", ["id", "en"])
def test_date_value_is_iso_in_both_languages(lang):
    from onboarding.forms import ApplicationForm, InstallationForm

    with translation.override(lang):
        html = str(InstallationForm(initial={"installed_on": dt.date(2026, 3, 17)}))
        assert 'type="date"' in html and 'value="2026-03-17"' in html
        html = str(ApplicationForm(initial={"letter_date": dt.date(2026, 3, 17)}))
        assert 'value="2026-03-17"' in html and "17-03-2026" not in html


def test_plain_django_date_input_would_be_wrong_in_indonesian():
    """The cause, kept visible: if Django ever stops localising, this may go."""
    with translation.override("id"):
        plain = forms.DateInput(attrs={"type": "date"}).render("d", dt.date(2026, 3, 17))
    assert 'value="17-03-2026"' in plain


@pytest.mark.parametrize("lang", ["id", "en"])
def test_iso_values_parse_back_in_both_languages(lang):
    from onboarding.forms import InstallationForm

    with translation.override(lang):
        form = InstallationForm(data={"installed_on": "2025-03-17"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["installed_on"] == dt.date(2025, 3, 17)


def test_datetime_local_value_is_iso():
    with translation.override("id"):
        html = IsoDateTimeInput().render("t", dt.datetime(2026, 3, 17, 21, 5))
    assert 'type="datetime-local"' in html and 'value="2026-03-17T21:05"' in html
