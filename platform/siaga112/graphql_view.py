"""The one GraphQL view of both hosts (national console and every Pemda).

- POST with a JSON body only: a GET or a form POST (what a cross-site form or
  link can send) is 405/415, never executed.
- A request authenticated by its session cookie must pass the CSRF check (the
  X-CSRFToken header), so another site cannot run a query with a victim's
  session. A future API-token authenticator (settings.GRAPHQL_AUTHENTICATORS:
  callables request -> user or None) authenticates without cookies and is
  therefore exempt.
- Anonymous users get neither introspection nor GraphiQL; GraphiQL is for
  signed-in staff on a development machine only, with assets served by the
  platform (npm), never a CDN.
- Limits checked before validation and execution, with a message saying which:
  body size, depth, aliases and fields (fragments expanded, so a fragment
  used twice costs twice).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.module_loading import import_string
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from core.graphql import GraphQLView


def limits() -> dict[str, int]:
    return cast(dict[str, int], settings.GRAPHQL_LIMITS)


@dataclass
class Cost:
    depth: int = 0
    fields: int = 0
    aliases: int = 0

    def add(self, other: Cost, *, deeper: bool) -> None:
        self.depth = max(self.depth, other.depth + (1 if deeper else 0))
        self.fields += other.fields
        self.aliases += other.aliases


def _cost(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    memo: dict[str, Cost],
    stack: set[str],
) -> Cost:
    # Memoised per fragment: the work is linear in the query's text even when the
    # counted cost (a fragment spread many times, nested) grows exponentially.
    cost = Cost()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            cost.fields += 1
            cost.aliases += 1 if selection.alias else 0
            sub = (_cost(selection.selection_set, fragments, memo, stack)
                   if selection.selection_set else Cost())
            cost.add(sub, deeper=True)
        elif isinstance(selection, InlineFragmentNode):
            cost.add(_cost(selection.selection_set, fragments, memo, stack), deeper=False)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in stack or name not in fragments:
                continue  # cycles and unknown fragments: the standard rules report them
            if name not in memo:
                stack.add(name)
                memo[name] = _cost(fragments[name].selection_set, fragments, memo, stack)
                stack.discard(name)
            cost.add(memo[name], deeper=False)
    return cost


def query_limit_errors(query: str) -> list[str]:
    """What in `query` is over the limits, as sentences; [] when it is within them.
    A query that does not parse is left to graphene, which names the syntax error."""
    try:
        document = parse(query, max_tokens=limits()["MAX_TOKENS"])
    except GraphQLError as exc:
        if "tokens" in exc.message:  # "Document contains more than N tokens."
            return [f"the query has more than {limits()['MAX_TOKENS']} tokens"]
        return []
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    memo: dict[str, Cost] = {}
    errors: list[str] = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        cost = _cost(definition.selection_set, fragments, memo, set())
        for what, value, limit in (
            ("depth", cost.depth, limits()["MAX_DEPTH"]),
            ("aliases", cost.aliases, limits()["MAX_ALIASES"]),
            ("fields", cost.fields, limits()["MAX_FIELDS"]),
        ):
            if value > limit:
                errors.append(f"query {what} is {value}; at most {limit} allowed")
    return errors


def _json_error(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"errors": [{"message": message}]}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _never_called(request: HttpRequest) -> HttpResponse:
    raise AssertionError("the CSRF check only inspects the request")


class SiagaGraphQLView(GraphQLView):
    graphiql_template = "graphql/graphiql.html"

    def authenticate_token(self, request: HttpRequest) -> Any | None:
        """The hook for API tokens: the first authenticator that returns a user wins."""
        for path in getattr(settings, "GRAPHQL_AUTHENTICATORS", []):
            user = import_string(path)(request)
            if user is not None:
                return user
        return None

    def graphiql_allowed(self, request: HttpRequest) -> bool:
        user = getattr(request, "user", AnonymousUser())
        return bool(settings.DEVELOPMENT and user.is_authenticated and user.is_staff)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token_user = self.authenticate_token(request)
        if token_user is not None:
            request.user = token_user
        method = (request.method or "").upper()
        if method in ("GET", "HEAD"):
            if self.graphiql_allowed(request) and self.request_wants_html(request):
                return render(request, self.graphiql_template, {"graphql_url": request.path})
            return _json_error(405, "send queries as POST with a JSON body", Allow="POST")
        if method != "POST":
            return _json_error(405, "send queries as POST with a JSON body", Allow="POST")
        if request.content_type != "application/json":
            return _json_error(415, "the body must be JSON (Content-Type: application/json)")
        max_bytes = limits()["MAX_BODY_BYTES"]
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_bytes or len(request.body) > max_bytes:
            return _json_error(413, f"the body is larger than {max_bytes} bytes")
        if token_user is None and request.user.is_authenticated:
            # Authenticated by the session cookie, which a browser sends along with any
            # cross-site request: the request must prove it comes from our own page.
            refused = CsrfViewMiddleware(_never_called).process_view(
                request, _never_called, (), {}
            )
            if refused is not None:
                return _json_error(403, "CSRF check failed: send the X-CSRFToken header")
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return _json_error(400, "the body is not valid JSON")
        query = body.get("query") if isinstance(body, dict) else None
        if isinstance(query, str):
            errors = query_limit_errors(query)
            if errors:
                return JsonResponse({"errors": [{"message": e} for e in errors]}, status=400)
        rules = list(specified_rules)
        if not request.user.is_authenticated:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.validation_rules = tuple(rules)
        return super().dispatch(request, *args, **kwargs)
