"""Benchmarks that print figures: `python -m bench publish` (the publishing pipeline end to end against the
Graph API sandbox) and `python -m bench pages` (list pages over a large seeded database). See README.md."""
