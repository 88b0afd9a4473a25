"""Invoice PDFs, rendered from HTML by WeasyPrint (Pango underneath)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from billing.models import Invoice
from core.pdf import html_to_pdf


def invoice_pdf(invoice: Invoice) -> bytes:
    # Invoices are legal documents in Indonesian, whatever the reader's UI language.
    with translation.override("id"):
        html = render_to_string("billing/invoice_pdf.html", {
            "invoice": invoice,
            "lines": list(invoice.lines.all()),
            "region": invoice.tenant.region,
        })
    return html_to_pdf(html)
