from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.views.decorators.http import require_GET

from mutualise.core import two_factor
from mutualise.core.account_views import with_next
from mutualise.core.forms import SignInForm
from mutualise.core.retention import load_policy
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

    def form_valid(self, form: Any) -> HttpResponse:
        """The password was right. Someone with two-factor sign-in on is signed in but not yet
        verified: they are asked for their code next (TwoFactorMiddleware holds every other
        page until then). Staff who must use it and have not set it up go to set it up."""
        response = super().form_valid(form)
        user = form.get_user()
        if two_factor.is_on(user):
            return redirect(with_next("core:two-factor-verify", self.get_success_url()))
        if two_factor.required_for(user):
            return redirect(with_next("core:two-factor-setup", self.get_success_url()))
        return response


class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


def privacy(request: HttpRequest) -> HttpResponse:
    """The notice's retention table comes from rules/personal_data_retention.yaml, the same
    file `mutualise personal-data purge` applies, so the two cannot disagree."""
    return render(request, "core/privacy.html", {"policy": load_policy()})


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
    detail = "Sorry, there is a problem with the service"
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=500)
    # Rendered without the request's context processors: they read the signed-in user from the
    # database, and the error being reported may be that the database is down.
    return HttpResponse(loader.render_to_string("core/500.html", {"detail": detail}), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(request, "core/403_csrf.html", 403, detail="The form expired; try again")


def sign_in_url() -> str:
    return reverse("core:sign-in")
