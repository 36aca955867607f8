"""allauth's Facebook provider, pointed at the hosts and API version in settings at request time.

allauth reads its Graph URL and version once, at import, and defaults to a retired version; SocialHub's
settings (META_FACEBOOK_URL, META_GRAPH_URL, META_GRAPH_VERSION) decide instead, so tests, the demo and
Meta itself are one settings change apart. Registered through SOCIALACCOUNT_PROVIDERS["facebook"]
["provider_class"]."""

from __future__ import annotations

from allauth.socialaccount.providers.facebook.provider import FacebookProvider

from .views import MetaFacebookOAuth2Adapter


class MetaFacebookProvider(FacebookProvider):
    oauth2_adapter_class = MetaFacebookOAuth2Adapter

    def media_js(self, request):  # type: ignore[no-untyped-def]
        return ""  # no JS SDK: the OAuth2 redirect flow only (and no third-party script under our CSP)


provider_classes = [MetaFacebookProvider]
