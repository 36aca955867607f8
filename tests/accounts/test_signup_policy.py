"""SIGNUP_POLICY: with "invitation" (the production default) only someone who opened a pending invitation link
may create an account, by email or with Facebook, and only for the invited address."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.utils import timezone

from accounts.models import AgencyMembership, Invitation, User
from socialhub import devenv
from tests.accounts.test_facebook_sign_in import sign_in_with_facebook
from tests.factories import UserFactory
from tests.settings import ROOT

FACEBOOK_SANDBOX_EMAIL = "alex.morgan@example.com"  # the sandbox's default Facebook user


def load_policy(**env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "SOCIALHUB_ENV_FILE": ""}
    code = "import socialhub.settings as s; print(s.SIGNUP_POLICY)"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "SECRET_KEY": "k" * 50, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.no_sandbox
def test_policy_defaults_to_open_in_debug_and_invitation_otherwise_and_rejects_other_values():
    assert load_policy(DEBUG="true").stdout.strip() == "open"
    assert load_policy(DEBUG="false").stdout.strip() == "invitation"
    assert load_policy(DEBUG="false", SIGNUP_POLICY="open").stdout.strip() == "open"
    result = load_policy(DEBUG="false", SIGNUP_POLICY="sometimes")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SIGNUP_POLICY must be 'open' or 'invitation', not 'sometimes'" in result.stderr


@pytest.mark.no_sandbox
def test_production_example_is_invitation_and_the_dev_env_stays_open():
    example = (ROOT / ".env.example").read_text()
    assert re.search(r"^SIGNUP_POLICY=invitation$", example, re.MULTILINE)
    assert re.search(r"^SIGNUP_POLICY=open$", devenv.render(), re.MULTILINE)


@pytest.fixture
def invitation(agency, alice) -> tuple[Invitation, str]:
    token, token_hash = Invitation.new_token()
    invitation = Invitation.objects.create(
        agency=agency,
        email="dana@northwind.example",
        token_hash=token_hash,
        invited_by=alice,
        expires_at=timezone.now() + timedelta(days=7),
    )
    return invitation, token


@pytest.fixture
def by_invitation(settings):
    settings.SIGNUP_POLICY = "invitation"


SIGNUP = {"password1": "a sturdy passphrase 42", "password2": "a sturdy passphrase 42"}


@pytest.mark.django_db
def test_signup_is_closed_without_an_invitation(client, by_invitation):
    page = client.get("/accounts/signup/").content.decode()
    assert "Sign-up is by invitation" in page
    assert 'class="navbar-brand fw-semibold"' in page  # our layout, not allauth's bare page
    assert 'name="password1"' not in page
    client.post("/accounts/signup/", {"email": "erin@brandco.example", **SIGNUP})
    assert not User.objects.exists()


@pytest.mark.django_db
def test_invitation_link_opens_signup_for_the_invited_address_only(client, by_invitation, invitation):
    invitation, token = invitation
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/signup/?email=dana%40northwind.example&next=%2Finvitations%2F")
    page = client.get(response.url).content.decode()
    assert 'value="dana@northwind.example"' in page and 'name="password1"' in page

    response = client.post("/accounts/signup/", {"email": "someone.else@example.com", **SIGNUP})
    assert "This invitation was sent to dana@northwind.example" in response.content.decode()
    assert not User.objects.filter(email="someone.else@example.com").exists()

    response = client.post("/accounts/signup/", {"email": "dana@northwind.example", **SIGNUP})
    assert response.status_code == 302
    dana = User.objects.get(email="dana@northwind.example")
    key = re.search(r"/accounts/confirm-email/([^/\s]+)/", mail.outbox[-1].body).group(1)
    client.post(f"/accounts/confirm-email/{key}/")
    client.force_login(dana)
    client.post(f"/invitations/{token}/")
    assert AgencyMembership.objects.get(user=dana).agency == invitation.agency
    assert "invitation_token" not in client.session


@pytest.mark.django_db
def test_a_withdrawn_invitation_no_longer_opens_signup(client, by_invitation, invitation):
    invitation, token = invitation
    client.get(f"/invitations/{token}/")
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    assert "Sign-up is by invitation" in client.get("/accounts/signup/").content.decode()
    client.post("/accounts/signup/", {"email": "dana@northwind.example", **SIGNUP})
    assert not User.objects.filter(email="dana@northwind.example").exists()


@pytest.mark.django_db
def test_invitation_link_sends_an_existing_account_to_sign_in(client, by_invitation, invitation):
    invitation, token = invitation
    UserFactory(email="dana@northwind.example")
    response = client.get(f"/invitations/{token}/")
    assert response.url.startswith("/accounts/login/?next=%2Finvitations%2F")


@pytest.mark.django_db
def test_facebook_cannot_create_an_account_without_an_invitation(client, sandbox_control, by_invitation):
    response = sign_in_with_facebook(client)
    assert "Sign-up is by invitation" in response.content.decode()
    assert not SocialAccount.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_facebook_creates_the_account_of_an_invited_address(client, sandbox_control, by_invitation, agency, alice):
    token, token_hash = Invitation.new_token()
    Invitation.objects.create(
        agency=agency,
        email=FACEBOOK_SANDBOX_EMAIL,
        token_hash=token_hash,
        invited_by=alice,
        expires_at=timezone.now() + timedelta(days=7),
    )
    client.get(f"/invitations/{token}/")
    sign_in_with_facebook(client)
    assert SocialAccount.objects.get().user.email == FACEBOOK_SANDBOX_EMAIL


@pytest.mark.django_db
def test_facebook_through_an_invitation_for_another_address_creates_nothing(
    client, sandbox_control, by_invitation, invitation
):
    _invitation, token = invitation
    client.get(f"/invitations/{token}/")
    response = sign_in_with_facebook(client)
    assert "Sign-up is by invitation" in response.content.decode()
    assert not SocialAccount.objects.exists()
