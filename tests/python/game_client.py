#!/usr/bin/env python3
"""A game client written from protocol/PROTOCOL.md and the REST docs alone (standard library only).

    python3 game_client.py BASE_URL MODE FRAMES

Gets a seat with POST /api/v1/matchmaking/join-or-create, joins over its own WebSocket client,
reads Welcome and Schema, decodes every Snapshot, Delta and AreaDelta (section 6.5) by the
schema, verifies every checksum (PROTOCOL.md section 7), sends inputs built from the schema, and
after FRAMES frames sends Leave and prints a JSON summary. Exit status 0 when the session ran to the end (the
summary says how many desyncs it saw), 1 on any protocol or connection error.
"""

import base64
import hashlib
import http.client
import json
import os
import random
import socket
import sys
import time
import urllib.parse

PROTOCOL_VERSION = 3
TIMEOUT_S = 10.0
M = (1 << 64) - 1
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TYPES = ["bool", "u8", "i8", "u16", "i16", "u32", "i32", "pos", "str", "fixed"]
CLOSE_CODES = ["normal", "shutdown", "too_big", "malformed", "bad_token", "version_mismatch",
               "rate_limited", "room_full", "kicked", "lagging", "join_timeout",
               "idle_timeout", "room_closed"]


class ProtocolError(Exception):
    """The server sent something this document-based client cannot accept."""


class Desync(Exception):
    """The mirror is not the server's world (PROTOCOL.md 6.4); wait for a snapshot."""


# ---------------------------------------------------------------- WebSocket (RFC 6455), client side

class WebSocket:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "ws":
            raise ProtocolError(f"only ws:// is supported, got {url}")
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=TIMEOUT_S)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        key = base64.b64encode(os.urandom(16))
        host = u.hostname if u.port is None else f"{u.hostname}:{u.port}"
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if lines[0].split(" ")[1:2] != ["101"]:
            raise ProtocolError(f"upgrade refused: {lines[0]}")
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(":", 1) for line in lines[1:] if ":" in line)}
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise ProtocolError("bad Sec-WebSocket-Accept")
        self.close_code = None

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise ProtocolError("connection closed by the server without a close frame")
        return data

    def _take(self, n):
        while len(self.buf) < n:
            self.buf += self._recv()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, payload):
        self.send_frame(0x2, payload)

    def recv(self):
        """The next binary message, or None once the server's close frame arrived."""
        message, first_op = b"", None
        while True:
            b0, b1 = self._take(2)
            fin, op, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if b1 & 0x80:
                raise ProtocolError("the server masked a frame")
            if n == 126:
                n = int.from_bytes(self._take(2), "big")
            elif n == 127:
                n = int.from_bytes(self._take(8), "big")
            payload = self._take(n)
            if op == 0x9:                      # ping: answer with the same payload
                self.send_frame(0xA, payload)
            elif op == 0xA:                    # pong
                pass
            elif op == 0x8:                    # close: echo it, then we are done
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                self.close_reason = payload[2:].decode("utf-8", "replace")
                self.send_frame(0x8, payload[:2])
                return None
            else:
                if op != 0x0:
                    first_op = op
                message += payload
                if fin:
                    if first_op != 0x2:
                        raise ProtocolError(f"non-binary message (opcode {first_op})")
                    return message


# ---------------------------------------------------------------- primitives (PROTOCOL.md 3)

class Reader:
    def __init__(self, data):
        self.data, self.i = data, 0

    def byte(self):
        if self.i >= len(self.data):
            raise ProtocolError("message ends early")
        self.i += 1
        return self.data[self.i - 1]

    def raw(self, n):
        if self.i + n > len(self.data):
            raise ProtocolError("message ends early")
        self.i += n
        return self.data[self.i - n:self.i]

    def varint(self, bits):
        b = self.byte()
        width = {0xFB: 2, 0xFC: 4, 0xFD: 8}.get(b)
        if b < 0xFB:
            return b
        if width is None or width * 8 > bits:
            raise ProtocolError(f"varint prefix {b:#x} not allowed for u{bits}")
        return int.from_bytes(self.raw(width), "little")

    def zigzag(self, bits):
        n = self.varint(bits)
        return (n >> 1) ^ -(n & 1)

    def string(self, max_len=None):
        n = self.varint(64)
        if max_len is not None and n > max_len:
            raise ProtocolError(f"string of {n} bytes over its max_len {max_len}")
        try:
            return self.raw(n).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolError("invalid UTF-8") from e

    def count(self):
        n = self.varint(64)
        if n > len(self.data) - self.i:
            raise ProtocolError("list longer than the message")
        return n

    def end(self):
        if self.i != len(self.data):
            raise ProtocolError(f"{len(self.data) - self.i} bytes after the message")


