#!/usr/bin/env python3
"""Reads one primary's committed output stream from index 0 and summarizes it.

Python 3 standard library only: a minimal ZeroMQ client (ZMTP 3.0, NULL
security, DEALER socket: what docs/client_protocol.md asks for) and a
protobuf wire-format decoder for the few messages of node/client.proto it
needs. The netns harness (tools/netns/harness.py) runs it inside a host's
network namespace, next to the primary it reads:

  stream_reader.py --output HOST:PORT --out FILE [--timeout_s 120]
                   [--from INDEX] [--until_index INDEX]

It subscribes from index 0 with every transaction, checks each batch's bytes
against its digest (BLAKE2b-256 of the canonical batch bytes), and stops once
it has every sub-DAG the primary had committed when the reader started: at
the first sub-DAG committed after that instant, or at a heartbeat saying it
is caught up (with --until_index: once it has that index). It writes a JSON summary to FILE (see `summary` below).
"""

import argparse
import hashlib
import json
import socket
import struct
import sys
import time

# ---------------------------------------------------------------- protobuf


def _varint(buf, pos):
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf):
    """Yields (field_number, wire_type, value) over one serialized message.

    Length-delimited values come as memoryview slices (no copy)."""
    mv = memoryview(buf)
    pos = 0
    end = len(mv)
    while pos < end:
        key, pos = _varint(mv, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(mv, pos)
        elif wire == 2:
            length, pos = _varint(mv, pos)
            value = mv[pos:pos + length]
            pos += length
        elif wire == 1:
            value = bytes(mv[pos:pos + 8])
            pos += 8
        elif wire == 5:
            value = bytes(mv[pos:pos + 4])
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _int64(v):
    return v - (1 << 64) if v >= (1 << 63) else v


def encode_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def subscribe_request(from_index=0, detail=0):
    """OutputRequest{subscribe: Subscribe{from_index, detail}}."""
    sub = b""
    if from_index:
        sub += b"\x08" + encode_varint(from_index)
    if detail:
        sub += b"\x10" + encode_varint(detail)
    return b"\x0a" + encode_varint(len(sub)) + sub


# ---------------------------------------------------------------- ZMTP 3.0


class ZmtpError(Exception):
    pass


class Dealer:
    """A DEALER socket over one TCP connection, NULL mechanism (ZMTP 3.0)."""

    def __init__(self, host, port, timeout_s=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        greeting = (b"\xff" + b"\x00" * 8 + b"\x7f" + bytes([3, 0]) +
                    b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31)
        self.sock.sendall(greeting)
        peer = self._read_exact(64)
        if peer[0] != 0xFF or peer[9] != 0x7F:
            raise ZmtpError("not a ZMTP peer")
        if peer[10] < 3:
            raise ZmtpError(f"peer speaks ZMTP {peer[10]}, need 3")
        mech = bytes(peer[12:32]).rstrip(b"\x00")
        if mech != b"NULL":
            raise ZmtpError(f"peer wants mechanism {mech!r}, not NULL")
        self._send_command(b"READY", self._props({b"Socket-Type": b"DEALER", b"Identity": b""}))
        while True:
            is_cmd, body = self._read_frame()
            if not is_cmd:
                raise ZmtpError("data before READY")
            name, data = self._parse_command(body)
            if name == b"READY":
                break
            if name == b"ERROR":
                raise ZmtpError(f"peer refused the handshake: {data[1:]!r}")

    @staticmethod
    def _props(props):
        out = b""
        for k, v in props.items():
            out += bytes([len(k)]) + k + struct.pack(">I", len(v)) + v
        return out

    @staticmethod
    def _parse_command(body):
        n = body[0]
        return bytes(body[1:1 + n]), bytes(body[1 + n:])

    def _send_command(self, name, data):
        body = bytes([len(name)]) + name + data
        self._send_frame(body, command=True)

    def _send_frame(self, body, command=False, more=False):
        flags = (0x04 if command else 0) | (0x01 if more else 0)
        if len(body) > 255:
            head = bytes([flags | 0x02]) + struct.pack(">Q", len(body))
        else:
            head = bytes([flags, len(body)])
        self.sock.sendall(head + body)

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ZmtpError("connection closed by the peer")
            self.buf += chunk

    def _read_exact(self, n):
        self._fill(n)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _read_frame(self):
        self._fill(2)
        flags = self.buf[0]
        if flags & 0x02:
            self._fill(9)
            size = struct.unpack(">Q", bytes(self.buf[1:9]))[0]
            start = 9
        else:
            size = self.buf[1]
            start = 2
        self._fill(start + size)
        body = bytes(self.buf[start:start + size])
        del self.buf[:start + size]
        self._last_more = bool(flags & 0x01)
        return bool(flags & 0x04), body

    def send(self, message):
        self._send_frame(message)

    def recv(self):
        """One whole message (frames joined; our protocol uses one frame)."""
        parts = []
        while True:
            is_cmd, body = self._read_frame()
            if is_cmd:
                name, data = self._parse_command(body)
                if name == b"PING":
                    # ZMTP 3.1 heartbeat: answer with the context it carries.
                    ctx = data[2:] if len(data) >= 2 else b""
                    self._send_command(b"PONG", ctx)
                elif name == b"ERROR":
                    raise ZmtpError(f"peer error: {data!r}")
                continue
            parts.append(body)
            if not self._last_more:
                return b"".join(parts)

    def settimeout(self, t):
        self.sock.settimeout(t)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- reading


def batch_digest(transactions):
    h = hashlib.blake2b(digest_size=32)
    h.update(struct.pack("<I", len(transactions)))
    for tx in transactions:
        h.update(struct.pack("<I", len(tx)))
        h.update(tx)
    return h.digest()


def parse_batch(buf):
    b = {"digest": b"", "worker_id": 0, "count": 0, "txs": [], "created": 0, "unavailable": False}
    for n, w, v in fields(buf):
        if n == 1:
            b["digest"] = bytes(v)
        elif n == 2:
            b["worker_id"] = v
        elif n == 3:
            b["count"] = v
        elif n == 4:
            b["txs"].append(bytes(v))
        elif n == 5:
            b["created"] = _int64(v)
        elif n == 6:
            b["unavailable"] = bool(v)
    return b


def parse_certificate(buf):
    c = {"digest": b"", "author": 0, "round": 0, "batches": []}
    for n, w, v in fields(buf):
        if n == 1:
            c["digest"] = bytes(v)
        elif n == 2:
            c["author"] = v
        elif n == 3:
            c["round"] = v
        elif n == 4:
            c["batches"].append(parse_batch(v))
    return c


def parse_sub_dag(buf):
    s = {"index": 0, "leader": b"", "round": 0, "certs": [], "committed": 0}
    for n, w, v in fields(buf):
        if n == 1:
            s["index"] = v
        elif n == 2:
            s["leader"] = bytes(v)
        elif n == 3:
            s["round"] = v
        elif n == 4:
            s["certs"].append(parse_certificate(v))
        elif n == 5:
            s["committed"] = _int64(v)
    return s


def parse_output_message(buf):
    """('sub_dag', dict) | ('heartbeat', next_index) | ('error', str) | (None, None)."""
    for n, w, v in fields(buf):
        if n == 1:
            return "sub_dag", parse_sub_dag(v)
        if n == 2:
            nxt = 0
            for hn, hw, hv in fields(v):
                if hn == 1:
                    nxt = hv
            return "heartbeat", nxt
        if n == 3:
            return "error", bytes(v).decode("utf-8", "replace")
    return None, None


def read_stream(host, port, timeout_s, from_index=0, until_index=-1):
    started_us = int(time.time() * 1e6)
    deadline = time.monotonic() + timeout_s
    summary = {
        "address": f"{host}:{port}",
        "reader_started_unix_us": started_us,
        "next_index": 0,
        "reached_end": False,
        "end_reason": "",
        "error": "",
        # [index, canonical hash (hex), leader (hex), leader_round,
        #  committed_at_unix_us, [[author, round, batches], ...]]
        "sub_dags": [],
        # Consensus latency of this authority's own batches (created ->
        # committed here), in ms.
        "latencies_ms": [],
        # client id (decimal) -> committed counters, in stream order.
        "transactions": {},
        "foreign_transactions": 0,
        "committed_transactions": 0,
        "committed_certificates": 0,
        "unavailable_batches": [],
        "bad_batches": [],
        "gaps": [],
    }
    next_index = from_index
    dealer = None
    reconnects = 0
    while True:
        if time.monotonic() > deadline:
            summary["end_reason"] = f"timeout after {timeout_s:.0f} s at index {next_index}"
            break
        try:
            if dealer is None:
                dealer = Dealer(host, port, timeout_s=5.0)
                dealer.send(subscribe_request(next_index, 0))
                dealer.settimeout(5.0)
            kind, value = parse_output_message(dealer.recv())
        except (OSError, ZmtpError) as e:
            # The output server restarts with the primary; subscribe again
            # from the next index we need (client_protocol.md, Reconnecting).
            if dealer is not None:
                dealer.close()
            dealer = None
            reconnects += 1
            if reconnects > 50:
                summary["error"] = f"cannot read the stream: {e}"
                break
            time.sleep(0.2)
            continue
        if kind == "error":
            summary["error"] = f"server ended the subscription: {value}"
            break
        if kind == "heartbeat":
            if until_index < 0 and value <= next_index:
                summary["reached_end"] = True
                summary["end_reason"] = f"heartbeat: caught up at index {next_index}"
                break
            continue
        if kind != "sub_dag":
            continue
        sd = value
        if sd["index"] < next_index:
            continue  # duplicate after a resubscription
        if sd["index"] > next_index:
            summary["gaps"].append([next_index, sd["index"]])
        h = hashlib.sha256()
        h.update(struct.pack("<QQ", sd["index"], sd["round"]))
        h.update(sd["leader"])
        certs = []
        for c in sd["certs"]:
            summary["committed_certificates"] += 1
            h.update(c["digest"])
            h.update(struct.pack("<IQI", c["author"], c["round"], len(c["batches"])))
            for b in c["batches"]:
                h.update(b["digest"])
                h.update(struct.pack("<IIB", b["worker_id"], b["count"], b["unavailable"]))
                if b["unavailable"]:
                    summary["unavailable_batches"].append([sd["index"], b["digest"].hex()])
                elif batch_digest(b["txs"]) != b["digest"] or len(b["txs"]) != b["count"]:
                    summary["bad_batches"].append([sd["index"], b["digest"].hex()])
                if b["created"] and sd["committed"]:
                    summary["latencies_ms"].append(round((sd["committed"] - b["created"]) / 1000.0, 3))
                summary["committed_transactions"] += b["count"]
                for tx in b["txs"]:
                    if len(tx) >= 25 and tx[0] in (0x53, 0x54):  # 'S', 'T'
                        client = str(int.from_bytes(tx[1:9], "little"))
                        counter = int.from_bytes(tx[9:17], "little")
                        summary["transactions"].setdefault(client, []).append(counter)
                    else:
                        summary["foreign_transactions"] += 1
            certs.append([c["author"], c["round"], len(c["batches"])])
        summary["sub_dags"].append([sd["index"], h.hexdigest()[:32], sd["leader"].hex(), sd["round"],
                                    sd["committed"], certs])
        next_index = sd["index"] + 1
        if until_index >= 0:
            if sd["index"] >= until_index:
                summary["reached_end"] = True
                summary["end_reason"] = f"reached index {until_index}"
                break
        elif sd["committed"] > started_us:
            summary["reached_end"] = True
            summary["end_reason"] = f"live: index {sd['index']} was committed after the reader started"
            break
    if dealer is not None:
        dealer.close()
    summary["next_index"] = next_index
    summary["reconnects"] = reconnects
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", required=True, help="the primary's output_address, HOST:PORT")
    ap.add_argument("--out", required=True, help="write the JSON summary here")
    ap.add_argument("--timeout_s", type=float, default=120)
    ap.add_argument("--from", type=int, default=0, dest="from_index", help="first index to read")
    ap.add_argument("--until_index", type=int, default=-1,
                    help="read until this index, however long it takes (up to --timeout_s); "
                         "-1: until the sub-DAGs committed when the reader started")
    args = ap.parse_args()
    host, port = args.output.rsplit(":", 1)
    summary = read_stream(host, int(port), args.timeout_s, args.from_index, args.until_index)
    with open(args.out, "w") as f:
        json.dump(summary, f)
    print(f"stream_reader: {args.output}: {len(summary['sub_dags'])} sub-DAGs, "
          f"{summary['committed_transactions']} transactions, {summary['end_reason'] or summary['error']}")
    return 0 if summary["reached_end"] and not summary["error"] else 1


if __name__ == "__main__":
    sys.exit(main())
