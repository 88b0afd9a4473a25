"""The national console: thin views over selectors, services and policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from accounts.models import Role
from onboarding import exports, forms, policies, selectors, services
from onboarding.models import STAGE_ORDER, PemdaOnboarding, Stage
from tenants.models import Region

STAGE_COLOURS = {
    "not_started": "#adb5bd",
    "application": "#6f42c1",
    "verification": "#0d6efd",
    "installation": "#0dcaf0",
    "training": "#fd7e14",
    "trial": "#ffc107",
    "launched": "#198754",
}


def access_pemda(user: Any, region_code: str) -> PemdaOnboarding:
    """The Pemda's onboarding if `user` may read it; the same 404 otherwise."""
    onboarding = selectors.onboarding_get(region_code)
    if onboarding is None or not policies.can_view_pemda(user, onboarding.region):
        raise Http404(_("No such Pemda."))
    return onboarding


def access_province(user: Any, code: str) -> Region:
    province = Region.objects.filter(pk=code, kind=Region.Kind.PROVINCE).first()
    if province is None or not policies.can_view_province(user, province):
        raise Http404(_("No such province."))
    return province


def _colours() -> dict[str, str]:
    return dict(STAGE_COLOURS)


def _stage_list() -> list[dict[str, str]]:
    return [
        {"value": s.value, "label": str(s.label), "colour": STAGE_COLOURS[s.value]} for s in Stage
    ]


def _overview(province_code: str | None) -> dict[str, Any]:
    counts = selectors.stage_counts(province_code=province_code)
    total = sum(counts.values())
    over_time = selectors.launches_over_time(province_code=province_code)
    stalled = selectors.stalled(province_code=province_code)
    return {
        "counts": [(s, counts[s.value], STAGE_COLOURS[s.value]) for s in Stage],
        "launched": counts[Stage.LAUNCHED],
        "total": total,
        "national_total": selectors.total_regencies(),
        "province_rows": selectors.province_rows(province_code=province_code),
        "funnel": selectors.funnel(counts),
        "chart": {
            "labels": [m for m, _n, _c in over_time],
            "monthly": [n for _m, n, _c in over_time],
            "cumulative": [c for _m, _n, c in over_time],
        },
        "median_days": selectors.median_days_per_stage(province_code=province_code),
        "stalled": list(stalled[:25]),
        "stalled_count": stalled.count(),
        "stalled_days": selectors.stalled_after_days(),
        "map_points": selectors.map_points(province_code=province_code),
        "stages": _stage_list(),
        "stage_colours": _colours(),
        "stage_order": STAGE_ORDER,
    }


@login_required
def console_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if getattr(user, "role", "") == Role.PEMDA_COORDINATOR and getattr(user, "region_id", None):
        return redirect("onboarding_pemda", code=user.region_id)  # type: ignore[union-attr]
    scope = policies.province_scope(user)
    if scope:
        return redirect("onboarding_province", code=scope)
    if not policies.can_view_console(user):
        raise PermissionDenied(_("This console is for ministry and provincial officers."))
    context = _overview(None)
    context["scope_title"] = _("Indonesia")
    return render(request, "onboarding/console.html", context)


@login_required
def province_page(request: HttpRequest, code: str) -> HttpResponse:
    province = access_province(request.user, code)
    context = _overview(province.code)
    context["province"] = province
    context["scope_title"] = province.name
    return render(request, "onboarding/console.html", context)


def _filters(request: HttpRequest) -> selectors.PemdaFilter:
    stage = request.GET.get("stage", "")
    return selectors.PemdaFilter(
        q=request.GET.get("q", "").strip()[:100],
        province=request.GET.get("province", "").strip()[:8],
        stage=stage if stage in STAGE_ORDER else "",
        stalled=request.GET.get("stalled") in {"1", "on", "true"},
        sort=selectors.sort_param(request.GET.get("sort", "").strip()[:20]),
    )


def _list_scope(user: Any) -> str | None:
    if policies.can_view_console(user):
        return None
    scope = policies.province_scope(user)
    if scope:
        return scope
    raise PermissionDenied(_("The list of Pemda is for ministry and provincial officers."))


def _province_name(code: str) -> str:
    if not code:
        return ""
    return Region.objects.filter(pk=code).values_list("name", flat=True).first() or ""


