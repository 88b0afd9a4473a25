"""The one mapping from a `DomainError` to a GraphQL error.

A DomainError raised in a resolver is answered as an ordinary GraphQL error
(HTTP 200, `data` null where it failed) whose `message` is the person's message
and whose `extensions` carry `{code, field}`: clients branch on the code, never
on the text. `siaga112.graphql_view.SiagaGraphQLView`, the one view of both
/graphql/ endpoints, is built on this class.
"""

from __future__ import annotations

from typing import Any

from graphene_django.views import GraphQLView as BaseGraphQLView
from graphql import GraphQLError

from core.errors import DomainError


def format_error(error: Exception) -> dict[str, Any]:
    if isinstance(error, GraphQLError) and isinstance(error.original_error, DomainError):
        domain = error.original_error
        formatted = dict(error.formatted)
        formatted["message"] = domain.error_message()
        formatted["extensions"] = domain.extensions
        return formatted
    return BaseGraphQLView.format_error(error)


class GraphQLView(BaseGraphQLView):
    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        return format_error(error)
