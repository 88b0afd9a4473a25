"""Mutations for integration clients (read-write API tokens) and console users
with the right role: create an incident, move a dispatch on, add a note.

Each goes through incidents.services (the same validation, timeline, audit and
outbox as the consoles) and answers refusals as typed `errors` in its payload
(field, code, message) that a client can act on: never a 500, nothing saved.
Permission is declared once per mutation (`allowed`); a token without write
access, or a user without the role, gets a `forbidden` error and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphene

from core.errors import DomainError, NotFound
from incidents import policies
from incidents.graphql.queries import DispatchType, IncidentType
from incidents.services import dispatching
from incidents.services import incidents as incident_services
from integration.auth import token_of


class MutationError(graphene.ObjectType):
    field = graphene.String(description="The input field at fault, if one is")
    code = graphene.String(
        required=True, description="forbidden, not_found, invalid, conflict, ..."
    )
    message = graphene.String(required=True)


def _error(exc: DomainError) -> MutationError:
    return MutationError(field=exc.error_field() or None, code=exc.error_code(),
                         message=exc.error_message())


def _forbidden() -> MutationError:
    return MutationError(field=None, code="forbidden",
                         message="This token or account may not make this change.")


def _token_writes(user: Any) -> bool | None:
    """True/False for an API token (read-write or not); None for a console user."""
    token = token_of(user)
    return None if token is None else token.writes


def _may(user: Any, role_check: Callable[[Any], bool]) -> bool:
    writes = _token_writes(user)
    return bool(writes) if writes is not None else role_check(user)


def _actor(user: Any) -> Any:
    """Services record a person; a token acts as the system (its name is on the
    audit trail of its creation, and its requests are logged by prefix)."""
    return None if token_of(user) is not None else user


def _in_trial(info: Any) -> bool:
    return bool(getattr(getattr(info.context, "tenant", None), "in_trial", False))


class IncidentInput(graphene.InputObjectType):
    category = graphene.String(required=True, description="Category code, e.g. fire")
    description = graphene.String(required=True)
    latitude = graphene.Float()
    longitude = graphene.Float()
    address = graphene.String()
    kecamatan = graphene.String()
    kelurahan = graphene.String()
    caller = graphene.String(description="Caller's number (Indonesian format), if any")
    force = graphene.Boolean(description="Create even if a similar open incident exists")


class CreateIncidentPayload(graphene.ObjectType):
    incident = graphene.Field(IncidentType)
    created = graphene.Boolean(description="False when this request had already made it")
    duplicates = graphene.List(
        graphene.NonNull(IncidentType),
        description="Similar open incidents (errors code duplicate_incident)",
    )
    errors = graphene.List(graphene.NonNull(MutationError), required=True)


class CreateIncident(graphene.Mutation):
    class Arguments:
        input = IncidentInput(required=True)

    Output = CreateIncidentPayload

    @staticmethod
    def allowed(user: Any) -> bool:
        return _may(user, policies.can_create_incident)

    @staticmethod
    def mutate(root: Any, info: Any, input: IncidentInput) -> CreateIncidentPayload:
        user = info.context.user
        if not CreateIncident.allowed(user):
            return CreateIncidentPayload(errors=[_forbidden()])
        data = incident_services.IncidentInput(
            category=input.category,
            description=input.description,
            latitude=input.get("latitude"),
            longitude=input.get("longitude"),
            address=input.get("address") or "",
            kecamatan=input.get("kecamatan") or "",
            kelurahan=input.get("kelurahan") or "",
            caller=input.get("caller") or "",
        )
        try:
            result = incident_services.incident_create(
                data=data, actor=_actor(user), is_test=_in_trial(info),
                force=bool(input.get("force")),
            )
        except incident_services.DuplicateOffer as offer:
            return CreateIncidentPayload(errors=[_error(offer)], duplicates=offer.candidates)
        except DomainError as exc:
            return CreateIncidentPayload(errors=[_error(exc)])
        return CreateIncidentPayload(incident=result.incident, created=result.created, errors=[])


class DispatchPayload(graphene.ObjectType):
    dispatch = graphene.Field(DispatchType)
    errors = graphene.List(graphene.NonNull(MutationError), required=True)


class UpdateDispatchStatus(graphene.Mutation):
    """The next step of a dispatch: acknowledged -> departed -> arrived -> resolved.
    A responder moves their own agency's dispatches; a read-write token any of its
    Pemda's."""

    class Arguments:
        dispatch_id = graphene.ID(required=True)
        status = graphene.String(required=True)
        version = graphene.Int(description="The version you saw: refused if it changed since")
        outcome = graphene.String(description="Required to resolve")
        note = graphene.String()

    Output = DispatchPayload

    @staticmethod
    def allowed(user: Any) -> bool:
        return _may(user, policies.is_responder)

    @staticmethod
    def mutate(root: Any, info: Any, dispatch_id: str, status: str, version: int | None = None,
               outcome: str = "", note: str = "") -> DispatchPayload:
        user = info.context.user
        if not UpdateDispatchStatus.allowed(user):
            return DispatchPayload(errors=[_forbidden()])
        try:
            if token_of(user) is None:
                dispatch_pk = policies.access_dispatch_for_update(user, dispatch_id).pk
            else:
                try:
                    dispatch_pk = int(str(dispatch_id))
                except ValueError:
                    raise NotFound("No such dispatch.", field="dispatchId") from None
            dispatch = dispatching.dispatch_advance(
                dispatch_id=dispatch_pk, to_status=status, actor=_actor(user),
                expected_version=version, outcome=outcome or "", note=note or "",
            )
        except DomainError as exc:
            return DispatchPayload(errors=[_error(exc)])
        return DispatchPayload(dispatch=dispatch, errors=[])


class IncidentPayload(graphene.ObjectType):
    incident = graphene.Field(IncidentType)
    errors = graphene.List(graphene.NonNull(MutationError), required=True)


class AddNote(graphene.Mutation):
    class Arguments:
        incident_id = graphene.ID(required=True)
        text = graphene.String(required=True)

    Output = IncidentPayload

    @staticmethod
    def allowed(user: Any) -> bool:
        return _may(user, policies.can_create_incident)

    @staticmethod
    def mutate(root: Any, info: Any, incident_id: str, text: str) -> IncidentPayload:
        user = info.context.user
        if not AddNote.allowed(user):
            return IncidentPayload(errors=[_forbidden()])
        try:
            incident = policies.access_incident(user, incident_id)
            incident = incident_services.incident_note_add(
                incident_id=incident.pk, text=text, actor=_actor(user)
            )
        except DomainError as exc:
            return IncidentPayload(errors=[_error(exc)])
        return IncidentPayload(incident=incident, errors=[])


class IncidentMutation(graphene.ObjectType):
    create_incident = CreateIncident.Field()
    update_dispatch_status = UpdateDispatchStatus.Field()
    add_note = AddNote.Field()
