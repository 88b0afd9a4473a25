"""The NENA-STA-021 EIDO schema (OpenAPI 3 with NIEM components), as vendored in
incidents/eido/data/ (see its SOURCE.txt), and validation against it.

The OpenAPI document is not a JSON Schema document by itself: its component
schemas are. We validate with jsonschema's Draft 4 validator (OpenAPI 3.0 schema
objects are a Draft 4 dialect) and resolve the `NIEMComponents/*.yaml` references
from files, lazily: a document without person or vehicle components never loads
the 700 kB NIEM justice file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

DATA_DIR = Path(__file__).resolve().parent / "data"
OPENAPI = DATA_DIR / "openapi.yaml"
ROOT_SCHEMA = "EmergencyIncidentDataObjectType"
# A made-up base so relative refs ("NIEMComponents/nc.yaml#/...") resolve to files.
BASE_URI = "file:///eido/"
MAX_ERRORS = 20

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class SchemaError:
    """One problem with a document: where (a JSON path such as
    `$.callComponent[0].direction`) and what."""

    path: str
    message: str


def _load_yaml(path: Path) -> Any:
    with path.open("rb") as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - SafeLoader (C or Python)


def _repair(node: Any) -> Any:
    """Upstream defects that make a validator crash rather than report: AgentType
    says `minItems: 1,` (a YAML string). Read as the integer it means."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("minItems", "maxItems") and isinstance(value, str):
                node[key] = int(value.strip().rstrip(","))
            else:
                _repair(value)
    elif isinstance(node, list):
        for item in node:
            _repair(item)
    return node


def _retrieve(uri: str) -> Resource[Any]:
    if not uri.startswith(BASE_URI):
        raise LookupError(f"EIDO schema reference outside the vendored files: {uri}")
    relative = uri[len(BASE_URI):]
    path = (DATA_DIR / relative).resolve()
    # NIEM files refer to each other as "j.yaml" from inside NIEMComponents/, and
    # the OpenAPI file once as "NIEMComponents//j.yaml": normalise, stay inside DATA_DIR.
    if DATA_DIR not in path.parents:
        raise LookupError(f"EIDO schema reference outside the vendored files: {uri}")
    return Resource.from_contents(_repair(_load_yaml(path)), default_specification=DRAFT4)


@cache
def _validator() -> Draft4Validator:
    openapi = _repair(_load_yaml(OPENAPI))
    root_uri = urljoin(BASE_URI, "openapi.yaml")
    registry: Registry[Any] = Registry(retrieve=_retrieve).with_resource(  # type: ignore[call-arg]
        root_uri, Resource.from_contents(openapi, default_specification=DRAFT4)
    )
    schema = {"$ref": f"{root_uri}#/components/schemas/{ROOT_SCHEMA}"}
    return Draft4Validator(schema, registry=registry)


def json_path(parts: Any) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def eido_schema_errors(document: Any) -> list[SchemaError]:
    """Every schema violation of `document` (at most MAX_ERRORS), deepest first
    per branch; an empty list when it is a valid EIDO."""
    errors = sorted(
        _validator().iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)))
    )
    found = []
    for error in errors[:MAX_ERRORS]:
        # allOf/anyOf wrappers report the leaf problem in their context.
        leaf = min(error.context or [error], key=lambda e: -len(e.absolute_path))
        found.append(SchemaError(json_path(leaf.absolute_path), leaf.message[:300]))
    return found
