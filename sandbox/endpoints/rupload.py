"""rupload.facebook.com — resumable video upload (seeds/003: POST /ig-api-upload/{v}/{container-id} with
Authorization: OAuth <token>, offset, file_size or file_url headers). The prefix is reserved; the upload
itself is served in a later step, so every call answers 501 for now."""

from __future__ import annotations

from ..app import RUPLOAD, route


@route(RUPLOAD, r"/.*", ("GET", "POST", "PUT", "DELETE"))
def reserved(ctx):
    ctx.extra_headers["X-Sandbox-Not-Implemented"] = f"{ctx.method} {RUPLOAD}{ctx.path}"
    return 501, {
        "debug_info": {"type": "NotImplemented", "message": "Resumable upload is not served by the sandbox yet"}
    }
