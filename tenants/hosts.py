"""Which tenant a host name belongs to, cached in the process (core.localcache).

Every request starts here, a PBX event as much as a console poll: the domain, its
tenant and the tenant's region were one query per request. A save or delete of a
Domain, Tenant or Region in this process, and tenants.services when it changes a
tenant's status, clear the cache; other processes follow within LOCAL_CACHE_SECONDS.
"""

from __future__ import annotations

import copy

from django.db.models.signals import post_delete, post_save

from core.localcache import TtlCache
from tenants.db import tenant_connection
from tenants.models import Domain, Region, Tenant

_by_host: TtlCache[str, Tenant] = TtlCache()


def tenant_for_host(hostname: str) -> Tenant:
    """The tenant serving `hostname` (with its region); Domain.DoesNotExist if none.

    Each caller gets its own copy: a request may set attributes on its tenant
    (django-tenants sets domain_url) without another request seeing them."""
    tenant = _by_host.get(hostname)
    if tenant is None:
        # The domain table lives in the public schema.
        tenant_connection().set_schema_to_public()
        tenant = Domain.objects.select_related("tenant__region").get(domain=hostname).tenant
        _by_host.set(hostname, tenant)
    return copy.copy(tenant)


def tenant_cache_clear(**_kwargs: object) -> None:
    _by_host.clear()


def connect_signals() -> None:
    for model in (Domain, Tenant, Region):
        for signal in (post_save, post_delete):
            signal.connect(tenant_cache_clear, sender=model,
                           dispatch_uid=f"tenant-host-cache-{model.__name__}-{id(signal)}")
