"""Permissions, exhaustively (issue 9).

Every named URL pattern (the django-ninja API's included) has an entry in MATRIX saying, for
each role, what a GET must answer; entries for pages that change state also say who may POST.
The expectations were written by reading each view, not by recording what the code answers: a
difference is a bug in the view (or a deliberate change that must update this file).

A new URL without an entry fails ``test_every_url_pattern_is_in_the_matrix``.

The world (tests/security/world.py) has two groups: A, a live mutual, owns one object of every
kind a URL takes an id for; B is another group. The roles are the seven of the programme plus
"other_*" people who hold the role but not over group A's objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.world import ROLES

# --- expected answers ----------------------------------------------------------------------

OK = "200"  # the page, the file or the JSON
LOGIN = "login"  # 302 to /sign-in/?next=... (never the page)
DENY = "deny"  # 403 or 404, never data
NOT_FOUND = "404"  # for everyone: the address exists only to build others
METHOD = "405"  # a POST-only address answering a GET
ALLOWED = "allowed"  # a POST the role may make: not refused (what it does is not tested here)


@dataclass(frozen=True)
class To:
    """A 302 the view intends, to the URL named ``name`` with kwargs taken from the world."""

    name: str
    kwargs: tuple[tuple[str, str], ...] = ()

    def url(self, world: dict[str, Any]) -> str:
        return reverse(self.name, kwargs={k: world[v] for k, v in self.kwargs})


def to(name: str, **kwargs: str) -> To:
    return To(name, tuple(sorted(kwargs.items())))


STAFF = ("programme_officer", "administrator")
GROUP_A = ("staff_group_member", "mutual_leader")  # act for group A, which owns the objects
SIGNED_IN = ROLES[1:]


@dataclass
class Entry:
    get: dict[str, Any]
    kwargs: dict[str, str] = field(default_factory=dict)  # URL kwarg -> world key
    post: dict[str, Any] | None = None  # POST-only addresses: who may POST
    query: str = ""
    # the view does the same for POST as for GET (it handles no form), so a refused POST is
    # not tried separately
    read_only: bool = False


def answers(default: Any, anonymous: Any = LOGIN, **roles: Any) -> dict[str, Any]:
    table = {role: default for role in SIGNED_IN}
    table["anonymous"] = anonymous
    for role, answer in roles.items():
        assert role in ROLES, role
        table[role] = answer
    return table


def public() -> dict[str, Any]:
    return answers(OK, anonymous=OK)


def signed_in(**roles: Any) -> dict[str, Any]:
    return answers(OK, **roles)


def only(*allowed: str, **roles: Any) -> dict[str, Any]:
    table = answers(DENY, **roles)
    for role in allowed:
        table.setdefault(role, OK)
        if table[role] == DENY:
            table[role] = OK
    return table


def staff_only(**roles: Any) -> dict[str, Any]:
    return only(*STAFF, **roles)


def post_only(*allowed: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """GET answers 405 to the signed in (login_required runs first); POST is for ``allowed``."""
    get = answers(METHOD)
    post = answers(DENY)
    for role in allowed:
        post[role] = ALLOWED
    return get, post


def entry_post_only(*allowed: str, **kwargs: Any) -> Entry:
    get, post = post_only(*allowed)
    return Entry(get=get, post=post, **kwargs)


A_VIEWERS = (*STAFF, *GROUP_A, "ambassador")  # core.permissions.can_view_organisation_private
APPLICATION_VIEWERS = (*STAFF, *GROUP_A, "assessor")  # fund.permissions.can_view_application
MATCH_PEOPLE = (*STAFF, "ambassador")  # ambassadors.views._match_for

J = {"pk": "journey_a"}
ORG = {"pk": "organisation_a"}
APP = {"pk": "application_a"}
DRAFT = {"pk": "draft_application_a"}
ROUND = {"pk": "round"}
AWARD = {"pk": "award_a"}
MATCH = {"pk": "match_a"}
METRIC = {"slug": "metric"}

MATRIX: dict[str, Entry] = {
    # --- core ----------------------------------------------------------------------------
    "core:home": Entry(
        get=answers(
            OK,
            anonymous=OK,
            staff_group_member=to("journeys:mine"),
            mutual_leader=to("journeys:mine"),
            other_group_member=to("journeys:mine"),
            ambassador=to("ambassadors:index"),
            other_ambassador=to("ambassadors:index"),
            assessor=to("fund:home"),
            other_assessor=to("fund:home"),
            programme_officer=to("journeys:pipeline"),
            administrator=to("journeys:pipeline"),
        )
    ),
    "core:sign-in": Entry(get=answers(to("core:home"), anonymous=OK)),
    # LogoutView takes POST only, signed in or not; signing out is no one's privilege.
    "core:sign-out": Entry(get=answers(METHOD, anonymous=METHOD)),
    "core:accessibility": Entry(get=public()),
    "core:privacy": Entry(get=public()),
    "core:health": Entry(get=public()),
    # the signed-in person's own account page
    "core:account": Entry(get=signed_in(), read_only=True),
    # two-factor sign-in is offered to roles that act programme-wide (core.roles.TWO_FACTOR_ROLES)
    "core:two-factor-setup": Entry(
        get=only(*STAFF, "ambassador", "other_ambassador", "assessor", "other_assessor")
    ),
    # shown once after set-up; with no new codes in the session, back to the account page
    "core:two-factor-recovery-codes": Entry(
        get=signed_in(**{role: to("core:account") for role in SIGNED_IN}), read_only=True
    ),
    # nobody in the world has two-factor sign-in on: nothing to turn off, or to verify
    "core:two-factor-turn-off": Entry(
        get=signed_in(**{role: to("core:account") for role in SIGNED_IN})
    ),
    "core:two-factor-verify": Entry(get=signed_in(**{role: to("core:home") for role in SIGNED_IN})),
    # --- organisations -------------------------------------------------------------------
    "organisations:list": Entry(get=staff_only(), read_only=True),
    "organisations:new-staff-group": Entry(get=staff_only()),
    "organisations:new-public-body": Entry(get=staff_only()),
    "organisations:detail": Entry(get=only(*A_VIEWERS), kwargs=ORG, read_only=True),
    "organisations:edit": Entry(get=staff_only(), kwargs=ORG),
    "organisations:activity": Entry(get=staff_only(), kwargs=ORG, read_only=True),
    "organisations:add-identifier": Entry(get=staff_only(), kwargs=ORG),
    "organisations:remove-identifier": entry_post_only(
        *STAFF, kwargs={"pk": "organisation_a", "identifier_pk": "identifier_a"}
    ),
    # --- journeys ------------------------------------------------------------------------
    "journeys:pipeline": Entry(get=staff_only(), read_only=True),
    # everyone signed in has a "my journeys" page; one journey redirects to it
    "journeys:mine": Entry(
        get=signed_in(
            staff_group_member=to("journeys:detail", pk="journey_a"),
            mutual_leader=to("journeys:detail", pk="journey_a"),
            other_group_member=to("journeys:detail", pk="journey_b"),
        ),
        read_only=True,
    ),
    "journeys:detail": Entry(get=only(*A_VIEWERS), kwargs=J, read_only=True),
    "journeys:move": entry_post_only(*STAFF, kwargs=J),
    # the group records its own evidence; officers all of it; ambassadors only read
    "journeys:evidence": Entry(get=only(*STAFF, *GROUP_A), kwargs=J),
    "journeys:readiness": Entry(get=only(*A_VIEWERS), kwargs=J, read_only=True),
    # only the group's own people answer its self-assessment (journeys.services)
    "journeys:readiness-start": entry_post_only(*GROUP_A, kwargs=J),
    "journeys:readiness-question": Entry(
        get=only(*GROUP_A),
        kwargs={
            "pk": "journey_a",
            "assessment_pk": "draft_assessment_a",
            "question_code": "question_code",
        },
    ),
    "journeys:readiness-check": Entry(
        get=only(*GROUP_A), kwargs={"pk": "journey_a", "assessment_pk": "draft_assessment_a"}
    ),
    "journeys:readiness-result": Entry(
        get=only(*A_VIEWERS),
        kwargs={"pk": "journey_a", "assessment_pk": "submitted_assessment_a"},
        read_only=True,
    ),
    # --- fund ----------------------------------------------------------------------------
    "fund:home": Entry(
        get=signed_in(programme_officer=to("fund:fund-list"), administrator=to("fund:fund-list")),
        read_only=True,
    ),
    "fund:fund-list": Entry(get=staff_only(), read_only=True),
    "fund:fund-create": Entry(get=staff_only()),
    "fund:fund-detail": Entry(get=staff_only(), kwargs={"pk": "fund"}, read_only=True),
    "fund:round-create": Entry(get=staff_only(), kwargs={"pk": "fund"}),
    "fund:open-rounds": Entry(get=signed_in(), read_only=True),
    "fund:round-summary": Entry(get=staff_only(), kwargs=ROUND, read_only=True),
    "fund:round-edit": Entry(get=staff_only(), kwargs=ROUND),
    "fund:round-applications": Entry(get=staff_only(), kwargs=ROUND, read_only=True),
    "fund:export-applications": Entry(get=staff_only(), kwargs=ROUND, read_only=True),
    "fund:export-ledger": Entry(get=staff_only(), kwargs=ROUND, read_only=True),
    # any staff group member or mutual leader may start an application for their own group
    "fund:apply": Entry(get=only(*GROUP_A, "other_group_member"), kwargs=ROUND),
    "fund:application-detail": Entry(get=only(*APPLICATION_VIEWERS), kwargs=APP, read_only=True),
    # the applicant's pages (officers included out: they see the application's own page)
    "fund:task-list": Entry(get=only(*GROUP_A), kwargs=DRAFT, read_only=True),
    "fund:question": Entry(
        get=only(*GROUP_A), kwargs={"pk": "draft_application_a", "slug": "fund_question"}
    ),
    "fund:documents": Entry(get=only(*GROUP_A), kwargs=DRAFT),
    "fund:remove-document": entry_post_only(
        *GROUP_A, kwargs={"pk": "draft_application_a", "attachment_pk": "draft_attachment_a"}
    ),
    "fund:check-answers": Entry(get=only(*GROUP_A), kwargs=DRAFT, read_only=True),
    "fund:declaration": Entry(get=only(*GROUP_A), kwargs=DRAFT),
    # no question is open, so the applicant is sent to the application's page
    "fund:answer-information": Entry(
        get=answers(
            DENY,
            staff_group_member=to("fund:application-detail", pk="application_a"),
            mutual_leader=to("fund:application-detail", pk="application_a"),
        ),
        kwargs=APP,
    ),
    "fund:withdraw": Entry(get=only(*GROUP_A), kwargs=DRAFT),
    "fund:assign-assessor": Entry(get=staff_only(), kwargs=APP),
    "fund:start-assessment": entry_post_only(*STAFF, kwargs=APP),
    "fund:decision": Entry(get=staff_only(), kwargs=APP),
    "fund:moderate": Entry(get=staff_only(), kwargs={"pk": "score_a"}),
    "fund:my-assessments": Entry(
        get=signed_in(), read_only=True
    ),  # lists the user's own assignments only
    "fund:assessment": Entry(get=only("assessor"), kwargs={"pk": "assignment_a"}),
    "fund:award-detail": Entry(get=staff_only(), kwargs=AWARD, read_only=True),
    "fund:milestone-create": Entry(get=staff_only(), kwargs=AWARD),
    "fund:payment-create": Entry(get=staff_only(), kwargs=AWARD),
    "fund:award-reduce": Entry(get=staff_only(), kwargs=AWARD),
    "fund:award-clawback": Entry(get=staff_only(), kwargs=AWARD),
    "fund:affiliations": Entry(get=staff_only()),
    "fund:attachment-download": Entry(
        get=only(*APPLICATION_VIEWERS),
        kwargs={"pk": "attachment_a"},
        read_only=True,
    ),
    "fund:email-settings": Entry(get=signed_in()),  # the user's own preference
    # --- ambassadors ---------------------------------------------------------------------
    "ambassadors:index": Entry(
        get=answers(
            DENY,
            staff_group_member=to("ambassadors:group", organisation_id="organisation_a"),
            mutual_leader=to("ambassadors:group", organisation_id="organisation_a"),
            other_group_member=to("ambassadors:group", organisation_id="organisation_b"),
            ambassador=OK,
            other_ambassador=OK,
            programme_officer=OK,
            administrator=OK,
        ),
        read_only=True,
    ),
    "ambassadors:run-matching": entry_post_only(*STAFF),
    "ambassadors:run": Entry(get=staff_only(), kwargs={"pk": "run"}, read_only=True),
    "ambassadors:confirm-run": entry_post_only(*STAFF, kwargs={"pk": "run"}),
    "ambassadors:pair-rule": entry_post_only(*STAFF),
    "ambassadors:remove-pair-rule": entry_post_only(*STAFF, kwargs={"pk": "pair_rule"}),
    "ambassadors:conflicts": Entry(get=staff_only()),
    "ambassadors:match": Entry(get=only(*MATCH_PEOPLE), kwargs=MATCH, read_only=True),
    # only the proposed ambassador answers a proposal (the service refuses officers)
    "ambassadors:accept": Entry(
        get=post_only("ambassador")[0],
        post={**post_only("ambassador")[1], "programme_officer": DENY, "administrator": DENY},
        kwargs=MATCH,
    ),
    "ambassadors:decline": Entry(get=only("ambassador"), kwargs=MATCH),
    "ambassadors:withdraw": entry_post_only(*STAFF, kwargs=MATCH),
    "ambassadors:end": Entry(get=only(*MATCH_PEOPLE), kwargs=MATCH),
    "ambassadors:log-engagement": Entry(get=only("ambassador"), kwargs=MATCH),
    "ambassadors:follow-up-done": entry_post_only("ambassador", kwargs={"pk": "engagement_a"}),
    # the group rates its ambassador's engagements
    "ambassadors:rate": Entry(get=only(*GROUP_A), kwargs={"pk": "engagement_a"}),
    "ambassadors:profile": Entry(get=only("ambassador", "other_ambassador")),
    "ambassadors:away-add": Entry(get=only("ambassador", "other_ambassador")),
    "ambassadors:away-remove": entry_post_only("ambassador", kwargs={"pk": "away_period"}),
    "ambassadors:group": Entry(
        get=only(*STAFF, *GROUP_A),
        kwargs={"organisation_id": "organisation_a"},
        read_only=True,
    ),
    "ambassadors:request": Entry(get=only(*GROUP_A), kwargs={"organisation_id": "organisation_a"}),
    # --- contract watch ------------------------------------------------------------------
    # officers get the radar; a group's people go to their own timeline; others an empty choice
    "watch:index": Entry(
        get=signed_in(
            staff_group_member=to("watch:timeline", pk="organisation_a"),
            mutual_leader=to("watch:timeline", pk="organisation_a"),
            other_group_member=to("watch:timeline", pk="organisation_b"),
        ),
        read_only=True,
    ),
    "watch:timeline": Entry(get=only(*A_VIEWERS), kwargs=ORG, read_only=True),
    # a tool for anyone signed in (the check is kept with who asked)
    "watch:reservation-check": Entry(get=signed_in()),
    "watch:missed-reservations": Entry(get=staff_only(), read_only=True),
    # --- suppliers (officers' review of the contracts data) -------------------------------
    "suppliers:review-queue": Entry(get=staff_only(), read_only=True),
    "suppliers:review-item": Entry(get=staff_only(), kwargs={"mention_key": "review_item"}),
    "suppliers:detail": Entry(get=staff_only(), kwargs={"identifier": "supplier"}, read_only=True),
    # --- evidence: the public figures ----------------------------------------------------
    "evidence:dashboard": Entry(get=public()),
    "evidence:figure": Entry(get=public(), kwargs=METRIC),
    "evidence:rows": Entry(get=public(), kwargs=METRIC),
    "evidence:rows-download": Entry(
        get=public(), kwargs={"slug": "metric", "file_format": "file_format"}
    ),
    "evidence:table-download": Entry(
        get=public(), kwargs={"slug": "metric", "file_format": "file_format"}
    ),
    "evidence:chart-spec": Entry(get=public(), kwargs=METRIC),
    "evidence:chart-svg": Entry(get=public(), kwargs=METRIC),
    "evidence:ocds": Entry(get=public()),
    # --- the open data API (read-only, public) ---------------------------------------------
    # django-ninja's root answers 404; it is there so the API can reverse its own paths
    "api:api-root": Entry(get=answers(NOT_FOUND, anonymous=NOT_FOUND)),
    "api:openapi-json": Entry(get=public()),
    "api:openapi-view": Entry(get=public()),
    "api:snapshot": Entry(get=public()),
    "api:metric_list": Entry(get=public()),
    "api:metric_table": Entry(get=public(), kwargs=METRIC),
    "api:metric_rows": Entry(get=public(), kwargs=METRIC),
    "api:programme_contracts": Entry(get=public()),
}

# Patterns left out on purpose, with the reason. (Today there are none: the project serves no
# admin site, and static files are served by WhiteNoise middleware, not by URL patterns.)
EXCLUDED: dict[str, str] = {}

# Someone else's object reached through their own: a member of group B, on group B's journey or
# application, naming group A's assessment or attachment. The view must look the child up
# under the parent (404), not by its own id alone.
CROSSED: list[tuple[str, str, dict[str, str]]] = [
    (
        "journeys:readiness-question",
        "GET",
        {
            "pk": "journey_b",
            "assessment_pk": "draft_assessment_a",
            "question_code": "question_code",
        },
    ),
    ("journeys:readiness-check", "GET", {"pk": "journey_b", "assessment_pk": "draft_assessment_a"}),
    (
        "journeys:readiness-result",
        "GET",
        {"pk": "journey_b", "assessment_pk": "submitted_assessment_a"},
    ),
    (
        "fund:remove-document",
        "POST",
        {"pk": "application_b", "attachment_pk": "draft_attachment_a"},
    ),
]


# --- the URL patterns ----------------------------------------------------------------------


def url_pattern_names() -> set[str]:
    """Every named pattern, as namespace:name, walking the resolver through every include."""
    names: set[str] = set()
    unnamed: list[str] = []

    def walk(resolver: URLResolver, namespace: str, prefix: str) -> None:
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                inner = namespace
                if item.namespace:
                    inner = f"{namespace}:{item.namespace}" if namespace else item.namespace
                walk(item, inner, prefix + str(item.pattern))
            elif isinstance(item, URLPattern):
                if item.name is None:
                    unnamed.append(prefix + str(item.pattern))
                else:
                    names.add(f"{namespace}:{item.name}" if namespace else item.name)

    walk(get_resolver(), "", "/")
    assert not unnamed, f"URL patterns without a name cannot be in the matrix: {unnamed}"
    return names


def _cases() -> list[Any]:
    return [
        pytest.param(name, role, id=f"{name}-{role}")
        for name in sorted(url_pattern_names() & MATRIX.keys())
        for role in ROLES
    ]


def _post_cases() -> list[Any]:
    """POSTs that must be refused: every role a POST-only address refuses, and every role a
    page refuses on GET (a form must not accept from someone who may not see it)."""
    cases = []
    for name in sorted(url_pattern_names() & MATRIX.keys()):
        entry = MATRIX[name]
        for role in ROLES:
            if entry.post is not None:
                refused = entry.post[role] in (DENY, LOGIN)
            else:
                refused = not entry.read_only and entry.get[role] in (DENY, LOGIN)
            if refused:
                cases.append(pytest.param(name, role, id=f"{name}-{role}"))
    return cases


def _url(name: str, kwargs: dict[str, str], world: dict[str, Any], query: str = "") -> str:
    url = reverse(name, kwargs={k: world[v] for k, v in kwargs.items()})
    return f"{url}?{query}" if query else url


def _client(client: Any, world: dict[str, Any], role: str) -> Any:
    if role != "anonymous":  # the role's session, made once for the module (conftest.py)
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][role]
    return client


def _describe(response: Any) -> str:
    where = f" to {response['Location']}" if response.status_code in (301, 302) else ""
    return f"{response.status_code}{where}"


def _is_sign_in_redirect(response: Any) -> bool:
    if response.status_code != 302:
        return False
    location = urlsplit(response["Location"])
    return location.path == reverse("core:sign-in") and location.query.startswith("next=")


def _refused(response: Any) -> bool:
    return response.status_code in (401, 403, 404, 405) or _is_sign_in_redirect(response)


def _content(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


# --- the tests -----------------------------------------------------------------------------


def test_every_url_pattern_is_in_the_matrix() -> None:
    names = url_pattern_names()
    missing = sorted(names - MATRIX.keys() - EXCLUDED.keys())
    stale = sorted((MATRIX.keys() | EXCLUDED.keys()) - names)
    assert not missing, (
        "These URL patterns have no entry in the permission matrix; add each to MATRIX in "
        f"tests/security/test_permission_matrix.py (who may GET it, who may POST): {missing}"
    )
    assert not stale, f"The permission matrix names URL patterns that no longer exist: {stale}"


def test_every_entry_names_every_role() -> None:
    for name, entry in MATRIX.items():
        assert set(entry.get) == set(ROLES), name
        if entry.post is not None:
            assert set(entry.post) == set(ROLES), name
            assert set(entry.get.values()) <= {METHOD, LOGIN}, f"{name}: POST-only"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), _cases())
def test_get(world: dict[str, Any], matrix_client: Any, name: str, role: str) -> None:
    entry = MATRIX[name]
    expected = entry.get[role]
    url = _url(name, entry.kwargs, world, entry.query)
    response = _client(matrix_client, world, role).get(url)
    got = _describe(response)
    assert response.status_code < 500, f"GET {url} as {role}: server error {got}"
    if expected == OK:
        assert response.status_code == 200, f"GET {url} as {role}: expected 200, got {got}"
        _content(response)  # a streamed file must stream without error
    elif expected == LOGIN:
        if url.startswith("/api/"):
            assert response.status_code in (401, 403), f"GET {url} anonymously: got {got}"
        else:
            assert _is_sign_in_redirect(response), (
                f"GET {url} anonymously: expected a redirect to sign in, got {got}"
            )
    elif expected == DENY:
        assert response.status_code in (403, 404), (
            f"GET {url} as {role}: expected 403 or 404, got {got} (a leak if 200)"
        )
    elif expected == NOT_FOUND:
        assert response.status_code == 404, f"GET {url} as {role}: expected 404, got {got}"
    elif expected == METHOD:
        assert response.status_code == 405, f"GET {url} as {role}: expected 405, got {got}"
    elif isinstance(expected, To):
        target = expected.url(world)
        assert response.status_code == 302 and urlsplit(response["Location"]).path == target, (
            f"GET {url} as {role}: expected a redirect to {target}, got {got}"
        )
    else:  # pragma: no cover - a typo in the matrix
        raise AssertionError(f"unknown expectation {expected!r} for {name}")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), _post_cases())
def test_refused_post_changes_nothing(
    world: dict[str, Any], matrix_client: Any, name: str, role: str
) -> None:
    from mutualise.core.models import AuditEvent

    entry = MATRIX[name]
    url = _url(name, entry.kwargs, world)
    before = AuditEvent.objects.count()
    response = _client(matrix_client, world, role).post(url, {})
    got = _describe(response)
    assert response.status_code < 500, f"POST {url} as {role}: server error {got}"
    assert _refused(response), f"POST {url} as {role}: expected a refusal, got {got}"
    assert AuditEvent.objects.count() == before, f"POST {url} as {role} changed something"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "kwargs"), CROSSED, ids=[c[0] for c in CROSSED])
def test_crossed_ids_are_refused(
    world: dict[str, Any], matrix_client: Any, name: str, method: str, kwargs: dict[str, str]
) -> None:
    from mutualise.core.models import AuditEvent

    url = _url(name, kwargs, world)
    before = AuditEvent.objects.count()
    client = _client(matrix_client, world, "other_group_member")
    response = client.get(url) if method == "GET" else client.post(url, {})
    got = _describe(response)
    assert response.status_code in (403, 404), f"{method} {url} by group B's member: got {got}"
    assert AuditEvent.objects.count() == before
