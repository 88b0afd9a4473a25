"""The GraphQL contract is reviewed as a file: a change to the API shows up as a
diff of docs/graphql/*.graphql in the same commit (`make graphql-schema`)."""

from pathlib import Path

import pytest
from graphql import print_schema
from siaga112.schema import public_schema, tenant_schema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "graphql"


@pytest.mark.parametrize(("name", "schema"), [("public", public_schema), ("tenant", tenant_schema)])
def test_exported_schema_is_current(name, schema):
    exported = (DOCS / f"{name}.graphql").read_text(encoding="utf-8")
    assert exported == print_schema(schema.graphql_schema) + "\n", (
        f"docs/graphql/{name}.graphql is stale: run `make graphql-schema` and commit the diff"
    )
