"""Instagram API with Instagram Login, as an allauth provider.

allauth's own `instagram` provider still targets the Basic Display API, retired on 2024-12-04. This subclass
keeps its id (`instagram`) and authorizes at www.instagram.com/oauth/authorize with the
`instagram_business_*` scopes, exchanges the code at api.instagram.com for a one-hour token and swaps that for
a 60-day one (`ig_exchange_token`). Registered through SOCIALACCOUNT_PROVIDERS["instagram"]["provider_class"].
Source: developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login."""

from __future__ import annotations

from allauth.socialaccount.providers.instagram.provider import InstagramProvider

from accounts.scopes import INSTAGRAM_LOGIN_SCOPES

from .views import InstagramLoginOAuth2Adapter


class InstagramLoginProvider(InstagramProvider):
    name = "Instagram"
    oauth2_adapter_class = InstagramLoginOAuth2Adapter

    def get_default_scope(self) -> list[str]:
        return list(INSTAGRAM_LOGIN_SCOPES)

    def extract_uid(self, data: dict) -> str:
        # `user_id` is the professional account's id used in API calls (`id` is app-scoped).
        return str(data.get("user_id") or data["id"])


provider_classes = [InstagramLoginProvider]
