"""factory_boy factories: people, agencies and workspaces; connected channels (with real sandbox tokens when given
the sandbox); media, posts, deliveries. Only the tests about OAuth connect through OAuth
(socialhub.devconnect); everything else builds its channels here, in one insert each."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import (
    Agency,
    AgencyMembership,
    Channel,
    ChannelStatus,
    ConnectedVia,
    Platform,
    User,
    Workspace,
    WorkspaceMembership,
)
from accounts.scopes import FACEBOOK_LOGIN_OPTIONAL_SCOPES, FACEBOOK_LOGIN_SCOPES, INSTAGRAM_LOGIN_SCOPES
from publishing.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryState, MediaAsset, Post, PostMedia
from publishing.probe import MediaInfo
from sandbox.client import SandboxControl

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Brand {n}")
    timezone = "UTC"


class AgencyMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgencyMembership

    agency = factory.SubFactory(AgencyFactory)
    user = factory.SubFactory(UserFactory)
    role = "member"


class WorkspaceMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkspaceMembership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = "editor"


# --- Channels ------------------------------------------------------------------------------------------------
# Ids in the Graph API sandbox's seed 1, which the suite's sandbox runs (tests/sandbox_fixtures.py); `GET
# /__sandbox__/state` lists them all.
HARBOR_PAGE, HARBOR_IG = "183533740681241", "17841412248244757"  # a Page and its linked Instagram account
LOGIN_ONLY_IG = "17841210259188436"  # @maplethread.studio: reachable through Instagram Login only
# Names the sandbox gives them, for channels made without a sandbox: (name, username)
SEEDED_NAMES = {
    HARBOR_PAGE: ("Harbor Yoga Studio", ""),
    HARBOR_IG: ("Harbor Yoga Studio", "harboryoga"),
    LOGIN_ONLY_IG: ("Maple & Thread", "maplethread.studio"),
}
# What the Channels page asks Meta for with Facebook Login (accounts/channel_views.py); Meta adds public_profile.
FACEBOOK_ASKED = ["public_profile", *FACEBOOK_LOGIN_SCOPES, *FACEBOOK_LOGIN_OPTIONAL_SCOPES]
IG_LOGIN_LIFETIME = timedelta(days=60)  # ig_exchange_token: expires_in 5184000


def connect_scopes(*, platform: str, connected_via: str) -> list[str]:
    """The `granted_scopes` the connect flow stores when the person allows everything it asks for. Meta grants
    the `instagram_*` scopes for the ticked Instagram accounts only (`granular_scopes` target ids), so a Page
    keeps the others; an Instagram account reached through its Page keeps its own and its Page's."""
    if connected_via == ConnectedVia.INSTAGRAM_LOGIN:
        return list(INSTAGRAM_LOGIN_SCOPES)
    if platform == Platform.INSTAGRAM:
        return sorted(FACEBOOK_ASKED)
    return sorted(s for s in FACEBOOK_ASKED if not s.startswith("instagram_"))


def sandbox_connection(o: Any) -> dict[str, Any]:
    """What Meta hands over when the channel is connected: its token and when that expires, and the account's
    name, username and picture. With a sandbox (a SandboxControl or its URL) the token is a real one from its
    `tokens/issue` control, so the channel publishes against it; without, a dummy for tests that never call Meta."""
    now = timezone.now()
    if o.sandbox is None:
        name, username = SEEDED_NAMES.get(o.external_id, (f"Account {o.external_id}", ""))
        ig_login = o.connected_via == ConnectedVia.INSTAGRAM_LOGIN
        return {
            "access_token": f"dummy-token-for-{o.external_id}",
            "expires_at": now + IG_LOGIN_LIFETIME if ig_login else None,
            "name": name,
            "username": username,
            "avatar_url": "",
        }
    control = o.sandbox if isinstance(o.sandbox, SandboxControl) else SandboxControl(o.sandbox)
    if o.connected_via == ConnectedVia.INSTAGRAM_LOGIN:
        answer = control.issue_instagram_token(o.external_id, scopes=list(o.granted_scopes))
        return {
            "access_token": answer["access_token"],
            "expires_at": now + timedelta(seconds=answer["expires_in"]),
            "name": answer["name"] or answer["username"],
            "username": answer["username"],
            "avatar_url": answer["profile_picture_url"],
        }
    page_id = o.page_id or o.external_id
    instagram = o.platform == Platform.INSTAGRAM
    answer = control.issue_facebook_token(
        scopes=list(o.granted_scopes), page_ids=[page_id], ig_ids=[o.external_id] if instagram else []
    )
    page = answer["pages"][0]
    # An Instagram account connected through Facebook Login is reached with its Page's token, which never expires.
    account = page["instagram_business_account"] if instagram else page
    if account is None or account["id"] != o.external_id:
        raise ValueError(f"{o.external_id} is not Page {page_id} or its linked Instagram account in the sandbox")
    return {
        "access_token": page["access_token"],
        "expires_at": None,
        "name": account["name"] or account.get("username", ""),
        "username": account.get("username", ""),
        "avatar_url": account.get("profile_picture_url") or account.get("picture_url", ""),
    }


