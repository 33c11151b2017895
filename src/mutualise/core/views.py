from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from mutualise.core.forms import SignInForm
from mutualise.core.roles import Role


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated:
        roles = user.roles()  # type: ignore[union-attr]
        if user.is_programme_staff:  # type: ignore[union-attr]
            return redirect("journeys:pipeline")
        if roles & {Role.STAFF_GROUP_MEMBER, Role.MUTUAL_LEADER}:
            return redirect("journeys:mine")
        if Role.AMBASSADOR in roles:
            return redirect("/ambassadors/")
        if Role.ASSESSOR in roles:
            return redirect("/fund/")
    return render(request, "core/home.html")


class SignInView(auth_views.LoginView):
    template_name = "core/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/privacy.html")


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


def _error(request: HttpRequest, template: str, status: int, **context: Any) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": context.get("detail", "error")}, status=status)
    return render(request, template, context, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "core/403.html", 403, detail="You do not have permission to see this")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "core/404.html", 404, detail="Not found")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, "core/500.html", 500, detail="Sorry, there is a problem with the service")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(request, "core/403_csrf.html", 403, detail="The form expired; try again")


def sign_in_url() -> str:
    return reverse("core:sign-in")
