"""The Content-Security-Policy names SocialHub, Meta's consent dialogs, Meta's picture CDNs and the media bucket,
and no other host: never a bare `https:` or `http:`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from socialhub.content_policy import content_security_policy, origin, s3_origins

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_no_scheme_wildcards(policy: dict[str, list[str]]) -> None:
    for name, sources in policy.items():
        assert not {"https:", "http:", "*"} & set(sources), name


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8100/www.facebook.com", "http://127.0.0.1:8100"),
        ("https://www.facebook.com", "https://www.facebook.com"),
        ("HTTPS://WWW.Instagram.com/oauth/authorize?x=1", "https://www.instagram.com"),
        ("https://user:secret@minio.example.com:9000/bucket", "https://minio.example.com:9000"),
        ("http://[::1]:8100/graph", "http://[::1]:8100"),
    ],
)
def test_origin(url, expected):
    assert origin(url) == expected


def test_origin_refuses_a_relative_url():
    with pytest.raises(ValueError):
        origin("/www.facebook.com")


@pytest.mark.no_sandbox
def test_production_defaults(client):
    policy = directives(client.get("/accounts/login/"))
    assert policy["form-action"] == ["'self'", "https://www.facebook.com", "https://www.instagram.com"]
    assert policy["img-src"] == ["'self'", "data:", "https://*.fbcdn.net", "https://*.cdninstagram.com"]
    assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert_no_scheme_wildcards(policy)


def test_sandbox_urls_reduce_to_the_sandbox_origin(client, alice, workspace, sandbox):
    client.force_login(alice)
    policy = directives(client.get(f"/w/{workspace.public_id}/channels/"))
    assert sandbox.url.startswith("http://127.0.0.1:")
    assert policy["form-action"] == ["'self'", sandbox.url]
    assert policy["img-src"] == ["'self'", "data:", "https://*.fbcdn.net", "https://*.cdninstagram.com", sandbox.url]
    assert_no_scheme_wildcards(policy)


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ({"bucket": "socialhub-media"}, ["https://socialhub-media.s3.amazonaws.com"]),
        (
            {"bucket": "socialhub-media", "region": "eu-west-1"},
            ["https://socialhub-media.s3.amazonaws.com", "https://socialhub-media.s3.eu-west-1.amazonaws.com"],
        ),
        ({"bucket": "media", "endpoint_url": "https://minio.example.com:9000/"}, ["https://minio.example.com:9000"]),
    ],
)
def test_the_media_bucket_may_serve_images(bucket, expected):
    policy = content_security_policy(
        facebook_url="https://www.facebook.com",
        instagram_www_url="https://www.instagram.com",
        graph_urls=["https://graph.facebook.com", "https://graph.instagram.com"],
        media_origins=s3_origins(**bucket),
    )["DIRECTIVES"]
    assert policy["img-src"] == ["'self'", "data:", "https://*.fbcdn.net", "https://*.cdninstagram.com", *expected]
    assert policy["form-action"] == ["'self'", "https://www.facebook.com", "https://www.instagram.com"]
    assert_no_scheme_wildcards(policy)


@pytest.mark.no_sandbox
def test_settings_build_the_policy_from_the_environment():
    env = {
        "PATH": os.environ["PATH"],
        "SOCIALHUB_ENV_FILE": "",
        "DEBUG": "true",
        "META_GRAPH_URL": "http://127.0.0.1:8100",
        "META_FACEBOOK_URL": "http://127.0.0.1:8100/www.facebook.com",
        "INSTAGRAM_GRAPH_URL": "http://127.0.0.1:8100/graph.instagram.com",
        "INSTAGRAM_WWW_URL": "http://127.0.0.1:8100/www.instagram.com",
        "AWS_STORAGE_BUCKET_NAME": "socialhub-media",
        "AWS_S3_REGION_NAME": "eu-west-1",
    }
    script = "import json; from socialhub import settings; print(json.dumps(settings.CONTENT_SECURITY_POLICY))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout)["DIRECTIVES"]
    assert policy["form-action"] == ["'self'", "http://127.0.0.1:8100"]
    assert policy["img-src"] == [
        "'self'",
        "data:",
        "https://*.fbcdn.net",
        "https://*.cdninstagram.com",
        "http://127.0.0.1:8100",
        "https://socialhub-media.s3.amazonaws.com",
        "https://socialhub-media.s3.eu-west-1.amazonaws.com",
    ]
