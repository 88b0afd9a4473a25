"""Every action code the audit trail knows, with the words a person reads.

`audit.services.record` refuses a code that is not listed here, so a page
never has to show a raw code: adding a new audited write means adding its code
and label (and the Indonesian translation in audit/locale) in this file.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Changes in the public schema, read by the national officer.
PUBLIC_ACTIONS: dict[str, Promise] = {
    "tenant.provisioned": _("Pemda tenant provisioned"),
    "tenant.status_changed": _("Pemda tenant status changed"),
    "onboarding.stage_advanced": _("Onboarding moved to the next stage"),
    "onboarding.sent_back": _("Onboarding sent back a stage"),
    "onboarding.evidence_saved": _("Onboarding evidence saved"),
    "invitation.created": _("Pemda-admin invitation issued"),
    "invitation.accepted": _("Pemda-admin invitation accepted"),
    "twofactor.enrolled": _("Two-factor login set up"),
    "twofactor.backup_codes_regenerated": _("New two-factor backup codes made"),
    "twofactor.reset": _("Two-factor login reset"),
    "webhook.created": _("Webhook subscriber added"),
    "webhook.revoked": _("Webhook subscriber revoked"),
    "webhook.replayed": _("Webhook delivery replayed"),
    "api_token.created": _("API token created"),
    "api_token.revoked": _("API token revoked"),
}

# Changes in a Pemda's schema, read by that Pemda's admin.
TENANT_ACTIONS: dict[str, Promise] = {
    "staff.created": _("User created"),
    "staff.updated": _("User changed"),
    "staff.role_changed": _("User's role changed"),
    "staff.unlocked": _("User's login unlocked"),
    "agency.created": _("Agency created"),
    "agency.updated": _("Agency changed"),
    "category.updated": _("Category changed"),
    "routing.updated": _("Routing changed"),
    "settings.updated": _("Call-center settings changed"),
    "outline.replaced": _("Region outline for the map replaced"),
    "pbx_key.created": _("PBX key created"),
    "pbx_key.revoked": _("PBX key revoked"),
    "block.lifted": _("Number block lifted"),
    "api_token.created": _("API token created"),
    "api_token.revoked": _("API token revoked"),
    "invitation.accepted": _("Pemda-admin invitation accepted"),
    "twofactor.enrolled": _("Two-factor login set up"),
    "twofactor.backup_codes_regenerated": _("New two-factor backup codes made"),
    "twofactor.reset": _("Two-factor login reset"),
    "webhook.created": _("Webhook subscriber added"),
    "webhook.revoked": _("Webhook subscriber revoked"),
    "webhook.replayed": _("Webhook delivery replayed"),
    "personal_data.purged": _("Personal data pseudonymised (retention)"),
    "presence.changed": _("Call-taker presence changed"),
}

ACTIONS: dict[str, Promise] = {**PUBLIC_ACTIONS, **TENANT_ACTIONS}

TARGET_TYPES: dict[str, Promise] = {
    "tenant": _("Pemda tenant"),
    "pemdaonboarding": _("Onboarding"),
    "admininvitation": _("Invitation"),
    "user": _("User"),
    "agency": _("Agency"),
    "category": _("Category"),
    "incidentsettings": _("Settings"),
    "regionoutline": _("Region outline"),
    "pbxcredential": _("PBX key"),
    "numberblock": _("Number block"),
    "webhooksubscription": _("Webhook subscriber"),
    "application": _("Application"),
    "verificationvisit": _("Verification visit"),
    "operatorrouting": _("Operator routing"),
    "trainingsession": _("Training session"),
    "trialcall": _("Trial call"),
    "launch": _("Launch"),
    "regulation": _("Regulation"),
    "retention": _("Personal-data retention"),
    "operatorpresence": _("Call-taker presence"),
}

FIELDS: dict[str, Promise] = {
    "status": _("status"),
    "stage": _("stage"),
    "role": _("role"),
    "is_active": _("active"),
    "active": _("active"),
    "display_name": _("name"),
    "name": _("name"),
    "username": _("username"),
    "email": _("e-mail"),
    "password": _("password"),
    "agency": _("agency"),
    "agencies": _("agencies"),
    "priority": _("priority"),
    "ack_target_minutes": _("acknowledge target (minutes)"),
    "arrive_target_minutes": _("arrival target (minutes)"),
    "evidence": _("evidence"),
    "note": _("note"),
    "expires_at": _("expires"),
    "revoked_at": _("revoked"),
    "lifted_at": _("lifted"),
    "number": _("number"),
    "installed_on": _("installed on"),
    "used_at": _("used"),
    # incidents: agencies, PBX keys, the call center's settings
    "code": _("code"),
    "kind": _("kind"),
    "webhook_url": _("webhook URL"),
    "webhook_secret": _("webhook secret"),
    "key_prefix": _("key prefix"),
    "prank_threshold": _("prank-call threshold"),
    "prank_window_hours": _("prank-call window (hours)"),
    "block_hours": _("block length (hours)"),
    "duplicate_radius_m": _("duplicate radius (m)"),
    "duplicate_window_minutes": _("duplicate window (minutes)"),
    "area_min_lat": _("area: minimum latitude"),
    "area_max_lat": _("area: maximum latitude"),
    "area_min_lng": _("area: minimum longitude"),
    "area_max_lng": _("area: maximum longitude"),
    "offer_window_seconds": _("offer window for free call-takers (seconds)"),
    "presence_timeout_minutes": _("away after no heartbeat (minutes)"),
    "trunk_labels": _("line names"),
    "reason": _("reason"),
}


def action_label(code: str) -> Promise | str:
    return ACTIONS.get(code) or _("Other change")


def target_type_label(code: str) -> Promise | str:
    return TARGET_TYPES.get(code) or code.replace("_", " ")


def field_label(key: str) -> Promise | str:
    return FIELDS.get(key) or key.replace("_", " ")


def choices(codes: dict[str, Promise]) -> list[tuple[str, str]]:
    """(code, label) sorted by the label in the active language, for a filter."""
    return sorted(((c, str(label)) for c, label in codes.items()), key=lambda item: item[1])
