import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.backup import BackupError, tenant_backup
from tenants.models import Tenant


def schema_of(name: str) -> str:
    """A Pemda's slug (`sidoarjo`), region code (`35.15`) or schema (`pemda_35_15`)."""
    tenant = (Tenant.objects.filter(region__slug=name).first()
              or Tenant.objects.filter(region__code=name).first())
    return tenant.schema_name if tenant is not None else name


class Command(BaseCommand):
    help = ("Write one Pemda's schema as plain SQL (pg_dump --schema, the server's own "
            "version); restore it with restore_tenant.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pemda", help="slug, region code or schema name")
        parser.add_argument("file", help="where to write the dump ('-' for stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        schema = schema_of(options["pemda"])
        try:
            if options["file"] == "-":
                tenant_backup(schema=schema, out=sys.stdout)
                return
            path = Path(options["file"])
            with path.open("w", encoding="utf-8") as out:
                tenant_backup(schema=schema, out=out)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{schema} written to {path} ({path.stat().st_size} bytes)")
