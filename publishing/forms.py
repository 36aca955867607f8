from __future__ import annotations

import uuid

from django import forms

from accounts.crypto import encrypted_field_names
from accounts.models import Channel, ChannelStatus

from . import specs
from .models import MediaAsset, Post
from .services.local_time import AmbiguousLocalTime, NonexistentLocalTime, Occurrence, to_aware


class PostForm(forms.Form):
    channels = forms.ModelMultipleChoiceField(queryset=Channel.objects.none(), widget=forms.CheckboxSelectMultiple)
    format = forms.ChoiceField(
        choices=Post.Format.choices, initial=Post.Format.FEED, widget=forms.Select(attrs={"class": "form-select"})
    )
    caption = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)
    media = forms.ModelMultipleChoiceField(
        queryset=MediaAsset.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="In the order ticked below; a carousel takes 2 to 10.",
    )
    link = forms.URLField(required=False, assume_scheme="https", help_text="Facebook: the link the post shares.")
    cta_type = forms.ChoiceField(
        choices=[("", "No button"), *[(t, t.replace("_", " ").title()) for t in specs.FB_CTA_TYPES]],
        required=False,
        label="Facebook button",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    first_comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    location_id = forms.CharField(required=False, label="Instagram location (place Page id)")
    collaborators = forms.CharField(required=False, help_text="Instagram usernames, comma-separated (at most 3).")
    when = forms.ChoiceField(choices=[("now", "Publish now"), ("later", "Schedule")], initial="later")
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
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
        )
        self.fields["media"].queryset = MediaAsset.objects.filter(workspace=workspace).usable()  # type: ignore[attr-defined]

    def clean_collaborators(self) -> list[str]:
        raw = self.cleaned_data.get("collaborators") or ""
        return [name.strip().lstrip("@") for name in raw.split(",") if name.strip()]

    def clean(self) -> dict:
        data = super().clean() or {}
        data["scheduled_at"] = None
        if data.get("when") != "later":
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

    def ordered_media(self) -> list[MediaAsset]:
        chosen = {str(a.pk): a for a in self.cleaned_data.get("media") or []}
        return [chosen[pk] for pk in self.data.getlist("media") if pk in chosen]  # type: ignore[attr-defined]
