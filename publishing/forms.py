from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

from django import forms

from accounts.crypto import encrypted_field_names
from accounts.models import Channel, ChannelStatus

from . import specs
from .models import MediaAsset, Post
from .services.local_time import AmbiguousLocalTime, NonexistentLocalTime, Occurrence, to_aware

USERNAME = re.compile(r"^[A-Za-z0-9._]{1,30}$")  # Instagram usernames: letters, digits, "." and "_", 30 at most
CTA_CHOICES = [("", "No button"), *sorted(specs.FB_CTA_LABELS.items(), key=lambda kv: kv[1])]


class PostForm(forms.Form):
    """The composer. Besides these fields it reads, for each chosen channel, `caption_<pk>` and
    `first_comment_<pk>` (what differs on that channel), and for each chosen file, in the order sent,
    `alt_<pk>`, `user_tags_<pk>` and `product_tags_<pk>` (JSON lists of tags placed on the image)."""

    channels = forms.ModelMultipleChoiceField(
        queryset=Channel.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "One of the chosen accounts is no longer connected to this workspace."},
    )
    format = forms.ChoiceField(choices=Post.Format.choices, initial=Post.Format.FEED)
    caption = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False, strip=False)
    media = forms.ModelMultipleChoiceField(
        queryset=MediaAsset.objects.none(),
        required=False,
        error_messages={"invalid_choice": "One of the chosen files was deleted from the media library."},
    )
    link = forms.URLField(
        required=False,
        assume_scheme="https",
        error_messages={"invalid": "This link is not a web address; it should look like https://example.com/page."},
    )
    cta_type = forms.ChoiceField(choices=CTA_CHOICES, required=False, label="Button")
    first_comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, strip=False)
    location_id = forms.RegexField(
        regex=r"^\d{1,30}$",
        required=False,
        error_messages={"invalid": "Pick the place from the search results, or paste the place's Page link there."},
    )
    location_name = forms.CharField(required=False, max_length=200)
    collaborators = forms.CharField(required=False)
    share_to_feed = forms.BooleanField(required=False)
    audio_name = forms.CharField(required=False, max_length=200)
    thumb_offset = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=8,
        decimal_places=2,
        error_messages={"min_value": "The cover frame is a moment of the video: zero seconds or later."},
    )
    cover = forms.ModelChoiceField(
        queryset=MediaAsset.objects.none(),
        required=False,
        error_messages={"invalid_choice": "The cover image was deleted from the media library; pick another."},
    )
    when = forms.ChoiceField(choices=[("now", "Publish now"), ("later", "Schedule")], initial="later")
    date = forms.DateField(required=False, error_messages={"invalid": "Enter the day as a date."})
    time = forms.TimeField(required=False, error_messages={"invalid": "Enter the time as hours and minutes."})
    # Asked only when the time happens twice (the night the clocks go back): 0 the first, 1 the second.
    fold = forms.TypedChoiceField(
        choices=[("0", "The first"), ("1", "The second")],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    # One per rendered form: sending the same form again finds the post it made (see `post_create`).
    form_token = forms.UUIDField(required=False, widget=forms.HiddenInput)
    # The version the person started from, when editing: a save on top of someone else's newer one is asked.
    base_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    intent = forms.ChoiceField(
        choices=[("draft", "Save draft"), ("submit", "Submit"), ("queue", "Add to queue")], required=False
    )

    def __init__(self, *args: object, workspace, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.workspace = workspace
        self.fields["form_token"].initial = uuid.uuid4()
        # The two moments a time that happens twice can mean, once the form has been checked.
        self.fold_choices: list[Occurrence] = []
        self.fields["channels"].queryset = (  # type: ignore[attr-defined]
            Channel.objects.filter(workspace=workspace)
            .exclude(status=ChannelStatus.DISCONNECTED)
            .defer(*encrypted_field_names(Channel))
            .order_by("platform", "name")
        )
        usable = MediaAsset.objects.filter(workspace=workspace)
        self.fields["media"].queryset = usable  # type: ignore[attr-defined]
        self.fields["cover"].queryset = usable.filter(kind=MediaAsset.Kind.IMAGE)  # type: ignore[attr-defined]

    def clean_collaborators(self) -> list[str]:
        raw = self.cleaned_data.get("collaborators") or ""
        names = [name.strip().lstrip("@") for name in re.split(r"[,\s]+", raw) if name.strip().lstrip("@")]
        wrong = [n for n in names if not USERNAME.match(n)]
        if wrong:
            raise forms.ValidationError(
                f"“{wrong[0]}” is not an Instagram username: they use letters, digits, dots and underscores only."
            )
        return list(dict.fromkeys(names))

    def clean(self) -> dict:
        data = super().clean() or {}
        data["ordered_media"] = self._ordered_media(data)
        data["items"] = self._items(data["ordered_media"])
        data["caption_overrides"], data["first_comment_overrides"] = self._overrides(data.get("channels") or [])
        offset = data.get("thumb_offset")
        data["thumb_offset_ms"] = int(offset * 1000) if offset is not None else None
        if data.get("cta_type") == "NO_BUTTON":
            data["cta_type"] = ""
        if not data.get("location_id"):
            data["location_name"] = ""
        data["scheduled_at"] = None
        undated_draft = data.get("intent") == "draft" and not (data.get("date") and data.get("time"))
        # "Add to queue" takes the queue's next free time, whatever the day and time fields say.
        if data.get("when") != "later" or undated_draft or data.get("intent") == "queue":
            return data
        if not (data.get("date") and data.get("time")):
            self.add_error("date", "Pick the day and time to publish, or choose Publish now.")
            return data
        try:
            data["scheduled_at"] = to_aware(data["date"], data["time"], self.workspace.zoneinfo)
        except NonexistentLocalTime as exc:
            self.add_error("time", str(exc))
        except AmbiguousLocalTime as exc:
            self.fold_choices = exc.choices
            if data.get("fold") is None:
                self.add_error("fold", str(exc))
            else:
                data["scheduled_at"] = exc.choices[data["fold"]].moment
        return data

    def _ordered_media(self, data: dict) -> list[MediaAsset]:
        chosen = {str(a.pk): a for a in data.get("media") or []}
        return list({pk: chosen[pk] for pk in self.data.getlist("media") if pk in chosen}.values())  # type: ignore[attr-defined]

    def _items(self, assets: list[MediaAsset]) -> list[dict]:
        items = []
        for asset in assets:
            user_tags = self._tags(asset, "user_tags", ("username",))
            product_tags = self._tags(asset, "product_tags", ("product_id",))
            alt = (self.data.get(f"alt_{asset.pk}") or "").strip()[:1000]
            items.append({"asset": asset, "alt_text": alt, "user_tags": user_tags, "product_tags": product_tags})
        return items

    def _tags(self, asset: MediaAsset, field: str, required: tuple[str, ...]) -> list[dict]:
        raw = self.data.get(f"{field}_{asset.pk}") or "[]"
        try:
            tags = json.loads(raw)
            if not isinstance(tags, list):
                raise ValueError
            clean = []
            for tag in tags:
                entry = {key: str(tag[key]).strip().lstrip("@") for key in required}
                if not all(entry.values()):
                    raise ValueError
                for key in ("x", "y"):
                    if tag.get(key) is not None:
                        entry[key] = round(float(tag[key]), 4)
                if tag.get("name"):
                    entry["name"] = str(tag["name"])[:200]
                clean.append(entry)
        except (ValueError, TypeError, KeyError):
            self.add_error(None, f"The tags on {asset.original_name} could not be read; place them again.")
            return []
        if field == "user_tags":
            wrong = [t["username"] for t in clean if not USERNAME.match(t["username"])]
            if wrong:
                self.add_error(None, f"“{wrong[0]}” (tagged on {asset.original_name}) is not an Instagram username.")
        return clean

    def _overrides(self, channels: list[Channel]) -> tuple[dict[int, str], dict[int, str]]:
        captions, comments = {}, {}
        for channel in channels:
            caption = self.data.get(f"caption_{channel.pk}") or ""
            comment = self.data.get(f"first_comment_{channel.pk}") or ""
            if caption.strip():
                captions[channel.pk] = caption
            if comment.strip():
                comments[channel.pk] = comment
        return captions, comments
