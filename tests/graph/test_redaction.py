from __future__ import annotations

import pytest

from socialhub.graph.redaction import redact_text, redact_url

pytestmark = pytest.mark.no_sandbox


def test_redact_url_replaces_every_secret_parameter() -> None:
    url = (
        "https://graph.facebook.com/v25.0/oauth/access_token?client_id=111&client_secret=s3cr3t"
        "&code=AQBx-code&fb_exchange_token=EAAold&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
        "&access_token=EAAtoken&input_token=EAAinput&appsecret_proof=abc123&refresh_token=rt"
    )
    redacted = redact_url(url)
    for secret in ("s3cr3t", "AQBx-code", "EAAold", "EAAtoken", "EAAinput", "abc123", "=rt"):
        assert secret not in redacted
    assert redacted == (
        "https://graph.facebook.com/v25.0/oauth/access_token?client_id=111&client_secret=[redacted]"
        "&code=[redacted]&fb_exchange_token=[redacted]&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
        "&access_token=[redacted]&input_token=[redacted]&appsecret_proof=[redacted]&refresh_token=[redacted]"
    )


def test_redact_url_keeps_harmless_urls_as_they_are() -> None:
    url = "https://graph.facebook.com/v25.0/me/accounts?fields=id%2Cname&limit=25&after=QVFIUm"
    assert redact_url(url) == url


def test_redact_url_handles_fragments_and_relative_paths() -> None:
    assert redact_url("/cb#access_token=EAAx&expires_in=3600") == "/cb#access_token=[redacted]&expires_in=3600"
    assert redact_url("/v25.0/debug_token?input_token=EAAy") == "/v25.0/debug_token?input_token=[redacted]"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET https://graph.facebook.com/v25.0/me?access_token=EAAsecret&fields=id failed", "EAAsecret"),
        ("params: access_token=EAAsecret appsecret_proof=deadbeef", "EAAsecret"),
        ("params: access_token=EAAsecret appsecret_proof=deadbeef", "deadbeef"),
        ("url: /oauth?client_id=1&code=AQDcode123", "AQDcode123"),
        ('{"access_token": "EAAjson", "token_type": "bearer"}', "EAAjson"),
        ("{'client_secret': 'pythonrepr'}", "pythonrepr"),
        ("Authorization: OAuth IGQVJhdGVzdHRva2VuMTIzNDU2Nzg5", "IGQVJhdGVzdHRva2VuMTIzNDU2Nzg5"),
        ("headers={'Authorization': 'Bearer EAAbearertoken9876543210'}", "EAAbearertoken9876543210"),
        ("access_token%3DEAAencoded%26x", "EAAencoded"),
        ("access_token=1000000000000001|sandbox-app-secret", "sandbox-app-secret"),
        (
            '"GET /review/q3Zx8kP0Wv_mN2rT5yB7cD9eF1gH4jK6lM8nO0pQ2sU HTTP/1.1" 302',
            "q3Zx8kP0Wv_mN2rT5yB7cD9eF1gH4jK6lM8nO0pQ2sU",
        ),
        ("Not Found: /invitations/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd/", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
    ],
)
def test_redact_text_removes_secrets(text: str, secret: str) -> None:
    redacted = redact_text(text)
    assert secret not in redacted
    assert "[redacted]" in redacted


def test_redact_text_keeps_metas_prose_and_error_codes() -> None:
    text = "graph POST /v25.0/me/feed 400 code=190 subcode=463 Invalid OAuth access token - Cannot parse access token"
    assert redact_text(text) == text
