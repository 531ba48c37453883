"""Pages that belong to the site as a whole rather than to one app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def root(request: HttpRequest) -> HttpResponse:
    return redirect("home" if request.user.is_authenticated else "accounts:login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")
