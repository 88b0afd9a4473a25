"""NENA EIDO over GraphQL on the tenant endpoint: `incidentEido(id)` (the document
as JSON) and `importEido(document)`. Thin: the same policies, export and import
service as GET/POST /api/eido/incidents/."""

from __future__ import annotations

from typing import Any

import graphene

from core.errors import DomainError, Forbidden
from incidents import policies
from incidents.eido.export import incident_eido
from incidents.services.eido_exchange import EidoInvalid, incident_import_eido
from tenants.db import current_schema


class EidoQuery(graphene.ObjectType):
    incident_eido = graphene.Field(
        graphene.JSONString, id=graphene.ID(required=True),
        description="The incident as a NENA-STA-021 EIDO document (JSON).",
    )

    @staticmethod
    def resolve_incident_eido(root: Any, info: Any, id: str) -> dict[str, Any]:
        user = info.context.user
        # The same NotFound for a role without incidents, a missing and a hidden one.
        incident = policies.access_incident(
            user if policies.can_view_incidents(user) else None, id)
        return incident_eido(user=user, incident=incident, schema=current_schema())


class EidoImportError(graphene.ObjectType):
    path = graphene.String(required=True, description="JSON path, e.g. $.callComponent[0]")
    message = graphene.String(required=True)
    code = graphene.String(required=True)


class ImportEido(graphene.Mutation):
    """Create or update an incident from an EIDO document (idempotent by its $id).
    A document that does not validate comes back in `errors`, nothing saved."""

    class Arguments:
        document = graphene.JSONString(required=True)

    incident_id = graphene.ID()
    reference = graphene.String()
    created = graphene.Boolean()
    notes_added = graphene.Int()
    errors = graphene.List(graphene.NonNull(EidoImportError), required=True)

    @staticmethod
    def mutate(root: Any, info: Any, document: Any) -> ImportEido:
        user = info.context.user
        if not policies.can_create_incident(user):
            raise Forbidden("Your role may not import incidents.")
        try:
            result = incident_import_eido(document=document, actor=user,
                                          schema=current_schema())
        except EidoInvalid as exc:
            return ImportEido(errors=[EidoImportError(path=p, message=m, code=exc.error_code())
                                      for p, m in exc.errors])
        except DomainError as exc:
            return ImportEido(errors=[EidoImportError(path=exc.error_field() or "$",
                                                      message=exc.error_message(),
                                                      code=exc.error_code())])
        return ImportEido(incident_id=result.incident.pk, reference=result.incident.reference,
                          created=result.created, notes_added=result.notes_added, errors=[])


class EidoMutation(graphene.ObjectType):
    import_eido = ImportEido.Field()
