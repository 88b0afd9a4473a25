"""Rows written and read by fixed statements on the hot paths (a PBX event, an incident,
every signed-in request), and the model instances the ORM would have built from them.

Building and compiling a query is most of what an ORM `.get()` or `.create()` costs in
CPU (tests/perf/cpu_intake); these helpers keep the column lists per model for the life
of the process (a new field is picked up at the next start, as the code that uses it),
and leave values, defaults and conversions to the fields themselves.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model
from django.db.models.expressions import DatabaseDefault

M = TypeVar("M", bound=Model)

_insert_fields: dict[tuple[type[Model], frozenset[str]], list[tuple[Field[Any, Any], str]]] = {}
_select_lists: dict[type[Model], tuple[str, list[str], list[tuple[int, Any, list[Any]]]]] = {}


def insert_columns(
    model: type[Model], instance: Model, skip: set[str]
) -> tuple[list[str], list[Any]]:
    """Every concrete column but the primary key and `skip`, with the value the ORM
    would insert for `instance` (defaults included): a one-statement raw INSERT
    (calls, incidents, the province feed) stays right when a field is added."""
    key = (model, frozenset(skip))
    fields = _insert_fields.get(key)
    db = connections[DEFAULT_DB_ALIAS]
    if fields is None:
        # The field list and quoted names are fixed per model; read once per process.
        fields = [(f, db.ops.quote_name(str(f.column))) for f in model._meta.concrete_fields
                  if not f.primary_key and f.attname not in skip]
        _insert_fields[key] = fields
    # The connection itself, not the thread-local proxy: each field's get_db_prep_save
    # reads it several times, and the proxy's lookups were a tenth of the call's CPU.
    columns, values = [], []
    for f, column in fields:
        value = f.pre_save(instance, True)
        if isinstance(value, DatabaseDefault):
            continue  # a db_default column (e.g. the timeline's txid): PostgreSQL fills it
        columns.append(column)
        values.append(f.get_db_prep_save(value, db))
    return columns, values


def _selecting(model: type[Model]) -> tuple[str, list[str], list[tuple[int, Any, list[Any]]]]:
    known = _select_lists.get(model)
    if known is None:
        db = connections[DEFAULT_DB_ALIAS]
        fields = model._meta.concrete_fields
        converters = []
        for i, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            # In the order the ORM's compiler applies them: the backend's, then the field's.
            found = [*db.ops.get_db_converters(col), *field.get_db_converters(db)]
            if found:
                converters.append((i, col, found))
        known = (", ".join(db.ops.quote_name(str(f.column)) for f in fields),
                 [f.attname for f in fields], converters)
        _select_lists[model] = known
    return known


def select_list(model: type[Model]) -> str:
    """The model's concrete columns, quoted, in field order: what `from_row` reads."""
    return _selecting(model)[0]


def from_row(model: type[M], row: tuple[Any, ...] | list[Any]) -> M:
    """The instance a queryset would build from `row` (the columns of `select_list`,
    in that order, anything after them ignored), each value through its field's
    database converters."""
    _, attnames, converters = _selecting(model)
    db = connections[DEFAULT_DB_ALIAS]
    values = list(row[: len(attnames)])
    for i, col, found in converters:
        for convert in found:
            values[i] = convert(values[i], col, db)
    return model.from_db(db.alias, attnames, values)
