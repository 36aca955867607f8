""" "Log in with Facebook" signs a person in; it never connects channels or decides who owns a Page."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.models import Channel
from sandbox.client import complete_facebook_consent

pytestmark = pytest.mark.django_db


def sign_in_with_facebook(client, user=None) -> object:
    response = client.post("/accounts/facebook/login/?process=login")
    assert response.status_code == 302
    callback = complete_facebook_consent(response["Location"], user=user)
    return client.get(callback.replace("http://testserver", ""), follow=True)


def test_log_in_with_facebook_creates_a_login_not_channels(client, sandbox_control, settings):
    settings.SIGNUP_POLICY = "open"
    assert "Log in with Facebook" in client.get("/accounts/login/").content.decode()
    sign_in_with_facebook(client)
    account = SocialAccount.objects.get(provider="facebook")
    assert account.uid == "10776317066907439"
    assert not Channel.objects.exists()

    client.logout()
    account.user.emailaddress_set.update(verified=True)
    response = sign_in_with_facebook(client)
    assert response.wsgi_request.user == account.user
    assert response.redirect_chain[-1][0] == "/onboarding/"


def test_instagram_is_not_a_way_to_sign_in(client, sandbox_control):
    response = client.post("/accounts/instagram/login/?process=login")
    from sandbox.client import complete_instagram_consent

    callback = complete_instagram_consent(response["Location"])
    response = client.get(callback.split("#")[0].replace("http://testserver", ""), follow=True)
    assert "not a way to sign in" in response.content.decode()
    assert not SocialAccount.objects.exists()
    assert "_auth_user_id" not in client.session
