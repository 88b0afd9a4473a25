"""Invoices. Public site: the national officer sees every invoice and marks them
paid. A Pemda's site: its admin sees that Pemda's invoices only."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from billing import pdf, services
from billing.models import Invoice


def _role(user: Any) -> str:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return ""
    return str(getattr(user, "role", "") or "")


def can_manage_invoices(user: Any) -> bool:
    return _role(user) == Role.NATIONAL_OFFICER


def can_view_own_invoices(user: Any) -> bool:
    return _role(user) == Role.PEMDA_ADMIN


def _pdf_response(invoice: Invoice) -> HttpResponse:
    response = HttpResponse(pdf.invoice_pdf(invoice), content_type="application/pdf")
    name = invoice.number.replace("/", "-")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


def _get(query: Any, invoice_id: int) -> Invoice:
    invoice = query.select_related("tenant__region__parent").filter(pk=invoice_id).first()
    if invoice is None:
        raise Http404(_("No such invoice."))
    return invoice  # type: ignore[no-any-return]


# --- public site ------------------------------------------------------------------------


@login_required
@require_GET
def national_list(request: HttpRequest) -> HttpResponse:
    if not can_manage_invoices(request.user):
        raise PermissionDenied(_("Invoices are for the ministry's national officers."))
    query = Invoice.objects.select_related("tenant__region__parent")
    status = request.GET.get("status", "")
    if status in Invoice.Status.values:
        query = query.filter(status=status)
    return render(request, "billing/national_list.html",
                  {"invoices": query[:500], "status": status, "scope_title": _("Invoices")})


@login_required
@require_POST
def mark_paid(request: HttpRequest, invoice_id: int) -> HttpResponse:
    if not can_manage_invoices(request.user):
        raise PermissionDenied(_("Invoices are for the ministry's national officers."))
    invoice = _get(Invoice.objects, invoice_id)
    try:
        services.invoice_mark_paid(invoice_id=invoice.pk, actor=request.user)
        messages.success(request, _("Invoice %(number)s marked paid.") % {"number": invoice.number})
    except services.BillingError:
        messages.info(request, _("Invoice %(number)s was already paid.") % {
            "number": invoice.number})
    return redirect("billing_national")


@login_required
@require_GET
def national_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    if not can_manage_invoices(request.user):
        raise PermissionDenied(_("Invoices are for the ministry's national officers."))
    return _pdf_response(_get(Invoice.objects, invoice_id))


# --- a Pemda's site --------------------------------------------------------------------


def _own(request: HttpRequest) -> Any:
    tenant_id = getattr(getattr(request, "tenant", None), "pk", None) or 0
    return Invoice.objects.filter(tenant_id=tenant_id)


@login_required
@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    if not can_view_own_invoices(request.user):
        return render(request, "incidents/denied.html", status=403)
    return render(request, "billing/tenant_list.html", {"invoices": _own(request)})


@login_required
@require_GET
def tenant_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    if not can_view_own_invoices(request.user):
        return render(request, "incidents/denied.html", status=403)
    return _pdf_response(_get(_own(request), invoice_id))
