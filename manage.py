#!/usr/bin/env python
import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialhub.settings")
    # A checkout with no configuration at all (no .env, no SECRET_KEY, no DEBUG) is a developer's: run management
    # commands in development mode there. Anything configured, production included, is left as configured.
    configured = Path(__file__).with_name(".env").exists() or "SECRET_KEY" in os.environ or "DEBUG" in os.environ
    if not configured:
        os.environ["DEBUG"] = "true"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
