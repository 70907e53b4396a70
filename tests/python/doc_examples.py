#!/usr/bin/env python3
"""Decodes PROTOCOL.md's schemas and worked example with game_client.py's decoder (no server needed).

    python3 doc_examples.py [PATH/TO/PROTOCOL.md]

Reads the hex blocks marked `<!-- schema-example-hex -->` (the movement schema),
`<!-- coins-schema-hex -->`, `<!-- snapshot-example-hex -->` and `<!-- worked-example-hex -->`;
applies the snapshot and the delta to a mirror of player 3 as the
document says (which verifies both checksums), and checks the world the text describes.
Exit status 0 when everything matches; 1 with a message otherwise.
"""

import os
import re
import sys

import game_client as gc


def hex_block(doc, marker):
    m = re.search(r"<!-- " + marker + r" -->\s*```\n(.*?)```", doc, re.S)
    if not m:
        raise gc.ProtocolError(f"no block {marker}")
    return bytes.fromhex("".join(line.split("#")[0] for line in m.group(1).splitlines())
                         .replace(" ", ""))


def expect(what, got, wanted):
    if got != wanted:
        raise gc.ProtocolError(f"{what}: got {got!r}, the document says {wanted!r}")


def check(doc):
    movement = gc.read_schema(gc.Reader(hex_block(doc, "schema-example-hex")[1:]))
    expect("movement schema", (movement["game"], movement["params"], movement["input"]),
           ("movement", {"max_speed": 34},
            [("move_x", "i8", None), ("move_y", "i8", None), ("buttons", "u8", None)]))
    schema_bytes = hex_block(doc, "coins-schema-hex")
    schema = gc.read_schema(gc.Reader(schema_bytes[1:]))
    mirror = gc.Mirror(3, schema)
    expect("snapshot events", mirror.apply(hex_block(doc, "snapshot-example-hex")), [])
    expect("snapshot ack and tick", (mirror.ack, mirror.tick), (41, 300))
    events = mirror.apply(hex_block(doc, "worked-example-hex"))
    expect("delta events", events, [("CoinTaken", [3, 9])])
    expect("delta ack and tick", (mirror.ack, mirror.tick), (42, 301))
    expect("world after the delta", mirror.world,
           {3: [0, {0: [(1012, 1993)], 1: [5], 2: [3]}],
            4: [0, {0: [(3000, 530)], 1: [0]}],
            12: [1, {0: [(5000, 250)]}]})


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../protocol/PROTOCOL.md")
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    try:
        check(doc)
    except (gc.ProtocolError, gc.Desync) as e:
        print(f"doc_examples: {e!r}", file=sys.stderr)
        return 1
    print("PROTOCOL.md's worked example decodes and both checksums verify")
    return 0


if __name__ == "__main__":
    sys.exit(main())
