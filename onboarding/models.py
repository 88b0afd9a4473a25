"""Where each of the 514 kabupaten/kota stands on the road to a live 112 center,
the evidence each stage needs, and the append-only timeline of everything done."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.rules import INDONESIA_LAT, INDONESIA_LNG


class Stage(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    APPLICATION = "application", _("Application")
    VERIFICATION = "verification", _("Verification")
    INSTALLATION = "installation", _("Installation")
    TRAINING = "training", _("FGD/Bimtek")
    TRIAL = "trial", _("Trial")
    LAUNCHED = "launched", _("Launched")


STAGE_ORDER = [s.value for s in Stage]


def stage_index(stage: str) -> int:
    return STAGE_ORDER.index(stage)


class PemdaOnboarding(models.Model):
    region = models.OneToOneField(
        "tenants.Region", on_delete=models.PROTECT, related_name="onboarding", primary_key=True
    )
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NOT_STARTED)
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    launched_on = models.DateField(null=True, blank=True)
    # Installation evidence: the day the 112 application was installed on site.
    installed_on = models.DateField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)
    # Optimistic concurrency: a transition names the version it saw.
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["stage"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(stage="launched") | models.Q(launched_on__isnull=False),
                name="onboarding_launched_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region} — {self.get_stage_display()}"


class TimelineKind(models.TextChoices):
    ADVANCE = "advance", _("Advanced")
    SEND_BACK = "send_back", _("Sent back")
    EVIDENCE = "evidence", _("Evidence updated")
    COMMENT = "comment", _("Comment")


class AppendOnlyError(RuntimeError):
    pass


class StageTransition(models.Model):
    """The append-only timeline of one Pemda: every stage transition, every
    evidence edit and every comment (who, when, kind, from, to, note).

    Named for its first use; `TimelineEntry` is the name the code uses."""

    onboarding = models.ForeignKey(
        PemdaOnboarding, on_delete=models.CASCADE, related_name="transitions"
    )
    kind = models.CharField(
        max_length=12, choices=TimelineKind.choices, default=TimelineKind.ADVANCE
    )
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["onboarding", "at"]), models.Index(fields=["kind", "at"])]

    def __str__(self) -> str:
        return f"{self.onboarding_id}: {self.kind} {self.from_stage} → {self.to_stage}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("timeline entries are never edited")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("timeline entries are never deleted")


TimelineEntry = StageTransition


class NetworkScheme(models.TextChoices):
    SIP_TRUNK = "sip_trunk", _("SIP trunk")
    IP_PBX = "ip_pbx", _("IP-PBX")


def letter_upload_to(instance: Application, filename: str) -> str:
    return f"onboarding/letters/{instance.onboarding_id}/{filename}"


class Application(models.Model):
    """Stage 1: the Bupati/Walikota's written request to the ministry."""

    onboarding = models.OneToOneField(
        PemdaOnboarding, on_delete=models.CASCADE, related_name="application", primary_key=True
    )
    letter = models.FileField(upload_to=letter_upload_to, blank=True)
    letter_number = models.CharField(max_length=100, blank=True)
    letter_date = models.DateField(null=True, blank=True)
    # Personal data (UU 27/2022): shown to those who may read the Pemda, never logged.
    contact_name = models.CharField(max_length=120, blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    contact_email = models.EmailField(blank=True)
    network_scheme = models.CharField(max_length=10, choices=NetworkScheme.choices, blank=True)
    address = models.CharField(max_length=255, blank=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=INDONESIA_LAT[0], latitude__lte=INDONESIA_LAT[1]),
                name="application_latitude_in_indonesia",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=INDONESIA_LNG[0], longitude__lte=INDONESIA_LNG[1]),
                name="application_longitude_in_indonesia",
            ),
        ]

    def __str__(self) -> str:
        return f"Application {self.onboarding_id}"


class VisitResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    REWORK = "rework", _("Rework needed")


