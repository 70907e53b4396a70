#!/usr/bin/env python3
"""Decodes PROTOCOL.md's schemas and worked example with game_client.py's decoder (no server needed).

    python3 doc_examples.py [PATH/TO/PROTOCOL.md]

Reads the hex blocks marked `<!-- schema-example-hex -->` (the movement schema),
`<!-- coins-schema-hex -->`, `<!-- snapshot-example-hex -->`, `<!-- worked-example-hex -->` and
`<!-- area-example-hex -->` (section 6.5); applies the snapshot, the delta and the area delta to
a mirror of player 3 as the document says (which verifies every checksum), checks the world the
text describes, that each checksum term table's terms are what they say and add up to the
printed sum, that the area delta's skipped entries change nothing, and that its malformed and
out-of-sync variants are refused. Exit status 0 when everything matches; 1 with a message
otherwise.
"""

import os
import re
import sys

import game_client as gc


def block_text(doc, marker):
    m = re.search(r"<!-- " + marker + r" -->\s*```\n(.*?)```", doc, re.S)
    if not m:
        raise gc.ProtocolError(f"no block {marker}")
    return m.group(1)


def hex_block(doc, marker):
    return bytes.fromhex("".join(line.split("#")[0] for line in block_text(doc, marker).splitlines())
                         .replace(" ", ""))


def term_tables(doc):
    """Each `| term | hash |` table of the document as [(term, hash)], the wrapping sum last."""
    tables = []
    for m in re.finditer(r"^\| term \| hash \|\n\|[-|]+\|\n((?:\|.*\|\n)+)", doc, re.M):
        rows = [[c.strip() for c in line.split("|")[1:-1]] for line in m.group(1).splitlines()]
        tables.append((m.start(), [(t.strip("`"), int(h.strip("`"), 16)) for t, h in rows]))
    return tables


def term_value(term):
    """The hash a term of a checksum table stands for (section 7)."""
    m = re.fullmatch(r"entity_hash\((\d+), (\d+)\)", term)
    if m:
        return gc.mix64(int(m[1]) | int(m[2]) << 32)
    m = re.fullmatch(r"component_hash\((\d+), (\d+), \[(.*)\]\)", term)
    if not m:
        raise gc.ProtocolError(f"unknown term {term}")
    id_, index, inner = int(m[1]), int(m[2]), m[3]
    pos = re.fullmatch(r"pos \((-?\d+), (-?\d+)\)", inner)
    words = [gc.word("pos", (int(pos[1]), int(pos[2])))] if pos else [int(w) & gc.M for w in inner.split(",")]
    h = gc.mix64(id_ | (256 + index) << 32)
    for w in words:
        h = gc.mix64(h ^ w)
    return h


def check_terms(doc):
    tables = term_tables(doc)
    expect("checksum term tables (6.5 and 8)", len(tables) >= 2, True)
    for _, rows in tables:
        *terms, (last, total) = rows
        expect("last row", last, "wrapping sum")
        for term, value in terms:
            expect(f"term {term}", term_value(term), value)
        expect("wrapping sum of the terms", sum(v for _, v in terms) & gc.M, total)
    return tables


def variant(data, old, new):
    """`data` with the hex `old` (which must occur once) replaced by the hex `new`."""
    old, new = bytes.fromhex(old.replace(" ", "")), bytes.fromhex(new.replace(" ", ""))
    expect(f"occurrences of {old.hex()}", data.count(old), 1)
    return data.replace(old, new)


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
    check_area(doc, schema, mirror)


def mirror_at_301(doc, schema):
    mirror = gc.Mirror(3, schema)
    mirror.apply(hex_block(doc, "snapshot-example-hex"))
    mirror.apply(hex_block(doc, "worked-example-hex"))
    return mirror


