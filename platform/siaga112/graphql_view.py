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
  used twice costs twice), operations per document, and an estimated cost
  (each list multiplies what is selected under it by its first/last, or by the
  page maximum) against the schema.
- API tokens (integration.auth): an unknown, revoked or expired token, or one
  presented on a host outside its scope, is a 401 JSON answer saying which;
  each token has its own rate limit (throttle.py's Redis counter).
- A mutation sent with an `Idempotency-Key` header is answered once per key and
  Pemda: a retry with the same body gets the stored answer, another body under
  the same key 422.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.module_loading import import_string
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    parse,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from core.errors import DomainError
from core.graphql import GraphQLView
from integration.services import idempotency_lookup, idempotency_store
from siaga112 import throttle
from tenants.db import current_schema


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


# A list field without first/last is assumed to hold this many rows.
LIST_ESTIMATE = 10


def _is_list(gql_type: Any) -> bool:
    while isinstance(gql_type, GraphQLNonNull):
        gql_type = gql_type.of_type
    return isinstance(gql_type, GraphQLList)


def _page_argument(field: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            raw = variables.get(value.name.value)
            if isinstance(raw, int):
                return raw
    return None


def _estimated_cost(
    selection_set: SelectionSetNode,
    parent: Any,
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    stack: frozenset[str],
) -> int:
    """Rows a selection may touch: 1 per field, times the rows of the list it is in.
    A connection counts its first/last (or the page maximum) once, at the connection
    field; its `edges` list does not multiply again. Unknown fields cost 1 (the
    validation step names them)."""
    total = 0
    fields = getattr(parent, "fields", {}) or {}
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            field_def = fields.get(selection.name.value)
            if field_def is None or selection.selection_set is None:
                total += 1
                continue
            named = get_named_type(field_def.type)
            is_connection = named.name.endswith("Connection")
            inside_connection = getattr(parent, "name", "").endswith("Connection")
            page = _page_argument(selection, variables)
            if is_connection:
                rows = page if page is not None else limits()["MAX_PAGE"]
            elif _is_list(field_def.type) and not inside_connection:
                rows = page if page is not None else LIST_ESTIMATE
            else:
                rows = 1
            child = (_estimated_cost(selection.selection_set, named, schema, fragments,
                                     variables, stack) if is_composite_type(named) else 0)
            total += max(rows, 1) * (1 + child)
        elif isinstance(selection, InlineFragmentNode):
            target = (schema.get_type(selection.type_condition.name.value)
                      if selection.type_condition else parent)
            total += _estimated_cost(selection.selection_set, target or parent, schema,
                                     fragments, variables, stack)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in stack:
                continue
            target = schema.get_type(fragment.type_condition.name.value) or parent
            total += _estimated_cost(fragment.selection_set, target, schema, fragments,
                                     variables, stack | {name})
    return total


def query_cost_errors(query: str, schema: GraphQLSchema, variables: dict[str, Any]) -> list[str]:
    """Operations per document and the estimated cost, as sentences ([] if within)."""
    try:
        document = parse(query, max_tokens=limits()["MAX_TOKENS"])
    except GraphQLError:
        return []  # query_limit_errors and graphene report it
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    errors: list[str] = []
    if len(operations) > limits()["MAX_OPERATIONS"]:
        errors.append(f"the document has {len(operations)} operations; "
                      f"at most {limits()['MAX_OPERATIONS']} allowed")
        return errors
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    roots = {OperationType.QUERY: schema.query_type, OperationType.MUTATION: schema.mutation_type,
             OperationType.SUBSCRIPTION: schema.subscription_type}
    for operation in operations:
        root = roots.get(operation.operation)
        if root is None:
            continue
        cost = _estimated_cost(operation.selection_set, root, schema, fragments, variables,
                               frozenset())
        if cost > limits()["MAX_COST"]:
            errors.append(f"query cost is {cost}; at most {limits()['MAX_COST']} allowed "
                          "(lower first/last or select fewer nested lists)")
    return errors


def _is_mutation(query: str, operation_name: str | None) -> bool:
    try:
        document = parse(query, max_tokens=limits()["MAX_TOKENS"])
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for operation in operations:
        if operation_name and (operation.name is None or operation.name.value != operation_name):
            continue
        return operation.operation == OperationType.MUTATION
    return False


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
        try:
            token_user = self.authenticate_token(request)
        except DomainError as exc:
            return JsonResponse(
                {"errors": [{"message": exc.error_message(),
                             "extensions": exc.extensions}]},
                status=exc.error_status(),
            )
        if token_user is not None:
            request.user = token_user
            token = getattr(token_user, "api_token", None)
            if (token is not None and settings.THROTTLE.get("ENABLED", True)
                    and "GRAPHQL_REQUESTS_PER_TOKEN" in settings.THROTTLE):
                per_token = throttle.rule("GRAPHQL_REQUESTS_PER_TOKEN")
                wait = throttle.hit(per_token, token.prefix)
                if wait is not None:
                    return _json_error(429, "too many requests for this API token",
                                       **{"Retry-After": str(wait)})
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
        if isinstance(body, list):
            return _json_error(400, "send one operation per request, not a batch")
        query = body.get("query") if isinstance(body, dict) else None
        variables = body.get("variables") if isinstance(body, dict) else None
        if not isinstance(variables, dict):
            variables = {}
        if isinstance(query, str):
            errors = query_limit_errors(query) or query_cost_errors(
                query, self.schema.graphql_schema, variables
            )
            if errors:
                return JsonResponse({"errors": [{"message": e} for e in errors]}, status=400)
        rules = list(specified_rules)
        if not request.user.is_authenticated:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.validation_rules = tuple(rules)
        key = request.headers.get("Idempotency-Key", "").strip()
        operation_name = body.get("operationName") if isinstance(body, dict) else None
        if key and isinstance(query, str) and _is_mutation(query, operation_name):
            return self._idempotent(request, key, body, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def _idempotent(
        self, request: HttpRequest, key: str, body: dict, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        """The mutation and its stored answer in one transaction, serialised per key."""
        request_hash = hashlib.sha256(json.dumps(
            {k: body.get(k) for k in ("query", "variables", "operationName")},
            sort_keys=True, separators=(",", ":"),
        ).encode()).hexdigest()
        schema_name = current_schema()
        try:
            with transaction.atomic():
                stored = idempotency_lookup(
                    schema_name=schema_name, key=key, request_hash=request_hash
                )
                if stored is not None:
                    response = JsonResponse(stored["body"], status=int(stored["status"]))
                    response["Idempotent-Replayed"] = "true"
                    return response
                response = super().dispatch(request, *args, **kwargs)
                answer = json.loads(response.content) if response.status_code == 200 else {}
                # A refusal in the payload (typed errors) is an answer and is kept; a
                # GraphQL error (a failure, a bad variable) is not: a retry runs again.
                if response.status_code == 200 and not answer.get("errors"):
                    idempotency_store(
                        schema_name=schema_name, key=key, request_hash=request_hash,
                        response={"status": 200, "body": answer},
                    )
                return response
        except DomainError as exc:
            return JsonResponse(
                {"errors": [{"message": exc.error_message(), "extensions": exc.extensions}]},
                status=exc.error_status(),
            )
