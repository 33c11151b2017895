from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from mutualise.core.roles import Role


def service(request: HttpRequest) -> dict[str, Any]:
    """Navigation links for the signed-in user's roles."""
    user = getattr(request, "user", None)
    if user is None:  # error pages raised before the auth middleware ran
        return {"service_name": "Mutualise", "nav_links": []}
    links: list[dict[str, str]] = [{"text": "Evidence", "href": "/evidence/"}]
    if user.is_authenticated:
        roles = user.roles()  # type: ignore[union-attr]
        if user.is_programme_staff:  # type: ignore[union-attr]
            links = [
                {"text": "Pipeline", "href": reverse("journeys:pipeline")},
                {"text": "Organisations", "href": reverse("organisations:list")},
                {"text": "Fund", "href": "/fund/"},
                {"text": "Ambassadors", "href": "/ambassadors/"},
                {"text": "Contract watch", "href": "/watch/"},
                *links,
            ]
        else:
            if roles & {Role.STAFF_GROUP_MEMBER, Role.MUTUAL_LEADER}:
                if Role.MUTUAL_LEADER in roles:
                    links.insert(0, {"text": "Contract watch", "href": "/watch/"})
                links.insert(0, {"text": "Support fund", "href": "/fund/"})
                links.insert(0, {"text": "Your ambassador", "href": "/ambassadors/"})
                links.insert(0, {"text": "Your journey", "href": reverse("journeys:mine")})
            if Role.AMBASSADOR in roles:
                links.insert(0, {"text": "Your groups", "href": "/ambassadors/"})
            if Role.ASSESSOR in roles:
                links.insert(0, {"text": "Assessments", "href": "/fund/"})
        links.append({"text": "Your account", "href": reverse("core:account")})
    path = request.path
    for link in links:
        link["active"] = "true" if path.startswith(link["href"]) else ""
    return {"service_name": "Mutualise", "nav_links": links}
