from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms

from .models import Kind


class PreferencesForm(forms.Form):
    """One "in app" and one "email" checkbox per kind, filled with the person's current choices."""

    def __init__(self, *args: Any, current: dict[str, tuple[bool, bool]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in Kind:
            in_app, email = current[kind]
            for channel, label, value in (("in_app", "In app", in_app), ("email", "Email", email)):
                self.fields[f"{kind.value}__{channel}"] = forms.BooleanField(
                    required=False,
                    initial=value,
                    label=f"{label}: {kind.label}",
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )

    def rows(self) -> Iterator[tuple[str, forms.BoundField, forms.BoundField]]:
        for kind in Kind:
            yield kind.label, self[f"{kind.value}__in_app"], self[f"{kind.value}__email"]

    def choices(self) -> dict[str, tuple[bool, bool]]:
        data = self.cleaned_data
        return {kind.value: (data[f"{kind.value}__in_app"], data[f"{kind.value}__email"]) for kind in Kind}