# Column headers of the list: (sort key or "", label, numeric). Lazy: read per request.
LIST_COLUMNS = [
    ("code", _lazy("Code"), False),
    ("name", _lazy("Kabupaten/Kota"), False),
    ("province", _lazy("Province"), False),
    ("stage", _lazy("Stage"), False),
    ("days", _lazy("Days in stage"), True),
    ("", _lazy("Launched"), False),
    ("", _lazy("Launch no."), True),
    ("updated", _lazy("Last updated"), False),
]


def _sort_links(filters: selectors.PemdaFilter) -> list[dict[str, Any]]:
    """One header per column: its link flips the direction when already sorted by it."""
    base = filters.as_query(with_sort=False)
    current = filters.sort or "code"
    out = []
    for key, label, numeric in LIST_COLUMNS:
        if not key:
            out.append({"label": label, "key": "", "end": numeric})
            continue
        active = current.lstrip("-") == key
        descending = active and current.startswith("-")
        target = key if (not active or descending) else f"-{key}"
        out.append(
            {
                "label": label,
                "key": key,
                "end": numeric,
                "href": "?" + urlencode({**base, "sort": target}),
                "active": active,
                "aria": ("descending" if descending else "ascending") if active else "none",
                "arrow": ("▼" if descending else "▲") if active else "",
            }
        )
    return out


