#!/usr/bin/env python3
"""retarget.py - a target JSON with some fields changed, for the bench
scripts (walk.sh, sensitivity.sh): safer than sed now that one value can
live in two places (buffer_bytes and memory_levels[1].bytes).

usage: retarget.py IN OUT EDIT...
  EDIT is PATH=VALUE (VALUE as JSON) or PATH*=FACTOR, PATH a field such as
  bytes_per_value, array1d.lanes or memory_levels[1].read_gb_per_s.
  A path that does not exist, or an edit that changes nothing, is an error.
"""
import json
import re
import sys


def walk(doc, path):
    """The container and key of PATH in doc."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    if not parts:
        raise KeyError(path)
    node = doc
    for p in parts[:-1]:
        node = node[int(p[1:-1])] if p.startswith("[") else node[p]
    last = parts[-1]
    key = int(last[1:-1]) if last.startswith("[") else last
    node[key]  # raises if absent
    return node, key


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1]) as f:
        doc = json.load(f)
    for edit in argv[3:]:
        m = re.fullmatch(r"([^=*]+)(\*?)=(.+)", edit)
        if not m:
            sys.stderr.write("retarget.py: bad edit '%s'\n" % edit)
            return 2
        try:
            node, key = walk(doc, m.group(1))
        except (KeyError, IndexError, TypeError, ValueError):
            sys.stderr.write("retarget.py: no field '%s'\n" % m.group(1))
            return 1
        old = node[key]
        value = json.loads(m.group(3))
        new = old * value if m.group(2) else value
        if isinstance(new, float) and new.is_integer() and isinstance(old, int):
            new = int(new)
        if new == old:
            sys.stderr.write("retarget.py: '%s' changes nothing\n" % edit)
            return 1
        node[key] = new
    with open(argv[2], "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
