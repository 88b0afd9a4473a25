import time

from django.core.management.base import BaseCommand

from tenants.migrating import migrate_all


class Command(BaseCommand):
    help = (
        "Migrate the public schema, the tenant template and every Pemda schema that "
        "is behind; schemas already up to date are not touched."
    )

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        result = migrate_all(verbosity=int(str(options.get("verbosity", 1))) - 1,
                             write=self.stdout.write)
        self.stdout.write(
            f"checked {result.checked} schemas, migrated {len(result.migrated)} "
            f"in {time.perf_counter() - started:.2f} s"
        )
