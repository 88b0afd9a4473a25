"""core.rows, the fixed-statement reads and writes of the hot paths, against the ORM on
the same rows: every concrete field equal, converters applied (a JSON column comes back
as data, not text), defaults written as the ORM writes them, database defaults left to
PostgreSQL."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import schema_context

from core.rows import from_row, insert_columns, select_list
from incidents.models import Incident, TimelineEntry
from integration.models import IdempotencyRecord


def _fields(instance) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def _read(model, pk):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select_list(model)} FROM {table} WHERE id = %s", [pk])
        return from_row(model, cursor.fetchone())


def test_a_json_column_is_read_as_the_orm_reads_it(db) -> None:
    record = IdempotencyRecord.objects.create(
        schema_name="pemda_x", key="k-1", request_hash="h" * 64,
        response={"status": 201, "body": {"id": 7, "tags": ["a", "b"]}, "none": None})
    ours = _read(IdempotencyRecord, record.pk)
    theirs = IdempotencyRecord.objects.get(pk=record.pk)
    assert ours.response == {"status": 201, "body": {"id": 7, "tags": ["a", "b"]}, "none": None}
    assert _fields(ours) == _fields(theirs)
    assert ours._state.adding is False and ours._state.db == "default"


def test_a_tenant_row_is_read_as_the_orm_reads_it(tenant_a) -> None:
    with schema_context(tenant_a.schema_name):
        incident = Incident.objects.select_related(None).order_by("pk").first()
        assert incident is not None, "the demo world has incidents in Dairi"
        ours = _read(Incident, incident.pk)
        assert _fields(ours) == _fields(incident)
        assert ours.category.pk == incident.category_id  # relations load as usual


def test_insert_columns_give_the_orms_values_and_leave_database_defaults(tenant_a) -> None:
    with schema_context(tenant_a.schema_name):
        incident = Incident.objects.order_by("pk").first()
        entry = TimelineEntry(incident=incident, kind="note", actor_name="system")
        columns, values = insert_columns(TimelineEntry, entry, {"incident_id"})
        # txid has a database default: not sent, PostgreSQL fills it.
        assert '"txid"' not in columns and '"incident_id"' not in columns
        named = dict(zip(columns, values, strict=True))
        assert named['"kind"'] == "note" and named['"actor_name"'] == "system"
        assert named['"data"'] is not None  # the field's default ({}), prepared for the database
