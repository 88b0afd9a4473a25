from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from incidents.errors import OperationError
from incidents.services.outlines import outline_replace
from tenants.models import Domain, Tenant


def tenant_of(name: str) -> Tenant:
    """A Pemda by its host (`dairi.localhost`), slug (`dairi`) or region code (`12.11`)."""
    domain = Domain.objects.filter(domain=name.lower()).select_related("tenant").first()
    tenant = (domain.tenant if domain is not None else None) or (
        Tenant.objects.filter(region__slug=name).first()
        or Tenant.objects.filter(region__code=name).first())
    if tenant is None or tenant.is_public or tenant.is_template:
        raise CommandError(f"no Pemda is served on {name!r}")
    return tenant


class Command(BaseCommand):
    help = ("Load a Pemda's region outline (GeoJSON FeatureCollection of its kecamatan) "
            "for the console map, replacing the previous one.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("host", help="the Pemda's host, slug or region code")
        parser.add_argument("file", help="GeoJSON file")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_of(options["host"])
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            with schema_context(tenant.schema_name):
                outline = outline_replace(actor=None, raw=raw, source_name=path.name)
        except OperationError as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        self.stdout.write(f"{tenant.name}: outline loaded from {path.name} "
                          f"({outline.feature_count} areas, {outline.vertex_count} points)")