def varint(n):
    if n <= 250:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfb" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfc" + n.to_bytes(4, "little")
    return b"\xfd" + n.to_bytes(8, "little")


def zigzag(n):
    return varint(2 * n if n >= 0 else -2 * n - 1)


def string(s):
    b = s.encode()
    return varint(len(b)) + b


# ---------------------------------------------------------------- schema (6.2) and values (6.3)

def read_fields(r):
    fields = []
    for _ in range(r.count()):
        name = r.string()
        index = r.varint(32)
        if index >= len(TYPES):
            raise ProtocolError(f"unknown wire type {index}")
        ty = TYPES[index]
        arg = r.byte() if ty == "str" else r.varint(32) if ty == "fixed" else None
        if ty == "fixed" and arg < 1:
            raise ProtocolError("fixed scale 0")
        fields.append((name, ty, arg))
    return fields


def read_schema(r):
    s = {"game": r.string()}
    s["params"] = {r.string(): r.zigzag(64) for _ in range(r.count())}
    s["kinds"] = [r.string() for _ in range(r.count())]
    s["components"] = [{"name": r.string(), "owner_only": read_bool(r), "fields": read_fields(r)}
                       for _ in range(r.count())]
    s["input"] = read_fields(r)
    s["events"] = [{"name": r.string(), "fields": read_fields(r)} for _ in range(r.count())]
    r.end()
    c0 = s["components"][0] if s["components"] else None
    if (not s["kinds"] or s["kinds"][0] != "player" or c0 is None or c0["name"] != "Position"
            or c0["owner_only"] or [f[:2] for f in c0["fields"]] != [("pos", "pos")]
            or len(s["components"]) > 64):
        raise ProtocolError(f"schema breaks the rules of 6.2: {s}")
    return s


def read_bool(r):
    b = r.byte()
    if b > 1:
        raise ProtocolError(f"bool byte {b}")
    return b == 1


def read_value(r, ty, arg):
    if ty == "bool":
        return read_bool(r)
    if ty == "u8":
        return r.byte()
    if ty == "i8":
        b = r.byte()
        return b - 256 if b > 127 else b
    if ty in ("u16", "u32"):
        return r.varint(int(ty[1:]))
    if ty in ("i16", "i32", "fixed"):
        return r.zigzag(16 if ty == "i16" else 32)
    if ty == "pos":
        return (r.zigzag(32), r.zigzag(32))
    return r.string(arg)                       # str


def write_value(ty, v):
    if ty == "bool":
        return bytes([1 if v else 0])
    if ty in ("u8", "i8"):
        return bytes([v & 0xFF])
    if ty in ("u16", "u32"):
        return varint(v)
    if ty in ("i16", "i32", "fixed"):
        return zigzag(v)
    if ty == "pos":
        return zigzag(v[0]) + zigzag(v[1])
    return string(v)


def default_value(ty):
    return {"bool": False, "pos": (0, 0), "str": ""}.get(ty, 0)


# ---------------------------------------------------------------- checksum (7)

def mix64(z):
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & M
    return h


def word(ty, v):
    if ty == "pos":
        return (v[0] & 0xFFFFFFFF) | (v[1] & 0xFFFFFFFF) << 32
    if ty == "str":
        return fnv1a64(v.encode())
    return int(v) & M


def checksum(mirror, schema):
    total = 0
    for id_, (kind, comps) in mirror.items():
        total += mix64(id_ | kind << 32)
        for index, values in comps.items():
            h = mix64(id_ | (256 + index) << 32)
            for (_, ty, _), v in zip(schema["components"][index]["fields"], values):
                h = mix64(h ^ word(ty, v))
            total += h
    return total & M


# ---------------------------------------------------------------- frames (6.4)

