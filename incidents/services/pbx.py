"""PBX keys: how a Pemda's telephone system proves it may post call events."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import record, tracking
from core.localcache import TtlCache
from incidents.errors import OperationError
from incidents.models import PbxCredential
from incidents.services.common import lock_or_404
from tenants.db import current_schema

logger = logging.getLogger(__name__)


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def pbx_credential_create(
    *, name: str, actor: User | None, raw_key: str | None = None
) -> tuple[PbxCredential, str]:
    """A new PBX key; the raw key is returned once and never stored."""
    name = name.strip()
    if not name:
        raise OperationError(_("Give the PBX a name (e.g. 'IP-PBX gedung utama')."), field="name")
    if raw_key is None:
        raw_key = f"pbx_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "pbx" or not parts[1] or len(parts[2]) < 16:
        raise OperationError("A PBX key looks like pbx_<prefix>_<secret>.", field="key")
    cred = PbxCredential.objects.create(
        name=name, key_prefix=parts[1], key_hash=_hash_key(raw_key), created_by=actor
    )
    # The name and the public prefix only: never the key nor its hash.
    record(
        actor=actor,
        action="pbx_key.created",
        target=cred,
        after={"name": cred.name, "key_prefix": cred.key_prefix},
    )
    logger.info("pbx.credential_created", extra={"credential": cred.pk})
    return cred, raw_key


@transaction.atomic
def pbx_credential_revoke(*, credential_id: int, actor: User | None) -> PbxCredential:
    cred = lock_or_404(PbxCredential, credential_id, "PBX credential")
    if cred.revoked_at is None:
        with tracking(actor=actor, action="pbx_key.revoked", target=cred, fields=["revoked_at"]):
            cred.revoked_at = timezone.now()
            cred.save(update_fields=["revoked_at"])
        logger.info(
            "pbx.credential_revoked",
            extra={"credential": cred.pk, "by": actor.pk if actor else None},
        )
    return cred


# (schema, key prefix) → the live credential. Every PBX request authenticates, and
# keys change a few times a year: the row is kept in the process (core.localcache).
# Revoking or deleting a key here forgets it at once (signals below); another
# server process stops accepting it within LOCAL_CACHE_SECONDS.
_live_keys: TtlCache[tuple[str, str], PbxCredential] = TtlCache()


def _forget_key(sender: object, instance: PbxCredential, **_kwargs: object) -> None:
    _live_keys.discard((current_schema(), instance.key_prefix))


post_save.connect(_forget_key, sender=PbxCredential, dispatch_uid="pbx-key-cache-save")
post_delete.connect(_forget_key, sender=PbxCredential, dispatch_uid="pbx-key-cache-delete")


def pbx_authenticate(raw_key: str) -> PbxCredential | None:
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "pbx":
        return None
    cache_key = (current_schema(), parts[1])
    cred = _live_keys.get(cache_key)
    if cred is None:
        cred = PbxCredential.objects.filter(key_prefix=parts[1], revoked_at__isnull=True).first()
        if cred is None:
            return None
        _live_keys.set(cache_key, cred)
    if not hmac.compare_digest(cred.key_hash, _hash_key(raw_key)):
        return None
    now = timezone.now()
    if cred.last_used_at is None or now - cred.last_used_at > timedelta(minutes=1):
        PbxCredential.objects.filter(pk=cred.pk).update(last_used_at=now)
        cred.last_used_at = now  # the cached copy too: one write a minute, not a request
    return cred