class ChannelFactory(factory.django.DjangoModelFactory):
    """A connected channel, the row the connect flow (accounts.services.channels) leaves, in one insert.

    Default: the Facebook Page Harbor Yoga Studio. Traits: `instagram=True` (@harboryoga through Facebook
    Login, reached with its Page's token) and `instagram_login=True` (@maplethread.studio, 60-day token).
    Another seeded account: pass `external_id` (and `page_id` for an Instagram account through its Page).
    `sandbox=`: a SandboxControl (the `sandbox_control` fixture) or its URL, for a real token that publishes
    against the sandbox; without it the token is a dummy. Pass `connected_by` for the person who connected it
    (the flow always sets it) and `granted_scopes` for a narrower grant (Meta is then asked for only those)."""

    class Meta:
        model = Channel

    class Params:
        sandbox = None
        connection = factory.LazyAttribute(sandbox_connection)
        instagram = factory.Trait(platform=Platform.INSTAGRAM, external_id=HARBOR_IG, page_id=HARBOR_PAGE)
        instagram_login = factory.Trait(
            platform=Platform.INSTAGRAM, connected_via=ConnectedVia.INSTAGRAM_LOGIN, external_id=LOGIN_ONLY_IG
        )

    workspace = factory.SubFactory(WorkspaceFactory)
    platform = Platform.FACEBOOK_PAGE
    connected_via = ConnectedVia.FACEBOOK_LOGIN
    external_id = HARBOR_PAGE
    page_id = ""
    name = factory.LazyAttribute(lambda o: o.connection["name"])
    username = factory.LazyAttribute(lambda o: o.connection["username"])
    avatar_url = factory.LazyAttribute(lambda o: o.connection["avatar_url"])
    access_token = factory.LazyAttribute(lambda o: o.connection["access_token"])
    token_issued_at = factory.LazyFunction(timezone.now)
    token_expires_at = factory.LazyAttribute(lambda o: o.connection["expires_at"])
    granted_scopes = factory.LazyAttribute(lambda o: connect_scopes(platform=o.platform, connected_via=o.connected_via))
    status = ChannelStatus.ACTIVE
    last_checked_at = factory.SelfAttribute("token_issued_at")
    connected_by = None
    connected_at = factory.SelfAttribute("token_issued_at")


# --- Media, posts and deliveries -----------------------------------------------------------------------------
def _probe(o: Any) -> dict[str, Any]:
    video = o.kind == MediaAsset.Kind.VIDEO
    info = MediaInfo(
        kind=o.kind,
        format=o.format,
        mime_type=o.mime_type,
        size_bytes=o.size_bytes,
        width=o.width,
        height=o.height,
        duration_seconds=o.duration_seconds,
        frame_rate=o.frame_rate,
        video_codec=o.video_codec or None,
        audio_codec=o.audio_codec or None,
        audio_sample_rate=44100 if o.audio_codec else None,
        audio_channels=1 if o.audio_codec else None,
        pixel_format="yuv420p" if video else "RGB",
        has_audio=bool(o.audio_codec),
        faststart=True if video else None,
        filename=o.original_name,
    )
    return dataclasses.asdict(info)


class MediaAssetFactory(factory.django.DjangoModelFactory):
    """A library file as `media_asset_upload` leaves it after probing a 1080×1080 JPEG, or with `video=True` a
    4 s 1080×1920 H.264/AAC MP4 (a reel). The row only: no bytes are written, so the rules, the composer and
    the views work, but Meta cannot fetch it; use the `upload` fixture (tests/publishing/conftest.py) to publish."""

    class Meta:
        model = MediaAsset

    class Params:
        video = factory.Trait(
            original_name=factory.Sequence(lambda n: f"clip{n}.mp4"),
            kind=MediaAsset.Kind.VIDEO,
            format="mp4",
            mime_type="video/mp4",
            size_bytes=312_183,
            width=1080,
            height=1920,
            duration_seconds=4.0,
            frame_rate=30.0,
            video_codec="h264",
            audio_codec="aac",
        )

    workspace = factory.SubFactory(WorkspaceFactory)
    public_id = factory.LazyFunction(uuid.uuid4)
    original_name = factory.Sequence(lambda n: f"photo{n}.jpg")
    file = factory.LazyAttribute(lambda o: f"workspaces/{o.workspace.public_id}/media/{o.public_id}/{o.original_name}")
    kind = MediaAsset.Kind.IMAGE
    format = "jpeg"
    mime_type = "image/jpeg"
    size_bytes = 20_601
    width = 1080
    height = 1080
    duration_seconds = None
    frame_rate = None
    video_codec = ""
    audio_codec = ""
    probe = factory.LazyAttribute(_probe)


