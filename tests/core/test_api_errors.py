"""Errors under /api/ are JSON with the right status; elsewhere pages stay HTML."""

import pytest


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"].lower() == "not found"


@pytest.mark.django_db
def test_method_not_allowed_is_json_and_keeps_allow(client):
    response = client.post("/api/metrics")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert "GET" in response["Allow"]


@pytest.mark.django_db
def test_pages_outside_the_api_keep_their_html_error_pages(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
