"""python -m bench publish|pages|inbox|insights [options]; no argument prints usage."""

from __future__ import annotations

import argparse
import sys

from . import inbox, insights, pages, publish


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="SocialHub benchmarks. Each sets up its own installation in a temp dir, prints its figures "
        "and removes everything it started. See bench/README.md.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{publish,pages,inbox,insights}")
    publish.add_arguments(
        commands.add_parser(
            "publish",
            help="publishing through beat, the Procfile's workers and the Graph API sandbox: punctuality, burst, calls",
            description=publish.__doc__,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
    )
    pages.add_arguments(
        commands.add_parser(
            "pages",
            help="latency and SQL queries of the list pages over a large seeded database",
            description=pages.__doc__,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
    )
    inbox.add_arguments(
        commands.add_parser(
            "inbox",
            help="the comment inbox over a million comments, and webhook ingest throughput",
            description=inbox.__doc__,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
    )
    insights.add_arguments(
        commands.add_parser(
            "insights",
            help="insights pages, exports, the client report and the agency view over two years of daily data",
            description=insights.__doc__,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
    )
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return {"publish": publish.run, "pages": pages.run, "inbox": inbox.run, "insights": insights.run}[args.command](
            args
        )
    except KeyboardInterrupt:
        print("\ninterrupted; everything the benchmark started was stopped and removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
