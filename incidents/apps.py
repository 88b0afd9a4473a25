from typing import Any

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "112 operations"

    def ready(self) -> None:
        self._live_counters()
        # An OPD responder's agency is ours; accounts (below us) saves staff and
        # calls this hook in the same transaction.
        from django.utils.translation import gettext_lazy as _

        from accounts.services import StaffAttachment, staff_attachment_register
        from incidents import selectors
        from incidents.services.setup import responder_agency_attach

        staff_attachment_register(
            StaffAttachment(
                field="agency",
                label=_("Agency (responders)"),
                options=selectors.agency_options,
                current=selectors.responder_agency_ids,
                audited=selectors.responder_agency_code,
                attach=responder_agency_attach,
            )
        )

    @staticmethod
    def _live_counters() -> None:
        # Every save of what a console shows bumps its Pemda's change counter after
        # commit (incidents.live); the services write with save(), so signals see all.
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save

        from incidents import live
        from incidents.models import Call, Dispatch, Incident

        def bump(kind: str):  # type: ignore[no-untyped-def]
            def receiver(sender: object, **kwargs: object) -> None:
                live.changed(kind)

            return receiver

        def signed_out(sender: object, request: Any = None, **kwargs: object) -> None:
            # A signed-out session gets no early 304, not even for the rest of its minute.
            session_key = getattr(getattr(request, "session", None), "session_key", None)
            if request is not None and session_key:
                live.scope_drop(request.META.get("HTTP_HOST", ""), session_key)

        def presence_away(sender: object, user: Any = None, **kwargs: object) -> None:
            # Signing out leaves the line: calls are no longer offered to this user first.
            from incidents.services.presence import presence_signed_out
            from tenants.db import current_schema

            if user is not None and current_schema() not in ("", "public"):
                presence_signed_out(user=user)

        user_logged_out.connect(signed_out, weak=False, dispatch_uid="live-signed-out")
        user_logged_out.connect(presence_away, weak=False, dispatch_uid="presence-signed-out")
        for model, kind in ((Call, live.CALLS), (Incident, live.INCIDENTS),
                            (Dispatch, live.DISPATCHES)):
            receiver = bump(kind)
            post_save.connect(receiver, sender=model, weak=False,
                              dispatch_uid=f"live-{kind}-save")
            post_delete.connect(receiver, sender=model, weak=False,
                                dispatch_uid=f"live-{kind}-delete")
