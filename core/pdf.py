"""PDF from HTML (WeasyPrint, Pango underneath): invoices and the Bupati's report."""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    import weasyprint  # heavy import, only when a PDF is asked for

    return weasyprint.HTML(string=html).write_pdf()  # type: ignore[no-any-return]