def check_area(doc, schema, mirror):
    """Section 6.5's area delta on player 3's mirror after section 8's delta."""
    area = hex_block(doc, "area-example-hex")
    count = re.search(r"(\d+)\s+bytes:\s*<!-- area-example-hex -->", doc)
    expect("area delta length", len(area), int(count[1]) if count else None)
    printed = int(re.search(r"# checksum (0x[0-9a-f]+)", block_text(doc, "area-example-hex"))[1], 16)
    tables = check_terms(doc)
    at = doc.index("<!-- area-example-hex -->")
    area_terms = next(rows for start, rows in tables if start > at)
    expect("area checksum table's sum", area_terms[-1][1], printed)
    expect("area delta events", mirror.apply(area), [])
    expect("area delta ack and tick", (mirror.ack, mirror.tick), (43, 302))
    expect("area delta skipped entries", mirror.skipped, 1)
    expect("area delta checksum", gc.checksum(mirror.world, schema), printed)
    held = re.search(r"player 3's mirror holds entities ([\d, and]+)\)", doc)
    expect("entities held, as the text says", sorted(mirror.world),
           [int(x) for x in re.split(r",\s*|\s+and\s+", held[1])])
    expect("world after the area delta", mirror.world,
           {3: [0, {0: [(1017, 1993)], 1: [6], 2: [3]}],
            12: [1, {0: [(5000, 250)]}],
            15: [1, {0: [(1100, 1990)]}]})

    pieces = "02 01 030a00 01 03 02 06 01 070005 00"
    # Entries of 4 (left in this frame), 15 (entered in it) and 7 (never held): all skipped.
    more = variant(area, pieces, "02 02 030a00 01 0000 01 03 02 06 02 070005 08 0203 01 07 02 09")
    m = mirror_at_301(doc, schema)
    m.apply(more)
    expect("skipped entries", (m.skipped, sorted(m.world), m.world[15]), (4, [3, 12, 15], [1, {0: [(1100, 1990)]}]))

    malformed = [
        ("bit 0 in a piece's changed", pieces, "02 01 030a00 01 03 03 00 00 06 01 070005 00"),
        ("bit 0 in a skipped changed entry", pieces, "02 01 030a00 01 03 02 06 01 070005 01 07 01 0000"),
        ("owner-only bit in a skipped changed entry", pieces, "02 01 030a00 01 03 02 06 01 070005 01 07 04 03"),
        ("u16 prefix 0xfc in a skipped entry", pieces, "02 01 030a00 01 03 02 06 01 070005 01 07 02 fc01000000"),
        ("an id gap of 0 in a piece", pieces, "02 02 030a00 00 0000 00 01 070005 00"),
        ("more pieces than bytes", pieces, "fbff00 01 030a00 01 03 02 06 01 070005 00"),
        ("owner-only bit in entered", "01 0f 01 01", "01 0f 01 05"),
    ]
    for rule, old, new in malformed:
        m = mirror_at_301(doc, schema)
        try:
            m.apply(variant(area, old, new))
        except gc.ProtocolError:
            expect(f"{rule}: mirror unchanged", m.tick, 301)
            continue
        except gc.Desync as e:
            raise gc.ProtocolError(f"{rule}: a desync ({e}), not malformed") from None
        raise gc.ProtocolError(f"{rule}: accepted")

    desyncs = [
        ("left naming an entity not held", "0600 0104 02", "0600 0105 02", "left 5"),
        ("entered naming one held", "01 0f 01 01", "01 0c 01 01", "entered 12"),
        ("wrong baseline", "fb2e01 fb2d01", "fb2e01 fb2c01", "baseline 300"),
        ("checksum", "fdcc09bad14ab76135", "fdcd09bad14ab76135", "checksum"),
    ]
    for rule, old, new, says in desyncs:
        m = mirror_at_301(doc, schema)
        try:
            m.apply(variant(area, old, new))
        except gc.Desync as e:
            expect(f"{rule}: reason", says in str(e), True)
            continue
        raise gc.ProtocolError(f"{rule}: no desync")


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
    print("PROTOCOL.md's worked examples (sections 6.5 and 8) decode and every checksum verifies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
