from django.urls import path

from . import approval_views, calendar_views, composer_views, lookup_views, overview_views, queue_views, views

app_name = "publishing"

urlpatterns = [
    path("media/s/<str:signed>/<str:filename>", views.media_public, name="media_public"),
    path("agency/<uuid:agency_id>/overview/", overview_views.agency_overview, name="agency_overview"),
    path("w/<uuid:workspace_id>/media/", views.media_library, name="media_library"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/", views.media_card, name="media_card"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/fix/<str:fix>/", views.media_fix, name="media_fix"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/file", views.media_file, name="media_file"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/delete/", views.media_delete, name="media_delete"),
    path("w/<uuid:workspace_id>/media/<uuid:asset_id>/duplicate/", views.media_duplicate, name="media_duplicate"),
    path("w/<uuid:workspace_id>/posts/", views.post_list, name="posts"),
    path("w/<uuid:workspace_id>/calendar/", calendar_views.calendar_page, name="calendar"),
    path(
        "w/<uuid:workspace_id>/posts/<uuid:post_id>/reschedule/",
        calendar_views.post_reschedule,
        name="post_reschedule",
    ),
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
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/review/", approval_views.post_review, name="post_review"),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/approve/", approval_views.post_approve, name="post_approve"),
    path(
        "w/<uuid:workspace_id>/posts/<uuid:post_id>/request-changes/",
        approval_views.post_request_changes,
        name="post_request_changes",
    ),
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/comments/", approval_views.post_comment, name="post_comment"),
    path("w/<uuid:workspace_id>/approvals/", approval_views.approvals_list, name="approvals"),
    path("w/<uuid:workspace_id>/approvals/links/", approval_views.approval_links, name="approval_links"),
    path(
        "w/<uuid:workspace_id>/approvals/links/<uuid:link_id>/revoke/",
        approval_views.approval_link_revoke,
        name="approval_link_revoke",
    ),
    # A client's review through a magic link: no account; the token is exchanged for a session entry at once.
    path("review/", approval_views.client_review, name="client_review"),
    path("review/posts/<uuid:post_id>/", approval_views.client_post, name="client_post"),
    path("review/posts/<uuid:post_id>/approve/", approval_views.client_approve, name="client_approve"),
    path(
        "review/posts/<uuid:post_id>/request-changes/",
        approval_views.client_request_changes,
        name="client_request_changes",
    ),
    path("review/posts/<uuid:post_id>/comments/", approval_views.client_comment, name="client_comment"),
    path("review/<str:token>/", approval_views.client_review_open, name="client_review_open"),
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
    path("w/<uuid:workspace_id>/posts/<uuid:post_id>/queue/", queue_views.post_queue, name="post_queue"),
    path("w/<uuid:workspace_id>/queue/", queue_views.queue_page, name="queue"),
    path("w/<uuid:workspace_id>/queue/<uuid:channel_id>/slots/", queue_views.queue_slots_add, name="queue_slots_add"),
    path(
        "w/<uuid:workspace_id>/queue/<uuid:channel_id>/slots/<int:slot_id>/remove/",
        queue_views.queue_slot_remove,
        name="queue_slot_remove",
    ),
    path("w/<uuid:workspace_id>/queue/<uuid:channel_id>/order/", queue_views.queue_reorder, name="queue_reorder"),
    path("w/<uuid:workspace_id>/queue/<uuid:channel_id>/pause/", queue_views.queue_pause, name="queue_pause"),
    path("w/<uuid:workspace_id>/queue/<uuid:channel_id>/resume/", queue_views.queue_resume, name="queue_resume"),
    path(
        "w/<uuid:workspace_id>/queue/<uuid:channel_id>/posts/<uuid:post_id>/remove/",
        queue_views.queue_remove_post,
        name="queue_remove_post",
    ),
]
