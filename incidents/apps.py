from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "112 operations"

    def ready(self) -> None:
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
