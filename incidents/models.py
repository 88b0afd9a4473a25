"""112 operations, inside one Pemda's schema: calls from the PBX, incidents, dispatch
to the OPD agencies and their follow-up. Every write goes through incidents.services;
the rules kept here are the ones that belong to a single row."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.rules import INDONESIA_LAT, INDONESIA_LNG
from integration.models import current_xact_id

# Bounds of a Pemda's personal-data retention period (days): at least the 90
# days a complaint or an investigation may need the number, at most five years.
RETENTION_DAYS_MIN = 90
RETENTION_DAYS_MAX = 1825


class IncidentSettings(models.Model):
    """One row per Pemda (pk=1): the knobs a Pemda admin may turn."""

    prank_threshold = models.PositiveSmallIntegerField(default=3)
    prank_window_hours = models.PositiveSmallIntegerField(default=24)
    block_hours = models.PositiveSmallIntegerField(default=24)
    duplicate_radius_m = models.PositiveIntegerField(default=500)
    duplicate_window_minutes = models.PositiveIntegerField(default=30)
    aml_window_seconds = models.PositiveIntegerField(default=600)
    # A call ringing unanswered this long becomes missed (beat job): a flood of calls
    # nobody ended must not keep the ringing list growing.
    ring_timeout_seconds = models.PositiveIntegerField(default=120)
    # A new ringing call is offered first to the call-takers who are free, for this
    # long, before it rings for everyone (incidents.routing); 0 rings for all at once.
    offer_window_seconds = models.PositiveSmallIntegerField(default=10)
    # A call-taker marked available whose pages stopped polling this long is set away
    # (the ringing watcher's poll is the heartbeat).
    presence_timeout_minutes = models.PositiveSmallIntegerField(default=3)
    # The PBX's trunk codes as people say them ({"tsel-1": "Telkomsel 112"}).
    trunk_labels = models.JSONField(default=dict, blank=True)
    # UU 27/2022: after this many days caller numbers and AML raw data (IMEI,
    # IMSI, the payload) are pseudonymised by incidents.retention, each Pemda
    # choosing within RETENTION_DAYS_MIN..MAX.
    personal_data_retention_days = models.PositiveSmallIntegerField(default=365)
    # The Pemda's own area as a bounding box; empty means "not configured".
    area_min_lat = models.FloatField(null=True, blank=True)
    area_max_lat = models.FloatField(null=True, blank=True)
    area_min_lng = models.FloatField(null=True, blank=True)
    area_max_lng = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="incident_settings_singleton")
        ]

    def __str__(self) -> str:
        return "incident settings"

    @classmethod
    def load(cls) -> IncidentSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    def in_area(self, lat: float, lng: float) -> bool | None:
        box = (self.area_min_lat, self.area_max_lat, self.area_min_lng, self.area_max_lng)
        if any(v is None for v in box):
            return None
        return bool(
            self.area_min_lat <= lat <= self.area_max_lat  # type: ignore[operator]
            and self.area_min_lng <= lng <= self.area_max_lng  # type: ignore[operator]
        )


class RegionOutline(models.Model):
    """One row per Pemda (pk=1): the outline of its kabupaten/kota and kecamatan, the
    console map's base layer. Kept as the GeoJSON text the map is served, already
    validated and simplified (incidents.services.outlines), so serving it is one read
    and its ETag is the hash of exactly those bytes."""

    geojson = models.TextField()
    etag = models.CharField(max_length=64)
    feature_count = models.PositiveIntegerField()
    vertex_count = models.PositiveIntegerField()
    # Where it came from: the uploaded file's name or the command's argument.
    source_name = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="region_outline_singleton")
        ]

    def __str__(self) -> str:
        return "region outline"


class Priority(models.IntegerChoices):
    CRITICAL = 1, _("Critical")
    HIGH = 2, _("High")
    MEDIUM = 3, _("Medium")
    LOW = 4, _("Low")


class Category(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)  # Indonesian, as the operators say it
    name_en = models.CharField(max_length=120, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    ack_target_minutes = models.PositiveIntegerField(default=5)
    arrive_target_minutes = models.PositiveIntegerField(default=15)
    active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    class Kind(models.TextChoices):
        HEALTH = "health", _("Health / ambulance")
        HOSPITAL = "hospital", _("Hospital")
        CLINIC = "clinic", _("Puskesmas")
        FIRE = "fire", _("Fire brigade")
        DISASTER = "disaster", _("Disaster management")
        POLICE = "police", _("Police")
        PUBLIC_ORDER = "public_order", _("Public order")
        SOCIAL = "social", _("Social services")
        TRANSPORT = "transport", _("Transport")
        WOMEN_CHILDREN = "women_children", _("Women and children protection")
        POWER = "power", _("Electricity")
        WATER = "water", _("Water")
        RESCUE = "rescue", _("Search and rescue")
        OTHER = "other", _("Other")

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    email = models.EmailField(blank=True)
    # How the call center reaches the OPD when the screen is not enough (no
    # acknowledgement, a unit on the road): its duty phone and its radio channel.
    phone = models.CharField(max_length=40, blank=True)
    radio_channel = models.CharField(max_length=60, blank=True)
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=128, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Category -> suggested agencies, in the order the call-taker sees them."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routing_rules")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="routing_rules")
    order = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "agency"], name="routing_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.category_id}->{self.agency_id}"


class AgencyMember(models.Model):
    """An OPD responder belongs to exactly one agency."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_membership"
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="members")

    def __str__(self) -> str:
        return f"{self.user_id}@{self.agency_id}"


