"""Bad input gets a clear error, per channel, before anything reaches Meta."""

from __future__ import annotations

import pytest

from accounts.access import get_workspace_for_user
from publishing.models import Post
from publishing.services.posts import MediaItem, PostInvalid, post_create, post_submit, post_validate

pytestmark = pytest.mark.django_db


def problems_for(post) -> dict[str, list[str]]:
    return {ch.display_name: [p.message for p in ps if p.blocking] for ch, ps in post_validate(post).items()}


def graph_calls(sandbox_control) -> int:
    return len([r for r in sandbox_control.requests(limit=500) if r["host"] != "__sandbox__"])


def test_each_channel_says_what_is_wrong(channels, upload, samples, workspace, alice, sandbox_control):
    tall = upload(samples.jpeg(400, 1200))  # 1:3: too tall for the Instagram feed, fine for Facebook
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[channels["ig"], channels["page"]],
        caption="#a " * 31,
        media=[MediaItem(tall)],
    )
    before = graph_calls(sandbox_control)
    found = problems_for(post)
    ig = " ".join(found["@harboryoga"])
    assert "1:3" in ig and "4:5" in ig  # names the actual shape and the rule
    assert "31 hashtags" in ig and "30" in ig
    assert found["Harbor Yoga Studio"] == []
    with pytest.raises(PostInvalid) as raised:
        post_submit(post=post, access=get_workspace_for_user(alice, workspace.public_id))
    assert set(raised.value.problems) == {channels["ig"]}
    assert graph_calls(sandbox_control) == before  # nothing reached Meta


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"format": Post.Format.STORY}, "SocialHub publishes stories to Instagram only"),
        ({"cta_type": "SIGN_UP"}, "A call-to-action button needs a link"),
        ({"cta_type": "TELEPORT", "link": "https://example.com"}, "not a button type Facebook offers"),
    ],
)
def test_facebook_rules(channels, workspace, alice, options, expected):
    post = post_create(workspace=workspace, author=alice, channels=[channels["page"]], caption="Hi", **options)
    assert any(expected in m for m in problems_for(post)["Harbor Yoga Studio"])


def test_instagram_rules(channels, upload, samples, workspace, alice):
    photo = upload(samples.jpeg(1080, 1080))
    clip = upload(samples.reel())
    cases = [
        ({"media": []}, "need at least one photo or video"),
        ({"media": [MediaItem(photo)] * 11}, "at most 10"),
        ({"media": [MediaItem(photo)], "format": Post.Format.REEL}, "A reel takes exactly one video"),
        (
            {"media": [MediaItem(clip, user_tags=[{"username": "x", "x": 0.5, "y": 0.5}])], "format": Post.Format.REEL},
            "People can be tagged on photos only",
        ),
        ({"media": [MediaItem(photo, user_tags=[{"username": "x", "x": 1.4, "y": 0.5}])]}, "outside the picture"),
        ({"media": [MediaItem(photo)], "collaborators": ["a", "b", "c", "d"]}, "At most 3 collaborators"),
    ]
    for options, expected in cases:
        post = post_create(workspace=workspace, author=alice, channels=[channels["ig"]], caption="Hi", **options)
        messages = problems_for(post)["@harboryoga"]
        assert any(expected in m for m in messages), (expected, messages)


def test_product_tags_need_the_facebook_login_path(channels, upload, samples, workspace, alice):
    photo = upload(samples.jpeg(1080, 1080))
    tag = [{"product_id": "1", "x": 0.5, "y": 0.5}]
    post = post_create(
        workspace=workspace,
        author=alice,
        channels=[channels["ig_login"]],
        caption="Shop",
        media=[MediaItem(photo, product_tags=tag)],
    )
    assert any("connected through Facebook" in m for m in problems_for(post)["@maplethread.studio"])


def test_unreadable_upload_is_kept_and_explained(channels, upload, samples, workspace, alice):
    broken = upload(samples.corrupt())
    assert broken.kind == "unknown" and broken.probe_error and broken.file.name  # kept, with the reason
    post = post_create(
        workspace=workspace, author=alice, channels=[channels["page"]], caption="x", media=[MediaItem(broken)]
    )
    assert any("corrupt.jpg" in m for m in problems_for(post)["Harbor Yoga Studio"])


def test_channels_and_media_of_another_workspace_are_refused(channels, workspace, alice, agency):
    from tests.factories import WorkspaceFactory

    other = WorkspaceFactory(agency=agency)
    with pytest.raises(PermissionError):
        post_create(workspace=other, author=alice, channels=[channels["page"]], caption="x")