@login_required
def pemda_list(request: HttpRequest) -> HttpResponse:
    scope = _list_scope(request.user)
    filters = _filters(request)
    rows = selectors.pemda_rows(filters, scope_province=scope)
    fmt = request.GET.get("format", "")
    if fmt in {"csv", "xlsx"}:
        name = exports.file_name(filters, _province_name(filters.province or scope or ""), fmt)
        if fmt == "csv":
            response = HttpResponse(exports.as_csv(rows), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(exports.as_xlsx(rows), content_type=exports.XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    provinces = Region.objects.filter(kind=Region.Kind.PROVINCE)
    if scope:
        provinces = provinces.filter(code=scope)
    filtered = bool(filters.as_query(with_sort=False))
    return render(
        request,
        "onboarding/pemda_list.html",
        {
            "rows": rows,
            "filters": filters,
            "filtered": filtered,
            "columns": _sort_links(filters),
            "provinces": provinces,
            "stages": _stage_list(),
            "stage_colours": _colours(),
            "export_query": urlencode(filters.as_query()),
            "stalled_days": selectors.stalled_after_days(),
        },
    )


# --- the Pemda page -----------------------------------------------------------------

FORM_CLASSES: dict[str, type[djforms.Form]] = {
    "advance": forms.AdvanceForm,
    "send_back": forms.SendBackForm,
    "comment": forms.CommentForm,
    "application": forms.ApplicationForm,
    "verification": forms.VisitForm,
    "routing": forms.RoutingForm,
    "installation": forms.InstallationForm,
    "training": forms.TrainingForm,
    "trial_call": forms.TrialCallForm,
    "launch": forms.LaunchForm,
    "regulation": forms.RegulationForm,
}


def _allowed(user: Any, onboarding: PemdaOnboarding, action: str) -> bool:
    region = onboarding.region
    if action == "advance":
        return policies.can_advance(user, region, onboarding.stage)
    if action == "send_back":
        return policies.can_send_back(user, region)
    if action == "comment":
        return policies.can_comment(user, region)
    return policies.can_edit_evidence(user, region, action)


def _initial_forms(onboarding: PemdaOnboarding) -> dict[str, djforms.Form]:
    app = selectors.application_of(onboarding)
    app_initial: dict[str, Any] = {}
    if app is not None:
        app_initial = {
            f: getattr(app, f)
            for f in (
                "letter_number",
                "letter_date",
                "contact_name",
                "contact_phone",
                "contact_email",
                "network_scheme",
                "address",
                "latitude",
                "longitude",
            )
        }
    launch = getattr(onboarding, "launch", None) if hasattr(onboarding, "launch") else None
    regulation = (
        getattr(onboarding, "regulation", None) if hasattr(onboarding, "regulation") else None
    )
    all_forms: dict[str, djforms.Form] = {
        "advance": forms.AdvanceForm(
            auto_id="advance-%s", initial={"expected_version": onboarding.version}
        ),
        "send_back": forms.SendBackForm(
            auto_id="send_back-%s", initial={"expected_version": onboarding.version}
        ),
        "comment": forms.CommentForm(auto_id="comment-%s"),
        "application": forms.ApplicationForm(auto_id="application-%s", initial=app_initial),
        "verification": forms.VisitForm(auto_id="verification-%s"),
        "routing": forms.RoutingForm(auto_id="routing-%s"),
        "installation": forms.InstallationForm(
            auto_id="installation-%s", initial={"installed_on": onboarding.installed_on}
        ),
        "training": forms.TrainingForm(auto_id="training-%s"),
        "trial_call": forms.TrialCallForm(auto_id="trial_call-%s"),
        "launch": forms.LaunchForm(
            initial={
                "launched_on": launch.launched_on,
                "launched_by": launch.launched_by,
                "press_link": launch.press_link,
            }
            if launch
            else {}
        ),
        "regulation": forms.RegulationForm(
            initial={
                "kind": regulation.kind,
                "number": regulation.number,
                "enacted_on": regulation.enacted_on,
            }
            if regulation
            else {"kind": "perwali" if onboarding.region.is_city else "perbup"}
        ),
    }
    # Many forms share field names on one page: give every id its form's prefix.
    for action, form in all_forms.items():
        form.auto_id = f"{action}-%s"
    return all_forms


def _render_pemda(
    request: HttpRequest,
    onboarding: PemdaOnboarding,
    *,
    bound: tuple[str, djforms.Form] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    all_forms = _initial_forms(onboarding)
    if bound is not None:
        all_forms[bound[0]] = bound[1]
    can = {action: _allowed(user, onboarding, action) for action in FORM_CLASSES}
    app = selectors.application_of(onboarding)
    ordinal = selectors.launch_ordinals().get(onboarding.region_id)
    index = STAGE_ORDER.index(onboarding.stage)
    steps = [
        {"value": s.value, "label": s.label, "done": i < index, "current": i == index}
        for i, s in enumerate(Stage)
    ]
    context = {
        "ob": onboarding,
        "region": onboarding.region,
        "steps": steps,
        "next_stage": Stage(STAGE_ORDER[index + 1]).label if index + 1 < len(STAGE_ORDER) else None,
        "missing": selectors.missing_evidence(onboarding),
        "timeline": selectors.timeline(onboarding),
        "application": app,
        "visit": onboarding.visits.order_by("-visited_on", "-id").first(),
        "visits": onboarding.visits.order_by("-visited_on", "-id"),
        "routings": selectors.operator_routings(onboarding),
        "training_sessions": onboarding.training_sessions.all(),
        "trial_calls": onboarding.trial_calls.all(),
        "launch": getattr(onboarding, "launch", None) if hasattr(onboarding, "launch") else None,
        "regulation": (
            getattr(onboarding, "regulation", None) if hasattr(onboarding, "regulation") else None
        ),
        "trial_started_at": selectors.trial_started_at(onboarding),
        "ordinal": ordinal,
        "forms": all_forms,
        "can": can,
        "can_view_province": policies.can_view_province(user, onboarding.region.parent)
        if onboarding.region.parent
        else False,
        "can_edit_any": any(can[k] for k in policies.EVIDENCE_KINDS if k in can),
        "error": error,
        "open_form": bound[0] if bound else "",
        "map_points": selectors.map_points(region_code=onboarding.region_id),
        "stages": _stage_list(),
        "stage_colours": _colours(),
    }
    return render(request, "onboarding/pemda.html", context, status=status)


@login_required
def pemda_page(request: HttpRequest, code: str) -> HttpResponse:
    return _render_pemda(request, access_pemda(request.user, code))


ServiceCall = Callable[[dict[str, Any]], object]


@login_required
@require_POST
def pemda_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    onboarding = access_pemda(request.user, code)
    form_class = FORM_CLASSES.get(action)
    if form_class is None:
        raise Http404(_("No such action."))
    if not _allowed(request.user, onboarding, action):
        raise PermissionDenied(_("Your role may not do this for this Pemda."))
    form = form_class(request.POST, request.FILES, auto_id=f"{action}-%s")
    if not form.is_valid():
        return _render_pemda(
            request,
            onboarding,
            bound=(action, form),
            error=_("Please correct the fields marked below. Nothing was saved."),
            status=400,
        )
    data = dict(form.cleaned_data)
    actor = request.user
    region_code = onboarding.region_id
    try:
        if action == "advance":
            result = services.onboarding_advance(
                region_code=region_code,
                actor=actor,  # type: ignore[arg-type]
                expected_version=data["expected_version"],
                note=data["note"],
            )
            messages.success(
                request, _("Moved to %(stage)s.") % {"stage": Stage(result.to_stage).label}
            )
            if result.invitation_url:
                messages.info(
                    request,
                    _(
                        "One-time Pemda-admin invitation (also emailed to the "
                        "contact person): %(url)s"
                    )
                    % {"url": result.invitation_url},
                )
        elif action == "send_back":
            services.onboarding_send_back(
                region_code=region_code,
                actor=actor,  # type: ignore[arg-type]
                expected_version=data["expected_version"],
                reason=data["reason"],
            )
            messages.success(request, _("Sent back for rework."))
        elif action == "comment":
            services.onboarding_comment(region_code=region_code, actor=actor, note=data["note"])  # type: ignore[arg-type]
            messages.success(request, _("Comment added."))
        else:
            _save_evidence(action, region_code, actor, data)
            messages.success(request, _("Saved."))
    except services.OnboardingError as exc:
        if isinstance(exc, services.VersionConflict):
            # Show the stage as it is now, which is what the person must reload to see.
            onboarding = access_pemda(request.user, code)
        return _render_pemda(request, onboarding, error=exc.message, status=exc.error_status())
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _render_pemda(
            request,
            onboarding,
            bound=(action, form),
            error=_("Please correct the fields marked below. Nothing was saved."),
            status=400,
        )
    return redirect(reverse("onboarding_pemda", kwargs={"code": code}))


_EVIDENCE_SAVERS: dict[str, Any] = {
    "application": services.application_save,
    "verification": services.verification_visit_record,
    "routing": services.operator_routing_save,
    "installation": services.installation_record,
    "training": services.training_session_add,
    "trial_call": services.trial_call_add,
    "launch": services.launch_save,
    "regulation": services.regulation_save,
}


def _save_evidence(action: str, region_code: str, actor: Any, data: dict[str, Any]) -> None:
    save = _EVIDENCE_SAVERS.get(action)
    if save is not None:
        save(region_code=region_code, actor=actor, **data)


@login_required
def letter_download(request: HttpRequest, code: str) -> FileResponse:
    onboarding = access_pemda(request.user, code)
    app = selectors.application_of(onboarding)
    if app is None or not app.letter:
        raise Http404(_("No letter uploaded."))
    return FileResponse(
        app.letter.open("rb"),
        content_type="application/pdf",
        filename=f"surat-{onboarding.region.slug}.pdf",
    )


@login_required
def tenant_status(request: HttpRequest) -> HttpResponse:
    """On <slug>.localhost: where this Pemda stands and what it still lacks."""
    region = getattr(getattr(request, "tenant", None), "region", None)
    if region is None:
        raise Http404(_("No such Pemda."))
    if not policies.can_view_own_status_on_tenant(request.user):
        raise PermissionDenied(_("Your role may not do this for this Pemda."))
    onboarding = selectors.onboarding_get(region.code)
    if onboarding is None:
        raise Http404(_("No such Pemda."))
    index = STAGE_ORDER.index(onboarding.stage)
    return render(
        request,
        "onboarding/tenant_status.html",
        {
            "ob": onboarding,
            "region": region,
            "steps": [
                {"label": s.label, "done": i < index, "current": i == index}
                for i, s in enumerate(Stage)
            ],
            "next_stage": Stage(STAGE_ORDER[index + 1]).label
            if index + 1 < len(STAGE_ORDER)
            else None,
            "missing": selectors.missing_evidence(onboarding),
            "routings": selectors.operator_routings(onboarding),
            "ordinal": selectors.launch_ordinals().get(region.code),
            "timeline": selectors.timeline(onboarding).filter(kind__in=["advance", "send_back"]),
        },
    )
