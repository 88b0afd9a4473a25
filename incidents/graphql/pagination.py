"""Keyset cursors for the Relay connections: opaque to clients (base64 JSON),
stable while rows are added, and never an OFFSET."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.conf import settings
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from core.errors import Invalid


def encode(kind: str, *values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([kind, *values]).encode()).decode()


def decode(kind: str, cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        raise Invalid("This cursor is not one of ours.", field="after") from None
    if not isinstance(raw, list) or len(raw) != arity + 1 or raw[0] != kind:
        raise Invalid("This cursor belongs to another list.", field="after")
    return raw[1:]


def page_size(first: int | None) -> int:
    maximum = int(settings.GRAPHQL_LIMITS["MAX_PAGE"])
    if first is None:
        return min(20, maximum)
    if first < 1 or first > maximum:
        raise Invalid(f"first must be between 1 and {maximum}.", field="first")
    return first


def selects(info: Any, name: str) -> bool:
    """Whether the query selects a field called `name` anywhere under this field:
    prefetch only what is asked for."""
    fragments = info.fragments

    def walk(selection_set: Any, seen: frozenset[str]) -> bool:
        if selection_set is None:
            return False
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value == name or walk(selection.selection_set, seen):
                    return True
            elif isinstance(selection, InlineFragmentNode):
                if walk(selection.selection_set, seen):
                    return True
            elif isinstance(selection, FragmentSpreadNode):
                spread = selection.name.value
                if spread not in seen and spread in fragments and walk(
                    fragments[spread].selection_set, seen | {spread}
                ):
                    return True
        return False

    return any(walk(node.selection_set, frozenset()) for node in info.field_nodes)
