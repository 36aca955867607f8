from django.urls import path

from . import composer_views, lookup_views, views

app_name = "publishing"

urlpatterns = [
    path("media/s/<str:signed>/<str:filename>", views.media_public, name="media_public"),
    path("w/<uuid:workspace_id>/media/", views.media_library, name="media_library"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/", views.media_card, name="media_card"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/fix/<str:fix>/", views.media_fix, name="media_fix"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/file", views.media_file, name="media_file"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/delete/", views.media_delete, name="media_delete"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/duplicate/", views.media_duplicate, name="media_duplicate"),
    path("w/<uuid:workspace_id>/posts/", views.post_list, name="posts"),
    path("w/<uuid:workspace_id>/posts/new/", composer_views.post_new, name="post_new"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/edit/", composer_views.post_edit, name="post_edit"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/check/", composer_views.compose_check, name="post_check"),
    path("w/<uuid:workspace_id>/compose/check/", composer_views.compose_check, name="compose_check"),
    path("w/<uuid:workspace_id>/compose/library/", composer_views.compose_library, name="compose_library"),
    path("w/<uuid:workspace_id>/compose/upload/", composer_views.compose_upload, name="compose_upload"),
    path(
        "w/<uuid:workspace_id>/compose/media/<uuid:asset_id>/row/",
        composer_views.compose_media_row,
        name="compose_media_row",
    ),
    path(
        "w/<uuid:workspace_id>/compose/media/<uuid:asset_id>/fix/<str:fix>/",
        composer_views.compose_fix,
        name="compose_fix",
    ),
    path(
        "w/<uuid:workspace_id>/compose/unsaved/<uuid:draft_id>/discard/",
        composer_views.compose_discard,
        name="compose_discard",
    ),
    path("w/<uuid:workspace_id>/compose/lookups/", lookup_views.lookup_create, name="lookup_create"),
    path("w/<uuid:workspace_id>/compose/lookups/<uuid:lookup_id>/", lookup_views.lookup_detail, name="lookup_detail"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/approve/", views.post_approve, name="post_approve"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/cancel/", views.post_cancel, name="post_cancel"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/deliveries/", views.post_deliveries, name="post_deliveries"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/duplicate/", views.post_duplicate, name="post_duplicate"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/delete/", views.post_delete, name="post_delete"),
    path("w/<uuid:workspace_id>/deliveries/<uuid:delivery_id>/retry/", views.delivery_retry, name="delivery_retry"),
    path(
        "w/<uuid:workspace_id>/deliveries/<uuid:delivery_id>/confirm/", views.delivery_confirm, name="delivery_confirm"
    ),
    path(
        "w/<uuid:workspace_id>/deliveries/<uuid:delivery_id>/publish-again/",
        views.delivery_publish_again,
        name="delivery_publish_again",
    ),
]
