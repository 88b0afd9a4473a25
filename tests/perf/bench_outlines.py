"""Benchmark: what checking and simplifying a large region outline costs.

A survey-resolution kabupaten made up here (30 wavy kecamatan rings of 8,000
points each, ~10 MB of GeoJSON: near the upload cap) goes through
incidents.services.outlines' parse and simplify, as an upload does, without a
database. Prints seconds and the served size; asserts nothing about time.

    .venv/bin/python -m tests.perf.bench_outlines
"""

from __future__ import annotations

import json
import math
import os
import sys
import time


def _collection(areas: int = 30, points: int = 8000) -> bytes:
    features = []
    for k in range(areas):
        cx, cy = 98.0 + (k % 6) * 0.1, 2.5 + (k // 6) * 0.1
        ring = []
        for i in range(points):
            a = 2 * math.pi * i / points
            r = 0.045 + 0.002 * math.sin(40 * a)
            ring.append([cx + r * math.cos(a), cy + r * math.sin(a)])
        ring.append(ring[0])
        features.append({"type": "Feature", "properties": {"name": f"Bench {k}"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga112.settings")
    import django

    django.setup()
    from incidents.services import outlines

    raw = _collection()
    started = time.perf_counter()
    parsed = outlines.parse_outline(raw)
    checked = time.perf_counter()
    simple = outlines.simplify_outline(parsed)
    done = time.perf_counter()
    text = outlines.outline_geojson(simple)
    sys.stdout.write(
        f"outline: input {len(raw) / 1e6:.1f} MB, {outlines.vertex_count(parsed)} points; "
        f"check {checked - started:.2f} s, simplify {done - checked:.2f} s; served "
        f"{len(text) / 1e3:.0f} KB, {outlines.vertex_count(simple)} points\n")


if __name__ == "__main__":
    main()
