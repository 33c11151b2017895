import pytest


@pytest.mark.django_db
def test_home_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Public service mutuals programme" in response.content


@pytest.mark.django_db
def test_unknown_url_is_a_404_page_not_a_traceback(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
