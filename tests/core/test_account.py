"""The account page: what it shows and where it leads."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.parametrize("person", ["member", "officer"])
def test_account_page_leads_to_the_email_settings(client, person, request):
    client.force_login(request.getfixturevalue(person))
    settings_url = reverse("fund:email-settings")
    page = client.get(reverse("core:account"))
    assert page.status_code == 200
    assert f'href="{settings_url}"' in page.content.decode()
    assert client.get(settings_url).status_code == 200
