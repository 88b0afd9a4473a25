"""Every onboarding write. Keyword-only, atomic, and each writes its timeline
row in the same transaction. Permission is checked by the caller through
onboarding.policies (views, GraphQL); these functions check the domain rules."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.invitations import invitation_create
from accounts.models import AdminInvitation, User
from audit.services import Target, record, snapshot
from core.errors import Conflict, DomainError, Invalid
from onboarding import selectors
from onboarding.models import (
    STAGE_ORDER,
    Application,
    Launch,
    OperatorRouting,
    PemdaOnboarding,
    Regulation,
    Stage,
    TimelineEntry,
    TimelineKind,
    TrainingSession,
    TrialCall,
    VerificationVisit,
)
from onboarding.validators import (
    validate_latitude,
    validate_letter,
    validate_longitude,
    validate_not_future,
)
from tenants.models import Region, Tenant
from tenants.services import tenant_set_status

logger = logging.getLogger(__name__)

TENANT_STATUS_FOR_STAGE = {
    Stage.INSTALLATION: Tenant.Status.INSTALLED,
    Stage.TRAINING: Tenant.Status.TRAINING,
    Stage.TRIAL: Tenant.Status.TRIAL,
    Stage.LAUNCHED: Tenant.Status.LIVE,
}


class OnboardingError(DomainError):
    """A domain rule refused the change; `message` is for the person (400)."""

    code = "onboarding"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class MissingEvidence(OnboardingError, Invalid):
    code = "missing_evidence"

    def __init__(self, stage: str, missing: list[str]) -> None:
        self.stage = stage
        self.missing = missing
        super().__init__(
            _("Cannot leave %(stage)s yet. Still missing: %(missing)s.")
            % {"stage": Stage(stage).label, "missing": "; ".join(missing)}
        )


class VersionConflict(OnboardingError, Conflict):
    code = "version_conflict"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed this Pemda's stage a moment ago. Nothing was changed: "
                "reload the page to see the current stage, then try again."
            )
        )


class StageError(OnboardingError, Invalid):
    code = "stage"


def _timeline(
    *,
    onboarding: PemdaOnboarding,
    actor: User | None,
    kind: str,
    note: str = "",
    from_stage: str = "",
    to_stage: str = "",
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        onboarding=onboarding,
        actor=actor,
        kind=kind,
        note=note,
        from_stage=from_stage,
        to_stage=to_stage,
        at=timezone.now(),
    )


def _load(region_code: str) -> PemdaOnboarding:
    return PemdaOnboarding.objects.select_related("region").get(pk=region_code)


def _move(
    *, onboarding: PemdaOnboarding, to_stage: str, expected_version: int, **fields: Any
) -> None:
    """Compare-and-set on version: of two concurrent movers only one row update wins."""
    updated = PemdaOnboarding.objects.filter(pk=onboarding.pk, version=expected_version).update(
        stage=to_stage,
        stage_entered_at=timezone.now(),
        version=F("version") + 1,
        updated_at=timezone.now(),
        **fields,
    )
    if updated != 1:
        raise VersionConflict()


def _tenant_status_follow(region_id: str, stage: str, actor: User | None) -> None:
    status = TENANT_STATUS_FOR_STAGE.get(Stage(stage))
    if status is not None:
        tenant_set_status(region_id=region_id, status=status, actor=actor)


def _audit_target(onboarding: PemdaOnboarding) -> Target:
    # The region's name, not str(onboarding): that names the stage, which changes.
    return Target("pemdaonboarding", onboarding.region_id, onboarding.region.name)


# Evidence rows are audited without their back-reference and bookkeeping columns.
_NOT_AUDITED = frozenset({"onboarding", "created_at", "updated_at"})


def _evidence_image(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in snapshot(obj).items() if k not in _NOT_AUDITED}


def _audit_evidence(
    *, onboarding: PemdaOnboarding, actor: User | None, obj: Any, before: dict[str, Any]
) -> None:
    obj.refresh_from_db()  # the stored values, not the strings a form passed in
    record(
        actor=actor,
        action="onboarding.evidence_saved",
        target=Target(obj._meta.model_name, str(obj.pk), onboarding.region.name),
        before=before,
        after=_evidence_image(obj),
    )


@dataclass(frozen=True)
class AdvanceResult:
    onboarding: PemdaOnboarding
    from_stage: str
    to_stage: str
    invitation_url: str | None = None


@transaction.atomic
def onboarding_advance(
    *, region_code: str, actor: User | None, expected_version: int, note: str = ""
) -> AdvanceResult:
    """Move a Pemda to the next stage once the current stage's evidence is complete."""
    onboarding = _load(region_code)
    if onboarding.version != expected_version:
        raise VersionConflict()
    current = onboarding.stage
    if current == Stage.LAUNCHED:
        raise StageError(_("This Pemda is already launched; there is no next stage."))
    missing = selectors.missing_evidence(onboarding)
    if missing:
        raise MissingEvidence(current, missing)
    target = STAGE_ORDER[STAGE_ORDER.index(current) + 1]
    fields: dict[str, Any] = {}
    if target == Stage.LAUNCHED:
        fields["launched_on"] = Launch.objects.get(onboarding=onboarding).launched_on
    _move(onboarding=onboarding, to_stage=target, expected_version=expected_version, **fields)
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.ADVANCE,
        from_stage=current,
        to_stage=target,
        note=note.strip(),
    )
    record(
        actor=actor,
        action="onboarding.stage_advanced",
        target=_audit_target(onboarding),
        before={"stage": current},
        after={"stage": target},
    )
    invitation_url = None
    if target == Stage.INSTALLATION:
        invitation_url = _installation_start(onboarding=onboarding, actor=actor)
    _tenant_status_follow(onboarding.region_id, target, actor)
    onboarding.refresh_from_db()
    logger.info(
        "onboarding.advanced",
        extra={"region": region_code, "from": current, "to": target, "version": onboarding.version},
    )
    return AdvanceResult(onboarding, current, target, invitation_url)