class Mirror:
    def __init__(self, player, schema):
        self.player, self.schema = player, schema
        self.world, self.ack, self.tick, self.valid = {}, 0, None, False
        self.kinds_seen, self.events_seen = set(), set()
        self.skipped = 0                       # piece entries the last area delta skipped (6.5)

    def ids(self, r):
        """Yields each id of an entity list, rebuilt from its gaps (6.4, Id gaps)."""
        total = 0
        for n in range(r.count()):
            gap = r.varint(32)
            if n > 0 and gap == 0:
                raise ProtocolError("id gap 0")
            total += gap
            if total > 0xFFFFFFFF:
                raise ProtocolError("id past 2^32-1")
            yield total

    def components(self, r, allowed):
        mask = r.varint(64)
        comps, schema = {}, self.schema["components"]
        for bit in range(64):
            if mask >> bit & 1:
                if bit >= len(schema) or not allowed(bit, schema[bit]):
                    raise ProtocolError(f"mask bit {bit} not allowed here")
                comps[bit] = [read_value(r, ty, arg) for _, ty, arg in schema[bit]["fields"]]
        return comps

    def kind(self, r):
        k = r.varint(32)
        if k >= len(self.schema["kinds"]):
            raise ProtocolError(f"kind {k}")
        self.kinds_seen.add(self.schema["kinds"][k])
        return k

    def events(self, r):
        out = []
        for _ in range(r.count()):
            e = r.varint(32)
            if e >= len(self.schema["events"]):
                raise ProtocolError(f"event {e}")
            ev = self.schema["events"][e]
            out.append((ev["name"], [read_value(r, ty, a) for _, ty, a in ev["fields"]]))
        self.events_seen.update(name for name, _ in out)
        return out

    def moved(self, world, i, dx, dy, problems):
        pos = world.get(i, [0, {}])[1].get(0)
        if pos is None:
            problems.append(f"moved {i} not held or without position")
            return
        x, y = pos[0]
        wrap = lambda v: (v + 2**31) % 2**32 - 2**31
        world[i][1][0] = [(wrap(x + dx), wrap(y + dy))]

    def changed(self, world, i, comps, problems):
        if i not in world or not set(comps) <= set(world[i][1]):
            problems.append(f"changed {i}: unknown entity or component")
            return
        world[i][1].update(comps)

    def spawned(self, r, world, problems, what):
        for i in self.ids(r):
            entry = [self.kind(r), self.components(r, SHARED)]
            if i in world:
                problems.append(f"{what} {i} already there")
            world[i] = entry

    def apply(self, data):
        """Applies a Snapshot, Delta or AreaDelta; returns the frame's events, or raises Desync
        after reading it whole (ProtocolError for malformed bytes, the mirror unchanged)."""
        r = Reader(data)
        tag = r.byte()
        problems = []
        self.skipped = 0
        if tag == 2:
            tick, _time = r.varint(32), r.varint(64)
            world = {i: [self.kind(r), self.components(r, SHARED)] for i in self.ids(r)}
            ack = r.varint(32)
        elif tag in (3, 6):
            tick, baseline, _time = r.varint(32), r.varint(32), r.varint(64)
            if self.tick is None or baseline != self.tick:
                problems.append(f"baseline {baseline}, mirror holds {self.tick}")
            elif not self.valid:
                problems.append("mirror invalid since an earlier desync (6.4: until a snapshot)")
            world = {i: [e[0], dict(e[1])] for i, e in self.world.items()}
            for i in self.ids(r):                  # despawned (6.4) or left (6.5)
                if world.pop(i, None) is None:
                    problems.append(f"{'left' if tag == 6 else 'despawned'} {i} unknown")
            if tag == 3:
                for i in self.ids(r):
                    self.moved(world, i, r.zigzag(32), r.zigzag(32), problems)
                for i in self.ids(r):
                    self.changed(world, i, self.components(r, CHANGED), problems)
                self.spawned(r, world, problems, "spawned")
            else:
                # 6.5: pieces, each a moved then a changed list with its own running sums;
                # entries of entities not held are read (and checked) but skipped.
                for _ in range(r.count()):
                    for i in self.ids(r):
                        dx, dy = r.zigzag(32), r.zigzag(32)
                        if i in world:
                            self.moved(world, i, dx, dy, problems)
                        else:
                            self.skipped += 1
                    for i in self.ids(r):
                        comps = self.components(r, CHANGED)
                        if i in world:
                            self.changed(world, i, comps, problems)
                        else:
                            self.skipped += 1
                self.spawned(r, world, problems, "entered")
            ack = (self.ack + r.varint(32)) & 0xFFFFFFFF
        else:
            raise ProtocolError(f"tag {tag} is not a frame")
        for i in self.ids(r):
            comps = self.components(r, OWNER_ONLY)
            if i not in world:
                problems.append(f"owned {i} unknown")
                continue
            world[i][1].update(comps)
        events = self.events(r)
        sent = r.varint(64)
        r.end()
        if not problems and checksum(world, self.schema) != sent:
            problems.append(f"checksum of tick {tick} differs")
        self.world, self.ack, self.tick = world, ack, tick
        self.valid = not problems
        if problems:
            raise Desync("; ".join(problems))
        return events


