"""Where each of the 514 kabupaten/kota stands on the road to a live 112 center."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class StageTransition(models.Model):
    """Append-only timeline of stage changes."""

    onboarding = models.ForeignKey(
        PemdaOnboarding, on_delete=models.CASCADE, related_name="transitions"
    )
    from_stage = models.CharField(max_length=16, choices=Stage.choices)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.onboarding_id}: {self.from_stage} → {self.to_stage}"
