from __future__ import annotations

from datetime import timedelta

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialLogin, SocialToken
from allauth.socialaccount.providers.oauth2.client import OAuth2Client, OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2Adapter, OAuth2CallbackView, OAuth2LoginView
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from socialhub.graph import GraphClient, GraphError


class InstagramLoginOAuth2Client(OAuth2Client):
    """The code exchange answers `{"data": [{"access_token", "user_id", "permissions"}]}` (or, in older
    versions, the same object unwrapped); allauth's client expects it flat."""

    def get_access_token(self, code, pkce_code_verifier=None, extra_data=None):  # type: ignore[no-untyped-def]
        data = {
            "client_id": self.consumer_key,
            "client_secret": self.consumer_secret,
            "grant_type": "authorization_code",
            "redirect_uri": self.callback_url,
            "code": code,
        }
        with get_adapter().get_requests_session() as session:
            response = session.post(self.access_token_url, data=data, timeout=30)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if isinstance(answer.get("data"), list) and answer["data"]:
            answer = answer["data"][0]
        if response.status_code != 200 or "access_token" not in answer:
            error = answer.get("error")
            message = answer.get("error_message") or (error.get("message") if isinstance(error, dict) else error)
            message = message or f"HTTP {response.status_code}"
            raise OAuth2Error(f"Instagram refused the code exchange: {message}")
        return answer


class InstagramLoginOAuth2Adapter(OAuth2Adapter):
    provider_id = "instagram"
    client_class = InstagramLoginOAuth2Client
    scope_delimiter = ","
    access_token_method = "POST"  # nosec: the code exchange is a form POST to api.instagram.com

    @property  # type: ignore[override]
    def authorize_url(self) -> str:
        return f"{settings.INSTAGRAM_WWW_URL}/oauth/authorize"

    @property  # type: ignore[override]
    def access_token_url(self) -> str:
        return f"{settings.INSTAGRAM_API_URL}/oauth/access_token"

    def parse_token(self, data: dict) -> SocialToken:
        token = super().parse_token(data)
        token.granted_permissions = [p for p in str(data.get("permissions", "")).split(",") if p]  # type: ignore[attr-defined]
        return token

    def complete_login(self, request: HttpRequest, app, token: SocialToken, **kwargs) -> SocialLogin:  # type: ignore[no-untyped-def]
        try:
            long_lived = exchange_for_long_lived_token(token.token)
            token.token = long_lived["access_token"]
            token.expires_at = timezone.now() + timedelta(seconds=int(long_lived.get("expires_in", 5184000)))
            profile = GraphClient(access_token=token.token, host="instagram").get(
                "me", fields="user_id,username,name,account_type,profile_picture_url"
            )
        except GraphError as exc:  # allauth shows its authentication-error page (or our adapter's message)
            raise OAuth2Error(exc.message) from exc
        return self.get_provider().sociallogin_from_response(request, profile)


def exchange_for_long_lived_token(short_lived: str) -> dict:
    """One-hour token → 60-day token (GET graph.instagram.com/access_token, grant_type=ig_exchange_token)."""
    client = GraphClient(access_token=short_lived, host="instagram")
    return client.request(
        "GET",
        "access_token",  # under the versioned host, like every other call
        params={"grant_type": "ig_exchange_token", "client_secret": settings.INSTAGRAM_APP_SECRET},
    )


oauth2_login = OAuth2LoginView.adapter_view(InstagramLoginOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(InstagramLoginOAuth2Adapter)
