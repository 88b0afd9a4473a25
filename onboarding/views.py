from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from onboarding.models import Stage
from onboarding.selectors import stage_counts


def console_home(request: HttpRequest) -> HttpResponse:
    counts = stage_counts()
    return render(
        request,
        "onboarding/home.html",
        {"stages": [(s, counts[s.value]) for s in Stage], "launched": counts[Stage.LAUNCHED]},
    )
