"""Sign up, verify the email address, onboard, land on the first workspace."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import AgencyMembership, User

pytestmark = pytest.mark.django_db


def test_signup_verification_and_onboarding(client, settings):
    settings.SIGNUP_POLICY = "open"
    response = client.post(
        "/accounts/signup/",
        {"email": "erin@brandco.example", "password1": "a sturdy passphrase 42", "password2": "a sturdy passphrase 42"},
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    key = re.search(r"/accounts/confirm-email/([^/\s]+)/", mail.outbox[0].body).group(1)
    response = client.post(f"/accounts/confirm-email/{key}/")
    assert response.status_code == 302
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/onboarding/"
    response = client.post(
        "/onboarding/", {"agency_name": "BrandCo", "workspace_name": "Fresh Juice", "timezone": "Europe/Berlin"}
    )
    user = User.objects.get(email="erin@brandco.example")
    membership = AgencyMembership.objects.get(user=user)
    assert membership.role == "owner"
    workspace = membership.agency.workspaces.get()
    assert (workspace.name, workspace.timezone) == ("Fresh Juice", "Europe/Berlin")
    assert response.url == f"/w/{workspace.public_id}/"
    assert client.get(response.url).status_code == 200


def test_login_requires_verified_email(client):
    User.objects.create_user("unverified@example.com", "a sturdy passphrase 42")
    client.post("/accounts/login/", {"login": "unverified@example.com", "password": "a sturdy passphrase 42"})
    assert client.get("/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_login_and_logout(client, alice, workspace):
    response = client.post("/accounts/login/", {"login": alice.email, "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert client.get("/", follow=True).redirect_chain[-1][0] == f"/w/{workspace.public_id}/"
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_link(client, alice):
    client.post("/accounts/password/reset/", {"email": alice.email})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_totp_can_be_enabled_and_is_then_required_at_login(client, alice):
    from allauth.mfa.totp.internal.auth import (
        SECRET_SESSION_KEY,
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    def current_code(secret: str) -> str:
        return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))

    client.post("/accounts/login/", {"login": alice.email, "password": "correct horse battery staple"})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 302  # sensitive: asks for the password again
    client.post("/accounts/reauthenticate/", {"password": "correct horse battery staple"})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post("/accounts/2fa/totp/activate/", {"code": current_code(secret)})
    assert response.status_code == 302
    client.post("/accounts/logout/")

    response = client.post("/accounts/login/", {"login": alice.email, "password": "correct horse battery staple"})
    assert response.url == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    assert "_auth_user_id" in client.session
