"""Rebuild ``sandbox/specs.json`` from Meta's machine-readable node specs
(facebook-business-sdk-codegen ``api_specs/specs``, copied in the project's shared graph-api/specs).

    python -m sandbox.specs_extract /path/to/graph-api/specs

specs.json keeps, per node type, its field names, its edges with their HTTP methods ("#get", "#update",
"#delete" are the node's own methods) and the parameters each edge and method takes ("EDGE METHOD").
"""

import json
import os
import sys

NODES = [
    "Page",
    "User",
    "IGUser",
    "IGUserForIGOnlyAPI",
    "IGMedia",
    "IGMediaForIGOnlyAPI",
    "IGComment",
    "PagePost",
    "Comment",
    "Photo",
    "AdVideo",
    "ShadowIGMediaBuilder",
    "IGResumableVideoUploadStatus",
]


def main(src: str):
    out = {}
    for name in NODES:
        with open(os.path.join(src, f"{name}.json")) as fh:
            spec = json.load(fh)
        edges: dict[str, list[str]] = {}
        params: dict[str, set[str]] = {}
        for api in spec.get("apis", []):
            edge = api.get("endpoint") or api.get("name")
            edges.setdefault(edge, []).append(api["method"])
            params.setdefault(f"{edge} {api['method']}", set()).update(p["name"] for p in api.get("params", []))
        out[name] = {
            "fields": sorted(f["name"] for f in spec.get("fields", [])),
            "edges": {k: sorted(set(v)) for k, v in sorted(edges.items())},
            "params": {k: sorted(v) for k, v in sorted(params.items())},
        }
    dest = os.path.join(os.path.dirname(__file__), "specs.json")
    with open(dest, "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
    print(dest)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/graph-api/specs")
