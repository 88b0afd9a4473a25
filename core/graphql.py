"""The one mapping from a `DomainError` to a GraphQL error.

A DomainError raised in a resolver is answered as an ordinary GraphQL error
(HTTP 200, `data` null where it failed) whose `message` is the person's message
and whose `extensions` carry `{code, field}`: clients branch on the code, never
on the text. `siaga112.graphql_view.SiagaGraphQLView`, the one view of both
/graphql/ endpoints, is built on this class.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext
from graphene_django.views import GraphQLView as BaseGraphQLView
from graphql import GraphQLError

from core.errors import DomainError, Invalid


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul_characters(next_: Any, root: Any, info: Any, **args: Any) -> Any:
    """Graphene middleware (settings.GRAPHENE["MIDDLEWARE"]): an argument holding a NUL
    character ("\\u0000" in a query) is refused naming the argument. PostgreSQL
    cannot store or compare it: unchecked, it surfaced as a database error."""
    for name, value in args.items():
        if _has_nul(value):
            raise Invalid(gettext("Null characters are not allowed."),
                          field=_wire_name(info, name))
    return next_(root, info, **args)


def _wire_name(info: Any, python_name: str) -> str:
    """The argument as the client wrote it (regionCode), not as resolvers see it."""
    field = info.parent_type.fields.get(info.field_name)
    for wire, arg in (field.args.items() if field is not None else ()):
        if getattr(arg, "out_name", None) == python_name:
            return str(wire)
    return python_name

logger = logging.getLogger(__name__)

INTERNAL = "Internal error: the request could not be completed. It has been logged."


def format_error(error: Exception) -> dict[str, Any]:
    if isinstance(error, GraphQLError) and isinstance(error.original_error, DomainError):
        domain = error.original_error
        formatted = dict(error.formatted)
        formatted["message"] = domain.error_message()
        formatted["extensions"] = domain.extensions
        return formatted
    original = getattr(error, "original_error", None)
    if isinstance(error, GraphQLError) and error.path and original is not None and not isinstance(
        original, GraphQLError
    ):
        # A bug in a resolver: its text (SQL, a file name, data) is not for the client.
        logger.error("graphql.resolver_failed", exc_info=original,
                     extra={"path": ".".join(str(p) for p in error.path)})
        formatted = dict(error.formatted)
        formatted["message"] = INTERNAL
        formatted["extensions"] = {"code": "internal", "field": None}
        return formatted
    if not isinstance(error, GraphQLError):
        logger.error("graphql.failed", exc_info=error)
        return {"message": INTERNAL, "extensions": {"code": "internal", "field": None}}
    return BaseGraphQLView.format_error(error)


class GraphQLView(BaseGraphQLView):
    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        return format_error(error)
