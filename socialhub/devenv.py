"""Write a development `.env` for `make run` when none exists: debug on, fresh keys, and every Meta URL
pointed at the sandbox that the Procfile starts. Replace the META_* lines to talk to Meta instead."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

SANDBOX = "http://127.0.0.1:8100"


def render() -> str:
    return f"""# Written by `make run` for local development. See .env.example for every variable.
DEBUG=true
SECRET_KEY={secrets.token_urlsafe(50)}
TOKEN_ENCRYPTION_KEYS={Fernet.generate_key().decode()}
PUBLIC_BASE_URL=http://127.0.0.1:8000
ACCOUNT_EMAIL_VERIFICATION=optional
# Anyone may create an account here; production keeps sign-up to invitations.
SIGNUP_POLICY=open

# The Graph API sandbox started by the Procfile (python -m sandbox --port 8100).
META_GRAPH_URL={SANDBOX}
META_FACEBOOK_URL={SANDBOX}/www.facebook.com
META_RUPLOAD_URL={SANDBOX}/rupload.facebook.com
INSTAGRAM_GRAPH_URL={SANDBOX}/graph.instagram.com
INSTAGRAM_API_URL={SANDBOX}/api.instagram.com
INSTAGRAM_WWW_URL={SANDBOX}/www.instagram.com
META_APP_ID=1000000000000001
META_APP_SECRET=sandbox-app-secret
INSTAGRAM_APP_ID=1000000000000002
INSTAGRAM_APP_SECRET=sandbox-ig-app-secret
META_WEBHOOK_VERIFY_TOKEN=sandbox-verify-token
"""


def main(path: str = ".env") -> int:
    target = Path(path)
    if target.exists():
        return 0
    target.write_text(render())
    print(f"Wrote {target} for local development (Meta URLs point at the sandbox).")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
