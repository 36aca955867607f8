from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from inbox import webhooks as inbox_webhooks

from .health import healthz

# Operators sign in through allauth too, so its rate limits and MFA apply to the admin.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "SocialHub operations"
admin.site.site_title = "SocialHub admin"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("publishing.urls")),
    path("", include("notifications.urls")),
    path("", include("inbox.urls")),
    path("", include("analytics.urls")),
    path("webhooks/meta/", inbox_webhooks.receive, name="meta_webhook"),
]
