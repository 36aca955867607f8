"""Every kind of preview in a real browser under the project's content security policy: nothing refused, the
carousel's buttons work, and axe-core finds no serious or critical problem."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.publishing.test_previews import every_kind, render

pytestmark = pytest.mark.no_sandbox


def test_every_kind_passes_axe_under_the_content_security_policy(page) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    static = Path(django_settings.BASE_DIR) / "static"
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 50), (200, 120, 60)).save(jpeg, "JPEG")
    directives = django_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    policy = "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())
    body = render(*every_kind())
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Previews</title>'
        '<link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.min.css">'
        '<link rel="stylesheet" href="/static/css/previews.css">'
        '<script src="/static/js/previews.js" defer></script></head>'
        f"<body><main><h1>Composer</h1><h2>Preview</h2>{body}</main></body></html>"
    )

    def serve(route) -> None:  # type: ignore[no-untyped-def]
        path = route.request.url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
        if path == "":
            route.fulfill(body=document, content_type="text/html", headers={"Content-Security-Policy": policy})
        elif path.startswith("static/") and (static / path[len("static/") :]).is_file():
            route.fulfill(path=static / path[len("static/") :])
        elif path.endswith(".jpg") or "thumb" in route.request.url:
            route.fulfill(body=jpeg.getvalue(), content_type="image/jpeg")
        else:
            route.fulfill(status=404, body="")

    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)
    page.route("http://previews.test/**", serve)
    page.goto("http://previews.test/")
    page.wait_for_load_state("networkidle")

    assert not refused
    carousel = page.locator("[data-pv-carousel]")
    next_button = carousel.locator("[data-pv-next]")
    assert next_button.is_visible()
    next_button.click()
    page.wait_for_function("() => document.querySelector('[data-pv-strip]').scrollLeft > 0")
    page.evaluate((static / "vendor" / "axe-core" / "axe.min.js").read_text())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    blocking = [
        f"{v['id']}: {v['help']} -> {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not blocking, "\n".join(blocking)
