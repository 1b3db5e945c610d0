#!/usr/bin/python3
"""Parse a Prometheus exposition with Debian's python3-prometheus-client,
the Prometheus project's Python client, whose parsers are not mailroom's.

usage: prom_check.py text|openmetrics < exposition

`text` is the classic format (0.0.4), read by prometheus_client.parser (lax:
a sample of an undeclared family becomes an `untyped` one, so this script
refuses any untyped family); `openmetrics` is OpenMetrics 1.0, read by
prometheus_client.openmetrics.parser, which is strict (`# EOF`, names,
escapes, grouping, histogram buckets).

Prints one JSON object: {"families": [[name, type], ...], "samples":
[[name, {label: value}, "value"], ...]} (values as text, exact). Exits 1 with the parser's complaint
on anything it refuses.
"""
import json
import sys

from prometheus_client import parser
from prometheus_client.openmetrics import parser as om_parser

kind = sys.argv[1]
text = sys.stdin.read()
read = {
    "text": parser.text_string_to_metric_families,
    "openmetrics": om_parser.text_string_to_metric_families,
}[kind]
try:
    families = list(read(text))
except ValueError as e:
    print(f"{kind}: refused: {e}", file=sys.stderr)
    sys.exit(1)
untyped = [f.name for f in families if f.type in ("untyped", "unknown")]
if untyped:
    print(f"{kind}: samples of no declared type: {untyped}", file=sys.stderr)
    sys.exit(1)
json.dump(
    {
        "families": [[f.name, f.type] for f in families],
        # repr: the shortest text that reads back as the same float.
        "samples": [[s.name, s.labels, repr(s.value)] for f in families for s in f.samples],
    },
    sys.stdout,
)
