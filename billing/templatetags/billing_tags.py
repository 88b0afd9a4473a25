from typing import Any

from django import template

from billing.pricing import rupiah as _rupiah

register = template.Library()


@register.filter
def rupiah(value: Any) -> str:
    return _rupiah(value)


@register.filter
def qty(value: Any) -> str:
    """Quantities as Indonesians write them: 2,5 rather than 2.5000."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
