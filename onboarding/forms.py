"""Input forms for the Pemda page. Field checks come from onboarding.validators
(the services run the same checks), so bad input is refused on the field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import IsoDateInput
from onboarding.models import NetworkScheme, Operator, RegulationKind, TrialResult, VisitResult
from onboarding.validators import (
    validate_latitude,
    validate_letter,
    validate_longitude,
    validate_not_future,
)

# ISO on the wire in every language: see core.widgets.
DATE = IsoDateInput()


class BootstrapForm(forms.Form):
    """Adds Bootstrap classes to every widget (and is-invalid where there are errors)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            if self.is_bound and name in self.errors:
                css += " is-invalid"
            widget.attrs["class"] = css


class AdvanceForm(BootstrapForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class SendBackForm(BootstrapForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(BootstrapForm):
    note = forms.CharField(
        label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ApplicationForm(BootstrapForm):
    letter = forms.FileField(
        label=_("Bupati/Walikota letter (PDF, max 10 MB)"),
        required=False,
        validators=[validate_letter],
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )
    letter_number = forms.CharField(label=_("Letter number"), max_length=100)
    letter_date = forms.DateField(
        label=_("Letter date"), widget=DATE, validators=[validate_not_future]
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=120)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30)
    contact_email = forms.EmailField(label=_("Contact email"))
    network_scheme = forms.ChoiceField(label=_("Network scheme"), choices=NetworkScheme.choices)
    address = forms.CharField(label=_("Planned call-center address"), max_length=255)
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=8, decimal_places=5, validators=[validate_latitude]
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=8, decimal_places=5, validators=[validate_longitude]
    )


class VisitForm(BootstrapForm):
    visited_on = forms.DateField(
        label=_("Visit date"), widget=DATE, validators=[validate_not_future]
    )
    verifier = forms.CharField(label=_("Verifier"), max_length=120)
    room_ready = forms.BooleanField(label=_("Room"), required=False)
    hardware_ready = forms.BooleanField(label=_("Hardware"), required=False)
    network_ready = forms.BooleanField(label=_("Network"), required=False)
    backup_power_ready = forms.BooleanField(label=_("Backup power"), required=False)
    supervisors = forms.IntegerField(label=_("Supervisors"), min_value=0, max_value=999)
    agents = forms.IntegerField(label=_("Agents"), min_value=0, max_value=999)
    opd_teams = forms.IntegerField(label=_("OPD handling teams"), min_value=0, max_value=999)
    system_ready = forms.BooleanField(label=_("System ready"), required=False)
    draft_regulation = forms.BooleanField(label=_("Draft Perbup/Perwali"), required=False)
    sop_ready = forms.BooleanField(label=_("SOP"), required=False)
    result = forms.ChoiceField(label=_("Result"), choices=VisitResult.choices)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("result") == VisitResult.REWORK and not (data.get("notes") or "").strip():
            self.add_error("notes", _("Say what must be reworked."))
        return data


class RoutingForm(BootstrapForm):
    operator = forms.ChoiceField(label=_("Operator"), choices=Operator.choices)
    letter_date = forms.DateField(
        label=_("Ministry letter date"),
        widget=DATE,
        required=False,
        validators=[validate_not_future],
    )
    routing_opened_on = forms.DateField(
        label=_("112 routing opened"), widget=DATE, required=False, validators=[validate_not_future]
    )


class InstallationForm(BootstrapForm):
    installed_on = forms.DateField(
        label=_("Installation date"), widget=DATE, validators=[validate_not_future]
    )


class TrainingForm(BootstrapForm):
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    place = forms.CharField(label=_("Place"), max_length=200)
    facilitator = forms.CharField(label=_("Facilitator"), max_length=120)
    participating_opd = forms.CharField(
        label=_("Participating OPD (one per line)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    operators_trained = forms.IntegerField(
        label=_("Operators trained"), min_value=0, max_value=9999
    )


class TrialCallForm(BootstrapForm):
    called_on = forms.DateField(label=_("Date"), widget=DATE, validators=[validate_not_future])
    operator = forms.ChoiceField(label=_("Operator"), choices=Operator.choices)
    scenario = forms.CharField(label=_("Scenario"), max_length=200)
    result = forms.ChoiceField(label=_("Result"), choices=TrialResult.choices)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LaunchForm(BootstrapForm):
    launched_on = forms.DateField(label=_("Launch date"), widget=DATE)
    launched_by = forms.CharField(label=_("Launched by"), max_length=160)
    press_link = forms.URLField(label=_("Press link"), required=False, assume_scheme="https")


class RegulationForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=RegulationKind.choices)
    number = forms.CharField(label=_("Number"), max_length=100)
    enacted_on = forms.DateField(
        label=_("Enacted on"), widget=DATE, validators=[validate_not_future]
    )
