from django.urls import path

from . import channel_views, views

app_name = "accounts"

urlpatterns = [
    path("onboarding/", views.onboarding, name="onboarding"),
    path("w/<uuid:workspace_id>/", views.workspace_dashboard, name="workspace_dashboard"),
    path("w/<uuid:workspace_id>/settings/", views.workspace_settings, name="workspace_settings"),
    path("w/<uuid:workspace_id>/pause/", views.workspace_pause, name="workspace_pause"),
    path("w/<uuid:workspace_id>/resume/", views.workspace_resume, name="workspace_resume"),
    path("w/<uuid:workspace_id>/team/", views.workspace_team, name="workspace_team"),
    path(
        "w/<uuid:workspace_id>/team/<int:membership_id>/role/",
        views.workspace_member_role,
        name="workspace_member_role",
    ),
    path(
        "w/<uuid:workspace_id>/team/<int:membership_id>/remove/",
        views.workspace_member_remove,
        name="workspace_member_remove",
    ),
    path("w/<uuid:workspace_id>/channels/", channel_views.channel_list, name="channels"),
    path("w/<uuid:workspace_id>/channels/connect/<str:via>/", channel_views.channel_connect, name="channel_connect"),
    path("w/<uuid:workspace_id>/channels/pick/<uuid:pending_id>/", channel_views.channel_pick, name="channel_pick"),
    path(
        "w/<uuid:workspace_id>/channels/<uuid:channel_id>/reconnect/",
        channel_views.channel_reconnect,
        name="channel_reconnect",
    ),
    path("w/<uuid:workspace_id>/channels/<uuid:channel_id>/check/", channel_views.channel_check, name="channel_check"),
    path(
        "w/<uuid:workspace_id>/channels/<uuid:channel_id>/disconnect/",
        channel_views.channel_disconnect,
        name="channel_disconnect",
    ),
    path("agency/<uuid:agency_id>/workspaces/new/", views.workspace_create, name="workspace_create"),
    path("agency/<uuid:agency_id>/team/", views.agency_team, name="agency_team"),
    path("agency/<uuid:agency_id>/team/<int:membership_id>/role/", views.agency_member_role, name="agency_member_role"),
    path(
        "agency/<uuid:agency_id>/team/<int:membership_id>/remove/",
        views.agency_member_remove,
        name="agency_member_remove",
    ),
    path(
        "agency/<uuid:agency_id>/invitations/<int:invitation_id>/link/",
        views.invitation_link,
        name="invitation_link",
    ),
    path(
        "agency/<uuid:agency_id>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path(
        "invitations/pending/<int:invitation_id>/accept/",
        views.invitation_accept_pending,
        name="invitation_accept_pending",
    ),
]
