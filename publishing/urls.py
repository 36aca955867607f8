from django.urls import path

from . import composer_views, views

app_name = "publishing"

urlpatterns = [
    path("media/s/<str:signed>/<str:filename>", views.media_public, name="media_public"),
    path("w/<uuid:workspace_id>/media/", views.media_library, name="media_library"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/", views.media_card, name="media_card"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/fix/<str:fix>/", views.media_fix, name="media_fix"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/file", views.media_file, name="media_file"),
    path("w/<uuid:workspace_id>/posts/", views.post_list, name="posts"),
    path("w/<uuid:workspace_id>/posts/new/", composer_views.post_new, name="post_new"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/edit/", composer_views.post_edit, name="post_edit"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/approve/", views.post_approve, name="post_approve"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/cancel/", views.post_cancel, name="post_cancel"),
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
