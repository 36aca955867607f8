from __future__ import annotations

from allauth.socialaccount.models import SocialLogin, SocialToken
from allauth.socialaccount.providers.facebook.views import FacebookOAuth2Adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.conf import settings
from django.http import HttpRequest

from socialhub.graph import GraphClient, GraphError


class MetaFacebookOAuth2Adapter(FacebookOAuth2Adapter):
    @property  # type: ignore[override]
    def authorize_url(self) -> str:
        return f"{settings.META_FACEBOOK_URL}/{settings.META_GRAPH_VERSION}/dialog/oauth"

    @property  # type: ignore[override]
    def access_token_url(self) -> str:
        return f"{settings.META_GRAPH_URL}/{settings.META_GRAPH_VERSION}/oauth/access_token"

    def complete_login(self, request: HttpRequest, app, token: SocialToken, **kwargs) -> SocialLogin:  # type: ignore[no-untyped-def]
        try:
            profile = GraphClient(access_token=token.token).get("me", fields="id,name,email,first_name,last_name")
        except GraphError as exc:  # allauth shows its authentication-error page (or our adapter's message)
            raise OAuth2Error(exc.message) from exc
        return self.get_provider().sociallogin_from_response(request, profile)


oauth2_login = OAuth2LoginView.adapter_view(MetaFacebookOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(MetaFacebookOAuth2Adapter)
