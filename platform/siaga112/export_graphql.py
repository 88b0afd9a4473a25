"""Write docs/graphql/{public,tenant}.graphql from the live schemas (make graphql-schema)."""

import os
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga112.settings")


def main() -> None:
    import django

    django.setup()
    from graphql import print_schema

    from siaga112.schema import public_schema, tenant_schema

    out = Path(__file__).resolve().parents[2] / "docs" / "graphql"
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in (("public", public_schema), ("tenant", tenant_schema)):
        (out / f"{name}.graphql").write_text(print_schema(schema.graphql_schema) + "\n",
                                             encoding="utf-8")


if __name__ == "__main__":
    main()
