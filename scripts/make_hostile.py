#!/usr/bin/env python3
"""Writes the hostile and huge issue files of issue 10 into a directory.

Usage: scripts/make_hostile.py DIR [NAME ...]   (default: every input)
Used by scripts/bench-hostile; the integration tests build the same inputs in Rust.
"""
import os
import sys

HEADER = "Title: This Week in Rust 999\nNumber: 999\nDate: 2025-11-12\nCategory: This Week in Rust\n\n"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def seed_body():
    with open(os.path.join(ROOT, "tests/fixtures/seeds/000_8dcd2075dd7da271.txt"), encoding="utf-8") as f:
        return f.read().split("\n\n", 1)[1]


def repeat_to(unit, size):
    """`unit` repeated until it holds at least `size` bytes of UTF-8."""
    return unit * (size // len(unit.encode("utf-8")) + 1)


INPUTS = {
    # 50 MB: a real issue's body repeated.
    "issue-50mb": lambda: HEADER + repeat_to(seed_body() + "\n\n", 50 * 2**20),
    # 2 MB: a real issue's body repeated; the largest real-shaped issue
    # under the element limit (about 46,000 elements).
    "issue-2mb": lambda: HEADER + repeat_to(seed_body() + "\n\n", 2 * 2**20 - 64 * 1024),
    # 8 MB: one table of eight one-letter columns.
    "table-8mb": lambda: HEADER + "|a|b|c|d|e|f|g|h|\n|-|-|-|-|-|-|-|-|\n" + repeat_to("|a|b|c|d|e|f|g|h|\n", 8 * 2**20),
    # 96 KB: 4,000 images without alt text over http, on one line.
    "images-4000": lambda: HEADER + "![](http://ex.org/a.png)" * 4000 + "\n",
    # 160 KB: one line of UTF-8 read as Windows-1252 (`Zürich` → `ZÃ¼rich`).
    "mojibake-160kb": lambda: HEADER + repeat_to("ZÃ¼rich â€“ ", 160 * 1024) + "\n",
    # 16 KB: an 8,000-level nested list.
    "nested-list-8000": lambda: HEADER + "- " * 8000 + "x\n",
    # 10,000 `>`.
    "quotes-10000": lambda: HEADER + ">" * 10000 + " x\n",
    # 10,000 nested <small> and <div>.
    "small-10000": lambda: HEADER + "<small>" * 10000 + "x" + "</small>" * 10000 + "\n",
    "div-10000": lambda: HEADER + "<div>" * 10000 + "x" + "</div>" * 10000 + "\n",
}

# Just under the size limit (4 MiB): the shapes that cost the most per byte
# (tiny elements that each get inlined styles, escapes, long lines).
LIMIT = 4 * 2**20 - 4096
for name, unit in {
    "limit-code-spans": "`a` ",
    "limit-headings": "# a\n",
    "limit-list-items": "- a\n",
    "limit-links": "[a](https://a.org) ",
    "limit-emphasis": "*a* _b_ ",
    "limit-table": None,
    "limit-ampersands": "& ",
    "limit-latin1": "¼½ ",
    "limit-mojibake-line": "ZÃ¼rich ",
    "limit-images-line": "![](http://ex.org/a.png)",
    "limit-raw-small": "<small>a</small> ",
    "limit-raw-br": "a<br>",
    "limit-brackets": "[",
    "limit-angles": "<",
    "limit-stars": "*",
    "limit-backticks": "` `` ``` ",
    "limit-nested-99": "- " * 49 + "x\n\n",
    "limit-quotes-99": ">" * 99 + " x\n\n",
    "limit-unclosed-b": "<b title=1>x\n\n",
}.items():
    if unit is None:
        INPUTS[name] = lambda: HEADER + "|a|b|c|d|e|f|g|h|\n|-|-|-|-|-|-|-|-|\n" + "|a|b|c|d|e|f|g|h|\n" * (LIMIT // 18)
    else:
        INPUTS[name] = (lambda u: lambda: HEADER + u * (LIMIT // len(u.encode("utf-8"))) + "\n")(unit)


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or list(INPUTS)
    os.makedirs(out, exist_ok=True)
    for name in names:
        with open(os.path.join(out, name + ".md"), "w", encoding="utf-8") as f:
            f.write(INPUTS[name]())


if __name__ == "__main__":
    main()