class PbxCredential(models.Model):
    """An API key for one PBX. Only its hash is stored; the key is shown once."""

    name = models.CharField(max_length=80)
    key_prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")


class CallType(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    INFORMATION = "information", _("Information")
    PRANK = "prank", _("Prank")
    GHOST = "ghost", _("Ghost / silent")
    TEST = "test", _("Test")


class Call(models.Model):
    external_id = models.CharField(max_length=120, unique=True)
    caller = models.CharField(max_length=20, db_index=True)  # E.164
    trunk = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=10, choices=CallState.choices, default=CallState.RINGING)
    call_type = models.CharField(max_length=12, choices=CallType.choices, blank=True)
    ringing_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_test = models.BooleanField(default=False)
    blocked = models.BooleanField(default=False)
    aml_lat = models.FloatField(null=True, blank=True)
    aml_lng = models.FloatField(null=True, blank=True)
    aml_radius_m = models.FloatField(null=True, blank=True)
    aml_source = models.CharField(max_length=10, blank=True)
    aml_time = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey(
        "Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )

    class Meta:
        ordering = ["-ringing_at"]
        indexes = [
            # The ringing list and the missed-call job read only ringing calls.
            models.Index(
                fields=["ringing_at"],
                condition=models.Q(state="ringing"),
                name="call_ringing_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answered_at__isnull=True)
                | models.Q(answered_at__gte=models.F("ringing_at")),
                name="call_answer_after_ring",
            )
        ]

    def __str__(self) -> str:
        return f"call {self.external_id}"


class PbxEvent(models.Model):
    """Each (call, event) once: a PBX retrying a webhook changes nothing."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=10)
    at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "event"], name="pbx_event_once")]

    def __str__(self) -> str:
        return f"{self.call_id}:{self.event}"


class AmlReport(models.Model):
    """Every AML position received; attached to its call now or when the call arrives."""

    caller = models.CharField(max_length=20, blank=True, db_index=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    radius_m = models.FloatField()
    source = models.CharField(max_length=10)
    position_time = models.DateTimeField()
    confidence_pct = models.PositiveSmallIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=5)  # sms / https
    raw = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="aml_reports"
    )

    def __str__(self) -> str:
        return f"AML {self.pk}"


class NumberBlock(models.Model):
    number = models.CharField(max_length=20, db_index=True)
    blocked_from = models.DateTimeField()
    blocked_until = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    hits = models.PositiveIntegerField(default=0)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-blocked_from"]

    def __str__(self) -> str:
        return f"block {self.pk}"

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.lifted_at is None and self.blocked_from <= now < self.blocked_until


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DISPATCHED = "dispatched", _("Dispatched")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (IncidentStatus.OPEN, IncidentStatus.DISPATCHED, IncidentStatus.RESOLVED)


class Incident(models.Model):
    reference = models.CharField(max_length=40, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="incidents")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    status = models.CharField(
        max_length=12, choices=IncidentStatus.choices, default=IncidentStatus.OPEN, db_index=True
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    address = models.CharField(max_length=255, blank=True)
    kecamatan = models.CharField(max_length=100, blank=True)
    kelurahan = models.CharField(max_length=100, blank=True)
    outside_area = models.BooleanField(default=False)
    description = models.TextField()
    caller = models.CharField(max_length=20, blank=True, db_index=True)
    is_test = models.BooleanField(default=False)
    # A double submit (double click, browser retry) carries the same key: one incident.
    idempotency_key = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # Cross-Pemda referral (public referrals.Referral id), outgoing or incoming.
    referral_out_id = models.BigIntegerField(null=True, blank=True)
    referral_in_id = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(latitude__isnull=True, longitude__isnull=True)
                    | models.Q(
                        latitude__gte=INDONESIA_LAT[0],
                        latitude__lte=INDONESIA_LAT[1],
                        longitude__gte=INDONESIA_LNG[0],
                        longitude__lte=INDONESIA_LNG[1],
                    )
                ),
                name="incident_location_in_indonesia",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.CLOSED


class DispatchStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DEPARTED = "departed", _("Departed")
    ARRIVED = "arrived", _("Arrived")
    RESOLVED = "resolved", _("Resolved")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_DISPATCH = (
    DispatchStatus.PENDING,
    DispatchStatus.ACKNOWLEDGED,
    DispatchStatus.DEPARTED,
    DispatchStatus.ARRIVED,
)
# The only forward path; anything else is refused with a message.
NEXT_STATUS = {
    DispatchStatus.PENDING: DispatchStatus.ACKNOWLEDGED,
    DispatchStatus.ACKNOWLEDGED: DispatchStatus.DEPARTED,
    DispatchStatus.DEPARTED: DispatchStatus.ARRIVED,
    DispatchStatus.ARRIVED: DispatchStatus.RESOLVED,
}


class Outcome(models.TextChoices):
    HANDLED = "handled", _("Handled on scene")
    TRANSPORTED = "transported", _("Transported (hospital / shelter)")
    REFERRED = "referred", _("Referred to another agency")
    FALSE_ALARM = "false_alarm", _("False alarm")
    NOT_FOUND = "not_found", _("Not found at the location")


class Dispatch(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="dispatches")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="dispatches")
    status = models.CharField(
        max_length=12, choices=DispatchStatus.choices, default=DispatchStatus.PENDING
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dispatched_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    note = models.TextField(blank=True)
    # Optimistic lock: a stale screen cannot overwrite a newer status.
    version = models.PositiveIntegerField(default=1)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["dispatched_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "agency"],
                condition=~models.Q(status="cancelled"),
                name="dispatch_one_active_per_agency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}->{self.agency_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_DISPATCH

    @property
    def next_status(self) -> str | None:
        nxt = NEXT_STATUS.get(DispatchStatus(self.status))
        return nxt.value if nxt else None


class HandoverNote(models.Model):
    """What the outgoing supervisor tells the next shift, and the incoming supervisor's
    acknowledgement that it was read (who and when): a handover is a conversation, not
    only a report."""

    text = models.TextField(max_length=4000)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    written_by_name = models.CharField(max_length=160)
    written_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_by_name = models.CharField(max_length=160, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-written_at", "-id"]

    def __str__(self) -> str:
        return f"handover note {self.pk}"


class PresenceStatus(models.TextChoices):
    """What a call-taker says of themselves; being on a call is derived from the calls
    (incidents.selectors.presence_board), never stored."""

    AVAILABLE = "available", _("Available")
    AWAY = "away", _("Away")


class OperatorPresence(models.Model):
    """One row per call-taker who ever set a presence; no row reads as away."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10, choices=PresenceStatus.choices,
                              default=PresenceStatus.AWAY)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"presence of {self.user_id}"


class AppendOnlyError(Exception):
    pass


class TimelineEntry(models.Model):
    """Append-only history of an incident: who did what, when."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    dispatch = models.ForeignKey(
        Dispatch, null=True, blank=True, on_delete=models.CASCADE, related_name="timeline"
    )
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=160, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    # The writing transaction's id, set by PostgreSQL: the change feed
    # (incidentEvents) pages by (txid, id) in commit order.
    txid = models.BigIntegerField(db_default=current_xact_id(), editable=False)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["txid", "id"], name="timeline_feed")]

    def __str__(self) -> str:
        return f"{self.incident_id}:{self.kind}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise AppendOnlyError("timeline entries are never changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("timeline entries are never deleted")
