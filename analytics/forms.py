"""Forms of the client report and the agency's branding: who gets the report by email and how often, and the
logo printed on it."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from PIL import Image, UnidentifiedImageError

from .models import ReportFrequency

MAX_RECIPIENTS = 20
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg"}  # what Pillow reads → the stored file's extension
LOGO_MAX_PIXELS = 25_000_000  # a logo; anything bigger is refused before it is decoded


def split_recipients(text: str) -> list[str]:
    """Addresses written one per line or separated by commas, semicolons or spaces, in order, each once."""
    seen: dict[str, str] = {}
    for part in re.split(r"[\s,;]+", text or ""):
        address = part.strip().strip("<>")
        if address and address.lower() not in seen:
            seen[address.lower()] = address
    return list(seen.values())


class ReportScheduleForm(forms.Form):
    frequency = forms.ChoiceField(
        choices=ReportFrequency.choices,
        initial=ReportFrequency.WEEKLY,
        widget=forms.RadioSelect,
        label="How often",
        error_messages={
            "required": "Choose how often the report goes out.",
            "invalid_choice": "Choose weekly or monthly.",
        },
    )
    recipients = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Send to",
        help_text="Email addresses, one per line or separated by commas.",
        error_messages={"required": "Write at least one email address to send the report to."},
    )

    def clean_recipients(self) -> list[str]:
        addresses = split_recipients(self.cleaned_data["recipients"])
        if not addresses:
            raise ValidationError("Write at least one email address to send the report to.")
        wrong = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                wrong.append(address)
        if wrong:
            listed = ", ".join(f"“{a}”" for a in wrong[:5])
            raise ValidationError(
                f"{listed} {'is not an email address' if len(wrong) == 1 else 'are not email addresses'}. "
                "Write each address in full, like name@example.com."
            )
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(
                f"A report can go to at most {MAX_RECIPIENTS} addresses; this lists {len(addresses)}."
            )
        return addresses


class BrandingForm(forms.Form):
    logo = forms.FileField(
        label="Logo",
        help_text="A PNG or JPEG image of at most 2 MB. It is printed at the top of every client report.",
        error_messages={"required": "Choose an image file to upload.", "empty": "The file is empty."},
    )

    def clean_logo(self) -> Any:
        upload = self.cleaned_data["logo"]
        if upload.size > LOGO_MAX_BYTES:
            raise ValidationError(f"The file is {upload.size / 1024 / 1024:.1f} MB; a logo can be at most 2 MB.")
        try:
            upload.seek(0)
            with Image.open(upload) as image:
                fmt = image.format
                width, height = image.size
                if width * height > LOGO_MAX_PIXELS:
                    raise ValidationError(f"The image is {width}×{height} pixels; a logo needs far fewer.")
                image.verify()  # reads the whole file: a truncated or damaged image is refused here
        except ValidationError:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise ValidationError("The file is not an image that can be read. Upload a PNG or JPEG file.") from None
        if fmt not in LOGO_FORMATS:
            raise ValidationError(f"The image is a {fmt or 'different'} file; upload a PNG or JPEG.")
        upload.seek(0)
        upload.logo_extension = LOGO_FORMATS[fmt]
        return upload
