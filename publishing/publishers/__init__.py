"""Publishers, one per platform, behind one small protocol (`base.Publisher`)."""

from __future__ import annotations

from accounts.models import Platform

from . import facebook, instagram
from .base import Publisher


def publisher_for(platform: str) -> Publisher:
    return instagram.PUBLISHER if platform == Platform.INSTAGRAM else facebook.PUBLISHER
