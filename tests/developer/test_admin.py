from __future__ import annotations

import pytest

from tests.factories.accounts import UserFactory
from tests.factories.developer import api_key_issue, oauth_application_register


@pytest.mark.parametrize("url", ["/admin/developer/apikey/", "/admin/developer/partnerapplication/"])
def test_admin_lists_render_without_secrets(web_client, url):
    issued = api_key_issue()
    registered = oauth_application_register()
    owner = UserFactory(role="owner", is_staff=True, is_superuser=True)

    response = web_client(user=owner).get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert issued.raw_key not in html
    assert registered.client_secret not in html
