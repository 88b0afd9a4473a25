from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.backup import BackupError, tenant_restore


class Command(BaseCommand):
    help = ("Restore a backup_tenant dump under a FRESH schema name, in one transaction. "
            "The copy is not a tenant: compare it, then copy rows back or rename it into "
            "place yourself (README, Operations).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a dump written by backup_tenant")
        parser.add_argument("schema", help="the new schema's name, e.g. restore_35_15")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tenant_restore(dump=Path(options["file"]), schema=options["schema"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored into schema {options['schema']}")
