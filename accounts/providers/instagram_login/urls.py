from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from .provider import InstagramLoginProvider

urlpatterns = default_urlpatterns(InstagramLoginProvider)