def _installation_start(*, onboarding: PemdaOnboarding, actor: User | None) -> str | None:
    """Provision the tenant (after commit, by the worker; idempotent) and invite
    the first Pemda admin. Returns the one-time link (shown once, also emailed),
    or None when a first admin already accepted an earlier invitation (a Pemda
    sent back and advanced again keeps its admin)."""
    from tenants.tasks import tenant_provision_task

    tenant_provision_task.delay_on_commit(onboarding.region_id, onboarding.is_demo)
    if AdminInvitation.objects.filter(
        region_id=onboarding.region_id, used_at__isnull=False
    ).exists():
        _timeline(
            onboarding=onboarding,
            actor=actor,
            kind=TimelineKind.EVIDENCE,
            note=_("Tenant provisioning started."),
        )
        return None
    application = selectors.application_of(onboarding)
    email = application.contact_email if application else ""
    created = invitation_create(region=onboarding.region, email=email, actor=actor)
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.EVIDENCE,
        note=_("Tenant provisioning started; one-time Pemda-admin invitation sent."),
    )
    return created.url


@transaction.atomic
def onboarding_send_back(
    *, region_code: str, actor: User | None, expected_version: int, reason: str
) -> PemdaOnboarding:
    """Return a Pemda to the previous stage for rework. A reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise OnboardingError(_("Give a reason: the Pemda needs to know what to rework."))
    onboarding = _load(region_code)
    if onboarding.version != expected_version:
        raise VersionConflict()
    current = onboarding.stage
    if current == Stage.NOT_STARTED:
        raise StageError(_("This Pemda has not started; there is no earlier stage."))
    target = STAGE_ORDER[STAGE_ORDER.index(current) - 1]
    fields: dict[str, Any] = {}
    if current == Stage.LAUNCHED:
        fields["launched_on"] = None
    _move(onboarding=onboarding, to_stage=target, expected_version=expected_version, **fields)
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.SEND_BACK,
        from_stage=current,
        to_stage=target,
        note=reason,
    )
    record(
        actor=actor,
        action="onboarding.sent_back",
        target=_audit_target(onboarding),
        before={"stage": current},
        after={"stage": target, "note": reason},
    )
    _tenant_status_follow(onboarding.region_id, target, actor)
    onboarding.refresh_from_db()
    logger.info(
        "onboarding.sent_back", extra={"region": region_code, "from": current, "to": target}
    )
    return onboarding


@transaction.atomic
def onboarding_comment(*, region_code: str, actor: User | None, note: str) -> TimelineEntry:
    note = (note or "").strip()
    if not note:
        raise OnboardingError(_("The comment is empty."))
    onboarding = _load(region_code)
    return _timeline(onboarding=onboarding, actor=actor, kind=TimelineKind.COMMENT, note=note)


# --- evidence -------------------------------------------------------------------


def _raise_if(errors: dict[str, list[str]]) -> None:
    if any(errors.values()):
        raise ValidationError({k: v for k, v in errors.items() if v})


def _check(errors: dict[str, list[str]], name: str, check: Any, value: Any) -> None:
    try:
        check(value)
    except ValidationError as exc:
        errors.setdefault(name, []).extend(exc.messages)


@transaction.atomic
def application_save(
    *,
    region_code: str,
    actor: User | None,
    letter: File | None = None,
    letter_number: str,
    letter_date: dt.date | None,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    network_scheme: str,
    address: str,
    latitude: Any,
    longitude: Any,
) -> Application:
    """Create or update the application. A new letter replaces the old one."""
    errors: dict[str, list[str]] = {}
    if letter is not None:
        _check(errors, "letter", validate_letter, letter)
    _check(errors, "latitude", validate_latitude, latitude)
    _check(errors, "longitude", validate_longitude, longitude)
    _raise_if(errors)
    onboarding = _load(region_code)
    app, _created = Application.objects.get_or_create(onboarding=onboarding)
    before = {} if _created else _evidence_image(app)
    app.letter_number = letter_number
    app.letter_date = letter_date
    app.contact_name = contact_name
    app.contact_phone = contact_phone
    app.contact_email = contact_email
    app.network_scheme = network_scheme
    app.address = address
    app.latitude = latitude
    app.longitude = longitude
    if letter is not None:
        app.letter.save(getattr(letter, "name", "letter.pdf") or "letter.pdf", letter, save=False)
    app.save()
    _audit_evidence(onboarding=onboarding, actor=actor, obj=app, before=before)
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.EVIDENCE,
        note=_("Application updated") + (" " + _("(new letter uploaded)") if letter else ""),
    )
    return app


@transaction.atomic
def verification_visit_record(
    *, region_code: str, actor: User | None, **data: Any
) -> VerificationVisit:
    errors: dict[str, list[str]] = {}
    _check(errors, "visited_on", validate_not_future, data.get("visited_on"))
    if data.get("result") == "rework" and not (data.get("notes") or "").strip():
        errors["notes"] = [_("Say what must be reworked.")]
    _raise_if(errors)
    onboarding = _load(region_code)
    visit = VerificationVisit.objects.create(onboarding=onboarding, **data)
    _audit_evidence(onboarding=onboarding, actor=actor, obj=visit, before={})
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.EVIDENCE,
        note=_("Verification visit on %(date)s: %(result)s")
        % {"date": visit.visited_on.isoformat(), "result": visit.get_result_display()},
    )
    return visit


@transaction.atomic
def operator_routing_save(
    *,
    region_code: str,
    actor: User | None,
    operator: str,
    letter_date: dt.date | None,
    routing_opened_on: dt.date | None,
) -> OperatorRouting:
    if routing_opened_on is not None and (letter_date is None or routing_opened_on < letter_date):
        raise ValidationError(
            {"routing_opened_on": [_("Routing opens after the ministry's letter to the operator.")]}
        )
    onboarding = _load(region_code)
    existing = OperatorRouting.objects.filter(onboarding=onboarding, operator=operator).first()
    before = _evidence_image(existing) if existing is not None else {}
    routing, _created = OperatorRouting.objects.update_or_create(
        onboarding=onboarding,
        operator=operator,
        defaults={"letter_date": letter_date, "routing_opened_on": routing_opened_on},
    )
    _audit_evidence(onboarding=onboarding, actor=actor, obj=routing, before=before)
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.EVIDENCE,
        note=_("Operator routing %(operator)s: letter %(letter)s, opened %(opened)s")
        % {
            "operator": routing.get_operator_display(),
            "letter": letter_date.isoformat() if letter_date else "—",
            "opened": routing_opened_on.isoformat() if routing_opened_on else "—",
        },
    )
    return routing


@transaction.atomic
def installation_record(
    *, region_code: str, actor: User | None, installed_on: dt.date
) -> PemdaOnboarding:
    errors: dict[str, list[str]] = {}
    _check(errors, "installed_on", validate_not_future, installed_on)
    _raise_if(errors)
    onboarding = _load(region_code)
    PemdaOnboarding.objects.filter(pk=onboarding.pk).update(installed_on=installed_on)
    record(
        actor=actor,
        action="onboarding.evidence_saved",
        target=_audit_target(onboarding),
        before={"installed_on": onboarding.installed_on},
        after={"installed_on": installed_on},
    )
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.EVIDENCE,
        note=_("Installed on %(date)s") % {"date": installed_on.isoformat()},
    )
    onboarding.refresh_from_db()
    return onboarding


@transaction.atomic
def training_session_add(*, region_code: str, actor: User | None, **data: Any) -> TrainingSession:
    onboarding = _load(region_code)
    session = TrainingSession.objects.create(onboarding=onboarding, **data)
    _audit_evidence(onboarding=onboarding, actor=actor, obj=session, before={})
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.EVIDENCE,
        note=_("FGD/Bimtek on %(date)s at %(place)s: %(opd)s OPD, %(ops)s operators trained")
        % {
            "date": session.held_on.isoformat(),
            "place": session.place,
            "opd": len(session.opd_list),
            "ops": session.operators_trained,
        },
    )
    return session


@transaction.atomic
def trial_call_add(*, region_code: str, actor: User | None, **data: Any) -> TrialCall:
    onboarding = _load(region_code)
    call = TrialCall.objects.create(onboarding=onboarding, **data)
    _audit_evidence(onboarding=onboarding, actor=actor, obj=call, before={})
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.EVIDENCE,
        note=_("Test call on %(date)s via %(operator)s: %(result)s")
        % {
            "date": call.called_on.isoformat(),
            "operator": call.get_operator_display(),
            "result": call.get_result_display(),
        },
    )
    return call


@transaction.atomic
def launch_save(
    *,
    region_code: str,
    actor: User | None,
    launched_on: dt.date,
    launched_by: str,
    press_link: str = "",
) -> Launch:
    onboarding = _load(region_code)
    started = selectors.trial_started_at(onboarding)
    if started is None:
        raise ValidationError({"launched_on": [_("The trial has not started yet.")]})
    started_on = timezone.localdate(started)
    if launched_on < started_on:
        raise ValidationError(
            {
                "launched_on": [
                    _("The launch date cannot be before the trial started (%(date)s).")
                    % {"date": started_on.isoformat()}
                ]
            }
        )
    existing = Launch.objects.filter(onboarding=onboarding).first()
    before = _evidence_image(existing) if existing is not None else {}
    launch, _created = Launch.objects.update_or_create(
        onboarding=onboarding,
        defaults={"launched_on": launched_on, "launched_by": launched_by, "press_link": press_link},
    )
    _audit_evidence(onboarding=onboarding, actor=actor, obj=launch, before=before)
    if onboarding.stage == Stage.LAUNCHED:
        # A corrected date moves the ordinal with it.
        PemdaOnboarding.objects.filter(pk=onboarding.pk).update(launched_on=launched_on)
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.EVIDENCE,
        note=_("Launch details: %(date)s by %(who)s")
        % {"date": launched_on.isoformat(), "who": launched_by},
    )
    return launch


@transaction.atomic
def regulation_save(
    *,
    region_code: str,
    actor: User | None,
    kind: str,
    number: str,
    enacted_on: dt.date,
) -> Regulation:
    errors: dict[str, list[str]] = {}
    _check(errors, "enacted_on", validate_not_future, enacted_on)
    _raise_if(errors)
    onboarding = _load(region_code)
    existing = Regulation.objects.filter(onboarding=onboarding).first()
    before = _evidence_image(existing) if existing is not None else {}
    regulation, _created = Regulation.objects.update_or_create(
        onboarding=onboarding,
        defaults={"kind": kind, "number": number, "enacted_on": enacted_on},
    )
    _audit_evidence(onboarding=onboarding, actor=actor, obj=regulation, before=before)
    _timeline(
        onboarding=onboarding,
        actor=actor,
        kind=TimelineKind.EVIDENCE,
        note=_("%(kind)s No. %(number)s enacted on %(date)s")
        % {"kind": regulation.get_kind_display(), "number": number, "date": enacted_on.isoformat()},
    )
    return regulation


def region_for(region_code: str) -> Region | None:
    return Region.objects.filter(pk=region_code, kind=Region.Kind.REGENCY).first()


# --- weekly digest -------------------------------------------------------------------


@dataclass(frozen=True)
class DigestResult:
    recipients: int
    stalled: int
    submissions: int


def _where(region: Region) -> str:
    return f"{region.name} ({region.parent.name if region.parent else ''})"


def weekly_digest_send(*, now: dt.datetime | None = None) -> DigestResult:
    """Email every active national officer the Pemda stalled past the limit and
    the applications submitted in the last DIGEST_DAYS days."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import translation

    from accounts.models import Role

    now = now or timezone.now()
    days = int(str(settings.ONBOARDING.get("DIGEST_DAYS", 7)))
    since = now - dt.timedelta(days=days)
    stalled = list(selectors.stalled())
    submissions = list(selectors.new_submissions(since=since))
    recipients = list(
        User.objects.filter(role=Role.NATIONAL_OFFICER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if recipients:
        with translation.override(settings.LANGUAGE_CODE):
            limit = selectors.stalled_after_days()
            subject = _(
                "Siaga112 weekly onboarding digest: %(stalled)s stalled, %(new)s new applications"
            ) % {"stalled": len(stalled), "new": len(submissions)}
            lines = [_("New applications in the last %(days)s days:") % {"days": days}]
            lines += [
                f"  - {_where(e.onboarding.region)}, {timezone.localdate(e.at).isoformat()}"
                for e in submissions
            ] or ["  " + _("none")]
            lines += ["", _("Pemda stalled more than %(days)s days in a stage:") % {"days": limit}]
            lines += [
                f"  - {ob.region.name} ({ob.region.parent.name if ob.region.parent else ''}): "
                f"{Stage(ob.stage).label}, "
                + _("%(days)s days")
                % {"days": (now - ob.stage_entered_at).days if ob.stage_entered_at else 0}
                for ob in stalled
            ] or ["  " + _("none")]
            send_mail(subject, "\n".join(lines), None, recipients, fail_silently=False)
    logger.info(
        "onboarding.digest_sent",
        extra={
            "recipients": len(recipients),
            "stalled": len(stalled),
            "submissions": len(submissions),
        },
    )
    return DigestResult(len(recipients), len(stalled), len(submissions))
