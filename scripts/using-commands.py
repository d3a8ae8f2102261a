#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print the commands of a reStructuredText page, one per line.

A command is a line of a ``.. code-block:: console`` block that starts
with a prompt: ``$`` (any user) or ``#`` (root).  Each is printed as
"<prompt> <command>", in the page's order.  scripts/using-check.sh runs
them, so Documentation/using.rst is checked as written.
"""
import re
import sys


def commands(text):
    in_block = False
    for line in text.splitlines():
        if re.match(r"^\.\. code-block:: console\s*$", line):
            in_block = True
            continue
        if in_block:
            if not line.strip():
                continue
            if not line.startswith("   "):
                in_block = False
                continue
            m = re.match(r"^   ([$#]) (.+)$", line)
            if m:
                yield m.group(1), m.group(2)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        found = list(commands(f.read()))
    if not found:
        sys.exit(f"{sys.argv[1]}: no console commands")
    for prompt, cmd in found:
        print(f"{prompt} {cmd}")


if __name__ == "__main__":
    main()
