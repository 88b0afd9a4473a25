"""A Pemda's region outline (its kabupaten/kota and kecamatan), the console map's base
layer that needs no tile server.

An admin uploads a GeoJSON file (or an operator loads one with `siaga112
load_outlines`); it is checked whole before anything is written, so a bad file
leaves the previous outline in place, and simplified when large so every console
poll of the map stays light. Boundaries come from the Pemda's own sources (BIG's
RBI layers, the Bappeda's GIS); the platform ships none."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import record
from core.rules import INDONESIA_LAT, INDONESIA_LNG, in_indonesia
from incidents.errors import OperationError
from incidents.models import RegionOutline

logger = logging.getLogger(__name__)

# A whole kabupaten's kecamatan at survey resolution is a few MB; more is a
# province or a village layer uploaded by mistake.
OUTLINE_MAX_BYTES = 10 * 1024 * 1024
OUTLINE_MAX_FEATURES = 400
# What a console downloads once per page: above this many vertices the outline
# is simplified (Douglas-Peucker) until it fits. 20k vertices is ~300 KB of JSON.
OUTLINE_VERTEX_BUDGET = 20_000
# Five decimals of a degree is about a metre: finer than any outline needs.
COORDINATE_DECIMALS = 5

# Name attributes, in the order they are looked for: ours, then those of BIG's
# RBI layers (NAMOBJ, WADMKC), geoBoundaries (shapeName) and common exports.
NAME_KEYS = ("name", "nama", "kecamatan", "NAMOBJ", "WADMKC", "shapeName", "NAME")
PEMDA_KINDS = ("kabupaten", "kota")
KINDS = ("kecamatan", *PEMDA_KINDS)
AUDITED = ("feature_count", "vertex_count", "source_name", "etag")


def _refuse(message: str, *, field: str = "file", code: str | None = None,
            status: int = 400) -> OperationError:
    return OperationError(message, field=field, status=status, code=code)


def _where(index: int, name: str) -> str:
    return _("Feature %(n)d (%(name)s)") % {"n": index + 1, "name": name or "?"}


def _position(value: Any, where: str) -> list[float]:
    if (not isinstance(value, list) or len(value) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
            or not all(math.isfinite(v) for v in value[:2])):
        raise _refuse(_("%(where)s: %(value)s is not a [longitude, latitude] pair.")
                      % {"where": where, "value": json.dumps(value)[:60]})
    lng, lat = float(value[0]), float(value[1])
    if not in_indonesia(lat, lng):
        raise _refuse(
            _("%(where)s: the point [%(lng)s, %(lat)s] is outside Indonesia (latitude "
              "%(lat0)s..%(lat1)s, longitude %(lng0)s..%(lng1)s). Is the file in WGS 84 "
              "longitude/latitude, longitude first?")
            % {"where": where, "lng": value[0], "lat": value[1], "lat0": INDONESIA_LAT[0],
               "lat1": INDONESIA_LAT[1], "lng0": INDONESIA_LNG[0], "lng1": INDONESIA_LNG[1]})
    return [lng, lat]


def _ring(value: Any, where: str) -> list[list[float]]:
    if not isinstance(value, list) or len(value) < 4:
        raise _refuse(_("%(where)s: a ring needs at least 4 positions.") % {"where": where})
    ring = [_position(p, where) for p in value]
    if ring[0] != ring[-1]:
        raise _refuse(_("%(where)s: a ring is not closed (its first and last positions "
                        "differ).") % {"where": where})
    return ring


def _polygons(geometry: Any, where: str) -> list[list[list[list[float]]]]:
    if not isinstance(geometry, dict):
        raise _refuse(_("%(where)s has no geometry.") % {"where": where})
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise _refuse(_("%(where)s: the geometry is %(kind)s; only Polygon and MultiPolygon "
                        "outline an area.") % {"where": where, "kind": kind})
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise _refuse(_("%(where)s: the geometry has no coordinates.") % {"where": where})
    out = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise _refuse(_("%(where)s: a polygon has no rings.") % {"where": where})
        out.append([_ring(r, where) for r in polygon])
    return out


def check_size(size: int) -> None:
    """Refuse an oversized file, before reading it when the size is known."""
    if size > OUTLINE_MAX_BYTES:
        raise _refuse(_("The file is %(size)d bytes; at most %(max)d are accepted (one "
                        "kabupaten/kota and its kecamatan).")
                      % {"size": size, "max": OUTLINE_MAX_BYTES},
                      code="too_large", status=413)


def parse_outline(raw: bytes) -> list[dict[str, Any]]:
    """The features of an outline file, checked: [{name, kind, code, polygons}].
    Raises OperationError (field "file") naming the first thing that is wrong."""
    if not raw:
        raise _refuse(_("The file is empty."))
    check_size(len(raw))
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _refuse(_("The file is not UTF-8 text.")) from None
    except json.JSONDecodeError as exc:
        raise _refuse(_("The file is not valid JSON (line %(line)d, column %(col)d).")
                      % {"line": exc.lineno, "col": exc.colno}) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise _refuse(_("The file must be a GeoJSON FeatureCollection."))
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise _refuse(_("The FeatureCollection has no features."))
    if len(features) > OUTLINE_MAX_FEATURES:
        raise _refuse(_("%(count)d features; at most %(max)d (the kabupaten/kota and its "
                        "kecamatan).") % {"count": len(features), "max": OUTLINE_MAX_FEATURES})
    parsed = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise _refuse(_("%(where)s is not a GeoJSON Feature.")
                          % {"where": _where(index, "")})
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise _refuse(_("%(where)s: properties must be an object.")
                          % {"where": _where(index, "")})
        kind = str(props.get("kind") or "kecamatan").strip().lower()
        if kind not in KINDS:
            raise _refuse(_("%(where)s: kind %(kind)r is not one of %(kinds)s.")
                          % {"where": _where(index, ""), "kind": kind,
                             "kinds": ", ".join(KINDS)})
        name = next((str(props[k]).strip() for k in NAME_KEYS
                     if isinstance(props.get(k), str) and props[k].strip()), "")
        if kind == "kecamatan" and not name:
            raise _refuse(_("%(where)s: a kecamatan needs a name property (one of %(keys)s).")
                          % {"where": _where(index, ""), "keys": ", ".join(NAME_KEYS)})
        code = str(props.get("code") or props.get("kode") or "").strip()[:20]
        parsed.append({"name": name[:100], "kind": kind, "code": code,
                       "polygons": _polygons(feature.get("geometry"), _where(index, name))})
    return parsed


def _perpendicular(p: list[float], a: list[float], b: list[float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return math.hypot(p[0] - a[0], p[1] - a[1])
    return abs(dy * p[0] - dx * p[1] + b[0] * a[1] - b[1] * a[0]) / math.hypot(dx, dy)


def simplify_ring(ring: list[list[float]], tolerance: float) -> list[list[float]]:
    """Douglas-Peucker, iterative (a coastline ring has 10^5 points: no recursion)."""
    if len(ring) <= 4:
        return ring
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    stack = [(0, len(ring) - 1)]
    while stack:
        first, last = stack.pop()
        far, far_at = 0.0, -1
        for i in range(first + 1, last):
            d = _perpendicular(ring[i], ring[first], ring[last])
            if d > far:
                far, far_at = d, i
        if far_at >= 0 and far > tolerance:
            keep[far_at] = True
            stack.append((first, far_at))
            stack.append((far_at, last))
    return [p for p, kept in zip(ring, keep, strict=True) if kept]


def _rounded(ring: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for lng, lat in ring:
        p = [round(lng, COORDINATE_DECIMALS), round(lat, COORDINATE_DECIMALS)]
        if not out or out[-1] != p:
            out.append(p)
    return out


def _simplified(polygons: list, tolerance: float) -> list:
    out = []
    for polygon in polygons:
        rings = [_rounded(simplify_ring(r, tolerance) if tolerance else r) for r in polygon]
        if len(rings[0]) < 4:
            continue  # an islet smaller than the tolerance: not worth a vertex
        out.append([rings[0], *[r for r in rings[1:] if len(r) >= 4]])
    if not out:
        # Never lose a whole kecamatan to simplification: keep its largest part as is.
        largest = max(polygons, key=lambda p: len(p[0]))
        out = [[_rounded(largest[0])]]
    return out


def vertex_count(features: list[dict[str, Any]]) -> int:
    return sum(len(r) for f in features for p in f["polygons"] for r in p)


def simplify_outline(features: list[dict[str, Any]],
                     budget: int = OUTLINE_VERTEX_BUDGET) -> list[dict[str, Any]]:
    """Rounded to a metre, then simplified with a growing tolerance until the
    vertices fit the budget (from ~10 m to ~1 km: beyond that a kecamatan would
    lose its shape, and the outline is served as it is)."""
    # Rounding alone drops only repeated points: far over budget, start simplifying.
    tolerance = 0.0001 if vertex_count(features) > 2 * budget else 0.0
    while True:
        result = [{**f, "polygons": _simplified(f["polygons"], tolerance)} for f in features]
        if vertex_count(result) <= budget or tolerance >= 0.01:
            return result
        tolerance = 0.0001 if not tolerance else tolerance * 2


def outline_geojson(features: list[dict[str, Any]]) -> str:
    """The served text: a FeatureCollection, Pemda outline first so the kecamatan
    are drawn over it."""
    ordered = sorted(features, key=lambda f: f["kind"] == "kecamatan")
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": f["name"], "kind": f["kind"], "code": f["code"]},
                "geometry": (
                    {"type": "Polygon", "coordinates": f["polygons"][0]}
                    if len(f["polygons"]) == 1
                    else {"type": "MultiPolygon", "coordinates": f["polygons"]}
                ),
            }
            for f in ordered
        ],
    }
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"))


@transaction.atomic
def outline_replace(*, actor: User | None, raw: bytes, source_name: str) -> RegionOutline:
    """Check, simplify and store the Pemda's outline in place of the previous one;
    audited. Nothing is written unless the whole file is good."""
    features = simplify_outline(parse_outline(raw))
    text = outline_geojson(features)
    current = RegionOutline.objects.select_for_update().filter(pk=1).first()
    before = ({k: getattr(current, k) for k in AUDITED} if current is not None else {})
    outline = current or RegionOutline(pk=1)
    outline.geojson = text
    outline.etag = hashlib.sha256(text.encode()).hexdigest()[:32]
    outline.feature_count = len(features)
    outline.vertex_count = vertex_count(features)
    outline.source_name = source_name.strip()[:200]
    outline.save()
    record(actor=actor, action="outline.replaced", target=outline, before=before,
           after={k: getattr(outline, k) for k in AUDITED})
    logger.info("outline.replaced", extra={"features": outline.feature_count,
                                           "vertices": outline.vertex_count,
                                           "by": actor.pk if actor else None})
    return outline
