from django.urls import path

from . import views

app_name = "notifications"

# Each person's own notifications: no workspace in these URLs, and another person's notification is a 404.
urlpatterns = [
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/count/", views.notification_count, name="notification_count"),
    path("notifications/panel/", views.notification_panel, name="notification_panel"),
    path("notifications/read/", views.notification_read_all, name="notification_read_all"),
    path("notifications/<int:notification_id>/open/", views.notification_open, name="notification_open"),
    path("notifications/preferences/", views.notification_preferences, name="notification_preferences"),
]
