from __future__ import annotations

from django import forms

from accounts.crypto import encrypted_field_names
from accounts.models import Channel, ChannelStatus

from . import specs
from .models import MediaAsset, Post


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

    def __init__(self, *args: object, workspace, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
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
        if data.get("when") == "later" and not (data.get("date") and data.get("time")):
            self.add_error("date", "Pick the day and time to publish, or choose Publish now.")
        return data

    def ordered_media(self) -> list[MediaAsset]:
        chosen = {str(a.pk): a for a in self.cleaned_data.get("media") or []}
        return [chosen[pk] for pk in self.data.getlist("media") if pk in chosen]  # type: ignore[attr-defined]
