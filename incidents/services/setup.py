"""The Pemda admin's configuration: categories and their targets, agencies,
routing, a responder's agency, and the center's settings. Staff and roles
themselves are accounts.services."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role, User
from audit.services import record, tracking
from incidents.errors import OperationError
from incidents.models import (
    RETENTION_DAYS_MAX,
    RETENTION_DAYS_MIN,
    Agency,
    AgencyMember,
    Category,
    IncidentSettings,
    RoutingRule,
)
from incidents.selectors import routing_codes
from incidents.services.common import agencies_chosen, lock_or_404, parse_float

logger = logging.getLogger(__name__)

# What the audit trail keeps of a category and of an agency (changed fields only).
CATEGORY_AUDITED = ("name", "priority", "ack_target_minutes", "arrive_target_minutes", "active")
AGENCY_AUDITED = (
    "code", "name", "kind", "email", "phone", "radio_channel", "webhook_url", "webhook_secret",
    "active",
)  # fmt: skip
# A duty phone as people write it: digits, spaces, "+", "-", parentheses ("(0627) 21112", "113").
_PHONE = re.compile(r"^\+?[0-9(][0-9 ()\-]{1,38}$")


@transaction.atomic
def category_update(
    *,
    category_id: int,
    actor: User,
    name: str,
    priority: Any,
    ack_target_minutes: Any,
    arrive_target_minutes: Any,
    active: bool,
) -> Category:
    category = lock_or_404(Category, category_id, "category")
    try:
        prio = int(priority)
        ack = int(ack_target_minutes)
        arrive = int(arrive_target_minutes)
    except (TypeError, ValueError):
        raise OperationError(
            "Priority and targets must be whole numbers.", field="priority"
        ) from None
    if prio not in (1, 2, 3, 4):
        raise OperationError("Priority is 1 (critical) to 4 (low).", field="priority")
    if not 1 <= ack <= 1440 or not 1 <= arrive <= 1440:
        raise OperationError("Targets are 1 to 1440 minutes.", field="ack_target_minutes")
    if arrive < ack:
        raise OperationError(
            _("The arrival target cannot be shorter than the acknowledge target."),
            field="arrive_target_minutes",
        )
    with tracking(actor=actor, action="category.updated", target=category, fields=CATEGORY_AUDITED):
        category.name = name.strip()[:120] or category.name
        category.priority = prio
        category.ack_target_minutes = ack
        category.arrive_target_minutes = arrive
        category.active = active
        category.save()
    logger.info("category.updated", extra={"category": category.code, "by": actor.pk})
    return category


@transaction.atomic
def agency_save(
    *,
    actor: User,
    agency_id: int | None,
    code: str,
    name: str,
    kind: str,
    email: str,
    webhook_url: str,
    webhook_secret: str | None,
    active: bool,
    phone: str | None = None,
    radio_channel: str | None = None,
) -> Agency:
    """phone and radio_channel: None keeps what the agency has."""
    # Locked: the audit row's "before" is the state this write replaced.
    agency = (
        Agency()
        if agency_id is None
        else Agency.objects.select_for_update().filter(pk=agency_id).first()
    )
    if agency is None:
        raise OperationError(_("No such agency."), status=404)
    if agency_id is None:
        code = code.strip().lower()
        if not code or not code.replace("_", "").replace("-", "").isalnum():
            raise OperationError("Code: letters, digits, '-' or '_'.", field="code")
        if Agency.objects.filter(code=code).exists():
            raise OperationError(f"An agency with code {code!r} exists.", field="code")
        agency.code = code
    if not name.strip():
        raise OperationError("Give the agency a name.", field="name")
    if kind not in Agency.Kind.values:
        raise OperationError("Unknown kind.", field="kind")
    try:
        if email.strip():
            validate_email(email.strip())
    except ValidationError:
        raise OperationError(f"{email!r} is not an email address.", field="email") from None
    try:
        if webhook_url.strip():
            URLValidator(schemes=["https", "http"])(webhook_url.strip())
    except ValidationError:
        raise OperationError("The webhook URL is not a valid URL.", field="webhook_url") from None
    if phone is not None and phone.strip() and not _PHONE.match(phone.strip()):
        raise OperationError(
            _("Phone: digits, spaces, '+', '-' and parentheses, e.g. (0627) 21112."),
            field="phone")
    if radio_channel is not None and len(radio_channel.strip()) > 60:
        raise OperationError(_("Radio channel: at most 60 characters."), field="radio_channel")
    # webhook_secret is in the image so a new secret shows as changed; audit
    # stores it masked, never its value.
    with tracking(actor=actor, action="agency.updated", created_action="agency.created",
                  target=agency, fields=AGENCY_AUDITED):
        agency.name = name.strip()[:160]
        agency.kind = kind
        agency.email = email.strip()
        if phone is not None:
            agency.phone = " ".join(phone.split())
        if radio_channel is not None:
            agency.radio_channel = " ".join(radio_channel.split())
        agency.webhook_url = webhook_url.strip()
        if webhook_secret is not None:
            agency.webhook_secret = webhook_secret
        elif agency.webhook_url and not agency.webhook_secret:
            agency.webhook_secret = secrets.token_urlsafe(32)
        agency.active = active
        agency.save()
    logger.info("agency.saved", extra={"agency": agency.code, "by": actor.pk})
    return agency


@transaction.atomic
def routing_rules_set(
    *,
    category_id: int,
    actor: User,
    agency_ids: list[Any] | None = None,
    agency_codes: list[str] | None = None,
) -> list[RoutingRule]:
    """The agencies a category's incidents are suggested to, in order; by id, or by
    code as the admin types them ("damkar, psc119")."""
    # Locked, so two admins' changes queue and each audit row's "before" is true.
    category = Category.objects.select_for_update().filter(pk=category_id).first()
    if category is None:
        raise OperationError(_("No such category."), status=404)
    if agency_codes:
        by_code = dict(Agency.objects.filter(code__in=agency_codes).values_list("code", "pk"))
        unknown = [c for c in agency_codes if c not in by_code]
        if unknown:
            raise OperationError(
                _("Unknown agency code: %(codes)s") % {"codes": ", ".join(unknown)},
                field="agency_codes",
            )
        agency_ids = [by_code[c] for c in agency_codes]
    agencies = agencies_chosen(agency_ids) if agency_ids else []
    before = routing_codes(category)
    RoutingRule.objects.filter(category=category).delete()
    rules = [
        RoutingRule.objects.create(category=category, agency=agency, order=i)
        for i, agency in enumerate(dict.fromkeys(agencies), start=1)
    ]
    record(actor=actor, action="routing.updated", target=category,
           before={"agencies": before}, after={"agencies": routing_codes(category)})
    logger.info("routing.updated", extra={"category": category.code, "by": actor.pk})
    return rules


def responder_agency_attach(user: User, role: str, agency_id: Any) -> None:
    """accounts.services.staff_save's hook (registered in IncidentsConfig.ready): an
    OPD responder belongs to exactly one active agency; other roles to none."""
    agency = None
    if role == Role.OPD_RESPONDER:
        (agency,) = agencies_chosen([agency_id]) if agency_id not in (None, "") else (None,)
        if agency is None:
            raise OperationError(_("An OPD responder belongs to one agency."), field="agency")
    if agency is not None:
        AgencyMember.objects.update_or_create(user=user, defaults={"agency": agency})
    else:
        AgencyMember.objects.filter(user=user).delete()


@transaction.atomic
def settings_update(*, actor: User, values: dict[str, Any]) -> IncidentSettings:
    IncidentSettings.load()  # the singleton exists from here on
    cfg = IncidentSettings.objects.select_for_update().get(pk=1)
    with tracking(actor=actor, action="settings.updated", target=cfg):
        _settings_apply(cfg, values)
    logger.info("incident_settings.updated", extra={"by": actor.pk})
    return cfg


TRUNK_LABELS_MAX = 50


def parse_trunk_labels(value: Any) -> dict[str, str]:
    """The trunk names as the admin writes them, one "code = label" a line (or, from
    an API client, a JSON object)."""
    field = "trunk_labels"
    if isinstance(value, dict):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = []
        for number, line in enumerate(value.splitlines(), start=1):
            if not line.strip():
                continue
            code, sep, label = line.partition("=")
            if not sep:
                raise OperationError(
                    f"line {number}: write the trunk code, '=', then its name.", field=field)
            pairs.append((code, label))
    else:
        raise OperationError("trunk_labels must be text or an object.", field=field)
    labels: dict[str, str] = {}
    for code, label in pairs:
        code, label = code.strip(), label.strip()
        if not code or not label:
            raise OperationError("every trunk needs a code and a name.", field=field)
        if len(code) > 60 or len(label) > 80:
            raise OperationError("a trunk code is at most 60 characters, its name 80.",
                                 field=field)
        labels[code] = label
    if len(labels) > TRUNK_LABELS_MAX:
        raise OperationError(f"at most {TRUNK_LABELS_MAX} trunk names.", field=field)
    return labels


def _settings_apply(cfg: IncidentSettings, values: dict[str, Any]) -> None:
    ints = (
        "prank_threshold",
        "prank_window_hours",
        "block_hours",
        "duplicate_radius_m",
        "duplicate_window_minutes",
        "ring_timeout_seconds",
    )
    for name in ints:
        if name in values:
            try:
                number = int(values[name])
            except (TypeError, ValueError):
                raise OperationError(f"{name} must be a whole number.", field=name) from None
            if number < 1:
                raise OperationError(f"{name} must be at least 1.", field=name)
            setattr(cfg, name, number)
    bounded = (("offer_window_seconds", 0, 60), ("presence_timeout_minutes", 1, 120))
    for name, low, high in bounded:
        if name in values:
            try:
                number = int(values[name])
            except (TypeError, ValueError):
                raise OperationError(f"{name} must be a whole number.", field=name) from None
            if not low <= number <= high:
                raise OperationError(f"{name} must be between {low} and {high}.", field=name)
            setattr(cfg, name, number)
    if "trunk_labels" in values:
        cfg.trunk_labels = parse_trunk_labels(values["trunk_labels"])
    if "personal_data_retention_days" in values:
        name = "personal_data_retention_days"
        try:
            days = int(values[name])
        except (TypeError, ValueError):
            raise OperationError(f"{name} must be a whole number.", field=name) from None
        if not RETENTION_DAYS_MIN <= days <= RETENTION_DAYS_MAX:
            raise OperationError(
                f"{name} must be between {RETENTION_DAYS_MIN} and {RETENTION_DAYS_MAX} days.",
                field=name,
            )
        cfg.personal_data_retention_days = days
    box = ("area_min_lat", "area_max_lat", "area_min_lng", "area_max_lng")
    parsed = {name: parse_float(values.get(name), name) for name in box if name in values}
    for name, value in parsed.items():
        setattr(cfg, name, value)
    if all(getattr(cfg, n) is not None for n in box) and (
        cfg.area_min_lat > cfg.area_max_lat or cfg.area_min_lng > cfg.area_max_lng  # type: ignore[operator]
    ):
        raise OperationError("The area's minimum must be below its maximum.", field="area_min_lat")
    cfg.save()