def _scheduled_local(o: Any) -> str:
    if o.scheduled_at is None:
        return ""
    return o.scheduled_at.astimezone(o.workspace.zoneinfo).strftime("%Y-%m-%dT%H:%M:%S")


class PostFactory(factory.django.DjangoModelFactory):
    """A post as `post_create` makes it, without deliveries (add them with DeliveryFactory). Pass `author`."""

    class Meta:
        model = Post

    workspace = factory.SubFactory(WorkspaceFactory)
    author = None
    caption = factory.Sequence(lambda n: f"Post number {n}")
    scheduled_at = None
    scheduled_timezone = factory.SelfAttribute("workspace.timezone")
    scheduled_local = factory.LazyAttribute(_scheduled_local)


class PostMediaFactory(factory.django.DjangoModelFactory):
    """One item of a post's media, after the ones it already has."""

    class Meta:
        model = PostMedia

    post = factory.SubFactory(PostFactory)
    asset = factory.SubFactory(MediaAssetFactory, workspace=factory.SelfAttribute("..post.workspace"))
    position = factory.LazyAttribute(lambda o: o.post.items.count())


# What post_create picks for a post without link or media options (publishing.services.posts.delivery_kind).
_KINDS = {
    (Platform.FACEBOOK_PAGE, Post.Format.FEED): DeliveryKind.FB_TEXT,
    (Platform.FACEBOOK_PAGE, Post.Format.REEL): DeliveryKind.FB_REEL,
    (Platform.INSTAGRAM, Post.Format.FEED): DeliveryKind.IG_IMAGE,
    (Platform.INSTAGRAM, Post.Format.REEL): DeliveryKind.IG_REEL,
    (Platform.INSTAGRAM, Post.Format.STORY): DeliveryKind.IG_STORY,
}


def _remote_id(o: Any, n: int) -> str:
    if o.channel.platform == Platform.INSTAGRAM:
        return str(17_900_000_000_000_000 + n)  # an IG media id
    return f"{o.channel.external_id}_{10_000_000_000_000_000 + n}"  # a Page post id: <page id>_<post id>


def _permalink(o: Any) -> str:
    if o.channel.platform == Platform.INSTAGRAM:
        return f"https://www.instagram.com/p/F{o.remote_id[-10:]}/"
    return f"https://www.facebook.com/{o.remote_id.replace('_', '/posts/')}"


class DeliveryFactory(factory.django.DjangoModelFactory):
    """One post on one channel (both made in the channel's workspace unless given): a draft, as `post_create`
    leaves it, or `scheduled=True` (due now), `failed=True`, `published=True`. Their fields belong to the
    pipeline: tests of it start from `post_create` / `post_submit`; this is for views, the admin and lists."""

    class Meta:
        model = Delivery

    class Params:
        scheduled = factory.Trait(
            state=DeliveryState.SCHEDULED,
            due_at=factory.LazyFunction(timezone.now),
            next_attempt_at=factory.SelfAttribute("due_at"),
        )
        failed = factory.Trait(
            state=DeliveryState.FAILED,
            due_at=factory.LazyFunction(timezone.now),
            attempts=1,
            error_count=1,
            error_message="Meta refused the post.",
        )
        published = factory.Trait(
            state=DeliveryState.PUBLISHED,
            due_at=factory.LazyFunction(timezone.now),
            attempts=1,
            remote_id=factory.LazyAttributeSequence(_remote_id),
            permalink=factory.LazyAttribute(_permalink),
            publish_started_at=factory.SelfAttribute("due_at"),
            publish_confirmed_at=factory.SelfAttribute("due_at"),
            published_at=factory.SelfAttribute("due_at"),
        )

    channel = factory.SubFactory(ChannelFactory)
    post = factory.SubFactory(PostFactory, workspace=factory.SelfAttribute("..channel.workspace"))
    kind = factory.LazyAttribute(lambda o: _KINDS.get((o.channel.platform, o.post.format), DeliveryKind.FB_TEXT))
    state = DeliveryState.DRAFT


class DeliveryAttemptFactory(factory.django.DjangoModelFactory):
    """One run of the publishing task on a delivery, numbered after the ones before it."""

    class Meta:
        model = DeliveryAttempt

    delivery = factory.SubFactory(DeliveryFactory)
    number = factory.LazyAttribute(lambda o: o.delivery.attempt_log.count() + 1)
    outcome = DeliveryAttempt.Outcome.FAILED
    finished_at = factory.LazyFunction(timezone.now)
    message = "Meta refused the post."
