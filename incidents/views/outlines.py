"""The Pemda's region outline: the admin's upload page, and the GeoJSON the console
map draws as its base layer (no tile server needed)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.errors import Invalid
from core.http import done
from incidents import policies
from incidents.models import RegionOutline
from incidents.services import outlines
from incidents.views.common import acting_user, allowed

# The outline changes rarely; a console revalidates it at most every few minutes
# and gets a 304 when it is unchanged. Private: it is served behind a login.
OUTLINE_MAX_AGE_SECONDS = 300


@allowed(policies.can_administer)
def manage_outlines(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            raise Invalid(_("Choose a GeoJSON file to upload."), field="file")
        if upload.size is not None:
            outlines.check_size(upload.size)  # before reading it into memory
        outline = outlines.outline_replace(
            actor=acting_user(request), raw=upload.read(), source_name=upload.name or "")
        return done(request, reverse("manage_outlines"),
                    {"features": outline.feature_count, "vertices": outline.vertex_count,
                     "etag": outline.etag})
    return render(request, "incidents/manage/outlines.html", {
        "outline": RegionOutline.objects.filter(pk=1).defer("geojson").first(),
        "max_mb": outlines.OUTLINE_MAX_BYTES // (1024 * 1024),
        "name_keys": outlines.NAME_KEYS,
    })


@allowed(policies.can_view_outline)
@require_GET
def map_outlines(request: HttpRequest) -> HttpResponse:
    outline = RegionOutline.objects.filter(pk=1).only("etag").first()
    if outline is None:
        # No outline loaded yet: an empty layer, and the map still works.
        response = HttpResponse('{"type":"FeatureCollection","features":[]}',
                                content_type="application/geo+json")
    else:
        sent = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
        if f'"{outline.etag}"' in sent:
            response = HttpResponseNotModified()
            etag = outline.etag
        else:
            # The tag and the text read together: a replace in between cannot pair
            # the new text with the old tag.
            etag, text = RegionOutline.objects.values_list("etag", "geojson").get(pk=1)
            response = HttpResponse(text, content_type="application/geo+json")
        response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = f"private, max-age={OUTLINE_MAX_AGE_SECONDS}"
    response["Vary"] = "Cookie"
    return response
