"""Reading the shape of what a person posted (a form or a JSON body). Whether a
value is allowed is the services' business."""

from __future__ import annotations

from typing import Any

TRUE = ("1", "on", "true", "True")


def checked(data: dict[str, Any], name: str, *, default: bool = False) -> bool:
    """A checkbox or a JSON flag; `default` when the field is missing."""
    if name not in data:
        return default
    return str(data.get(name, "")) in TRUE


def optional_id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def as_list(value: Any) -> list[Any]:
    """A multi-select: one value, several, or none."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]