SHARED = lambda bit, c: not c["owner_only"]                      # snapshot entities, spawned, entered
CHANGED = lambda bit, c: bit != 0 and not c["owner_only"]         # changed, in a delta or a piece
OWNER_ONLY = lambda bit, c: c["owner_only"]                       # owned


# ---------------------------------------------------------------- session

def get_seat(base_url, mode, name):
    u = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=TIMEOUT_S)
    body = json.dumps({"player_name": name, "mode": mode})
    conn.request("POST", "/api/v1/matchmaking/join-or-create", body,
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read() or b"{}")
    if resp.status != 200:
        raise ProtocolError(f"join-or-create answered {resp.status}: {data}")
    return data


def read_welcome(ws):
    r = Reader(ws.recv() or b"")
    if r.byte() != 0:
        raise ProtocolError("expected Welcome")
    w = {"player_id": r.varint(32), "room_id": r.varint(32), "tick_rate": r.varint(16),
         "bounds": (r.zigzag(32), r.zigzag(32)), "tick": r.varint(32),
         "resume_token": r.string()}
    r.end()
    return w


def disconnect(data):
    r = Reader(data)
    r.byte()
    code = r.varint(32)
    return {"code": CLOSE_CODES[code] if code < len(CLOSE_CODES) else code, "reason": r.string()}


def make_input(schema, seq, tick, intent):
    out = b"\x01" + varint(seq) + varint(tick)
    for name, ty, _ in schema["input"]:
        out += write_value(ty, intent.get(name, default_value(ty)))
    return out


def play(base_url, mode, frames_wanted):
    seat = get_seat(base_url, mode, "py-client")
    ws = WebSocket(seat["ws_url"])
    ws.send(b"\x00" + varint(PROTOCOL_VERSION) + string(seat["seat_token"]) + b"\x00")
    welcome = read_welcome(ws)
    data = ws.recv() or b""
    if data[:1] != b"\x01":
        raise ProtocolError(f"expected Schema, got {data[:1].hex()}")
    schema = read_schema(Reader(data[1:]))
    mirror = Mirror(welcome["player_id"], schema)
    summary = {"game": schema["game"], "player_id": welcome["player_id"], "frames": 0,
               "snapshots": 0, "area_deltas": 0, "desyncs": 0, "desync_reasons": [], "events": 0}
    names = {f[0] for f in schema["input"]}
    rng, seq, intent, last_input = random.Random(7), 0, {}, 0.0
    while summary["frames"] < frames_wanted:
        data = ws.recv()
        if data is None:
            raise ProtocolError(f"closed early: {ws.close_code} {ws.close_reason}")
        if data[0] == 5:
            raise ProtocolError(f"disconnected: {disconnect(data)}")
        if data[0] not in (2, 3, 6):
            continue                            # Pong
        if summary["frames"] == 0 and (data[0], Reader(data[1:]).varint(32)) != (2, welcome["tick"]):
            raise ProtocolError("6.1: the first frame is not a Snapshot of the Welcome's tick")
        summary["frames"] += 1
        summary["snapshots"] += data[0] == 2
        summary["area_deltas"] += data[0] == 6
        try:
            summary["events"] += len(mirror.apply(data))
        except Desync as e:
            summary["desyncs"] += 1
            if len(summary["desync_reasons"]) < 10:
                summary["desync_reasons"].append(str(e))
        if time.monotonic() - last_input >= 0.05:   # 20 inputs/s: under the rate limit
            if seq % 20 == 0:
                intent = {n: rng.randint(-127, 127) for n in ("move_x", "move_y") if n in names}
            seq += 1
            ws.send(make_input(schema, seq, mirror.tick, intent))
            last_input = time.monotonic()
    ws.send(b"\x03")                            # Leave
    while (data := ws.recv()) is not None:
        if data[0] == 5:
            summary["disconnect"] = disconnect(data)
    summary.update(close_code=ws.close_code, inputs_sent=seq, ack=mirror.ack,
                   entities=len(mirror.world), kinds_seen=sorted(mirror.kinds_seen),
                   events_seen=sorted(mirror.events_seen), params=schema["params"])
    return summary


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        summary = play(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    except (ProtocolError, OSError, ValueError) as e:
        print(f"game_client: {e}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
