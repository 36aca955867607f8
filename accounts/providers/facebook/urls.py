from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from .provider import MetaFacebookProvider

urlpatterns = default_urlpatterns(MetaFacebookProvider)