class VerificationVisit(models.Model):
    """Stage 2: the verifier's field visit and checklist. The latest visit counts."""

    onboarding = models.ForeignKey(PemdaOnboarding, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField()
    verifier = models.CharField(max_length=120)
    # facilities
    room_ready = models.BooleanField(default=False)
    hardware_ready = models.BooleanField(default=False)
    network_ready = models.BooleanField(default=False)
    backup_power_ready = models.BooleanField(default=False)
    # personnel
    supervisors = models.PositiveSmallIntegerField(default=0)
    agents = models.PositiveSmallIntegerField(default=0)
    opd_teams = models.PositiveSmallIntegerField(default=0)
    # system and rules
    system_ready = models.BooleanField(default=False)
    draft_regulation = models.BooleanField(default=False)
    sop_ready = models.BooleanField(default=False)
    result = models.CharField(max_length=8, choices=VisitResult.choices)
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(result="rework") | ~models.Q(notes=""),
                name="visit_rework_has_notes",
            )
        ]

    def __str__(self) -> str:
        return f"Visit {self.onboarding_id} {self.visited_on}"


class Operator(models.TextChoices):
    TELKOMSEL = "telkomsel", "Telkomsel"
    INDOSAT = "indosat", "Indosat Ooredoo Hutchison"
    XL = "xl", "XL/XLSmart"
    SMARTFREN = "smartfren", "Smartfren"
    TELKOM = "telkom", "Telkom"


class OperatorRouting(models.Model):
    """The ministry's letter to one operator and the day 112 routing opened."""

    onboarding = models.ForeignKey(
        PemdaOnboarding, on_delete=models.CASCADE, related_name="routings"
    )
    operator = models.CharField(max_length=12, choices=Operator.choices)
    letter_date = models.DateField(null=True, blank=True)
    routing_opened_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["operator"]
        constraints = [
            models.UniqueConstraint(fields=["onboarding", "operator"], name="routing_one_per_op"),
            models.CheckConstraint(
                condition=models.Q(routing_opened_on__isnull=True)
                | models.Q(letter_date__isnull=False),
                name="routing_opened_after_letter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.onboarding_id} {self.operator}"


class TrainingSession(models.Model):
    """Stage 4: an FGD or Bimtek session."""

    onboarding = models.ForeignKey(
        PemdaOnboarding, on_delete=models.CASCADE, related_name="training_sessions"
    )
    held_on = models.DateField()
    place = models.CharField(max_length=200)
    facilitator = models.CharField(max_length=120)
    participating_opd = models.TextField(help_text="One OPD per line")
    operators_trained = models.PositiveSmallIntegerField(default=0)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"Training {self.onboarding_id} {self.held_on}"

    @property
    def opd_list(self) -> list[str]:
        return [line.strip() for line in self.participating_opd.splitlines() if line.strip()]


class TrialResult(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILED = "failed", _("Failed")


class TrialCall(models.Model):
    """Stage 5: a test call (uji coba) and what happened."""

    onboarding = models.ForeignKey(
        PemdaOnboarding, on_delete=models.CASCADE, related_name="trial_calls"
    )
    called_on = models.DateField()
    operator = models.CharField(max_length=12, choices=Operator.choices)
    scenario = models.CharField(max_length=200)
    result = models.CharField(max_length=8, choices=TrialResult.choices)
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["called_on", "id"]

    def __str__(self) -> str:
        return f"Trial call {self.onboarding_id} {self.called_on}"


class Launch(models.Model):
    """Stage 6: the public launch. The ordinal is computed from launched_on."""

    onboarding = models.OneToOneField(
        PemdaOnboarding, on_delete=models.CASCADE, related_name="launch", primary_key=True
    )
    launched_on = models.DateField()
    launched_by = models.CharField(max_length=160)
    press_link = models.URLField(blank=True)

    def __str__(self) -> str:
        return f"Launch {self.onboarding_id} {self.launched_on}"


class RegulationKind(models.TextChoices):
    PERBUP = "perbup", _("Perbup (regent regulation)")
    PERWALI = "perwali", _("Perwali (mayor regulation)")


class Regulation(models.Model):
    """The Perbup/Perwali on the 112 service, once enacted."""

    onboarding = models.OneToOneField(
        PemdaOnboarding, on_delete=models.CASCADE, related_name="regulation", primary_key=True
    )
    kind = models.CharField(max_length=8, choices=RegulationKind.choices)
    number = models.CharField(max_length=100)
    enacted_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"
