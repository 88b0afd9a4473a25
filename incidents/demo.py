"""112 operations' part of the demo seed (called by siaga112.demo.seed_demo for
each demo tenant, inside that tenant's schema, after its users exist).
Must be idempotent."""

from tenants.models import Tenant


def seed_tenant_demo(tenant: Tenant) -> None:
    """Agencies' responders, PBX credentials and sample operations for a demo tenant."""
