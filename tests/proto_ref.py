#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""proto_ref.py - an independent reference of the wire protocol framing
(docs/protocol.md, section 1), written from the document, not from
host/src/proto.c: CRC from Python's zlib.crc32, COBS written here.

usage:
  proto_ref.py frame OP SEQ STATUS [PAYLOAD_HEX]   print the wire bytes (hex)
  proto_ref.py example                             print the frames of the
                                                   protocol.md example GEMM
  proto_ref.py decode HEX...                       decode wire bytes (one frame)
"""
import struct
import sys
import zlib


def body(op, seq, status, payload):
    head = bytes([op, seq, status]) + struct.pack("<H", len(payload))
    crc = zlib.crc32(head + payload) & 0xFFFFFFFF
    return head + payload + struct.pack("<I", crc)


def cobs(data):
    """Groups of up to 254 non-zero bytes; a zero ends a group and is
    implied by its code; nothing is written after the last body byte."""
    out = bytearray()
    i = 0
    while i < len(data):
        run = bytearray()
        while i < len(data) and len(run) < 254:
            b = data[i]
            i += 1
            if b == 0:
                break
            run.append(b)
        out.append(len(run) + 1)
        out += run
    return bytes(out)


def frame(op, seq, status, payload=b""):
    return b"\x00" + cobs(body(op, seq, status, payload))


def decode(wire):
    """Decode one frame (wire[0] must be the marker); returns the fields."""
    assert wire[0] == 0
    out = bytearray()
    i = 1
    need = None
    while need is None or len(out) < need:
        code = wire[i]
        i += 1
        out += wire[i:i + code - 1]
        i += code - 1
        if code < 0xFF:
            out.append(0)
        if need is None and len(out) >= 5:
            need = 9 + struct.unpack("<H", bytes(out[3:5]))[0]
    out = bytes(out[:need])
    ln = need - 9
    crc_ok = zlib.crc32(out[:5 + ln]) & 0xFFFFFFFF == struct.unpack("<I", out[5 + ln:])[0]
    return out[0], out[1], out[2], out[5:5 + ln], crc_ok


def example():
    """The docs/protocol.md example: a 2x3 by 3x2 GEMM on a 4x4 array."""
    x = [[1, -2, 3], [4, 5, -6]]          # X, 2x3
    w = [[1, 2], [3, -4], [5, 6]]         # W, 3x2
    bias = [10, -20]
    shift = [1, 2]
    frames = []
    frames.append(("RESET", frame(0x41, 0x00, 0)))
    frames.append(("IDENT", frame(0x01, 0x01, 0)))
    # LOAD_X bank 0, 3 words of 4 lanes: word k holds X[i][k] in lane i
    xd = bytes((x[i][k] if i < 2 else 0) & 0xFF for k in range(3) for i in range(4))
    frames.append(("LOAD_X", frame(0x02, 0x02, 0, bytes([0, 3, 0]) + xd)))
    # LOAD_W bank 0, 3 words: word k holds W[k][j] in lane j
    wd = bytes((w[k][j] if j < 2 else 0) & 0xFF for k in range(3) for j in range(4))
    frames.append(("LOAD_W", frame(0x03, 0x03, 0, bytes([0, 3, 0]) + wd)))
    # LOAD_P bank 0, 1 group: per column bias (int32 LE) and shift
    pd = b"".join(struct.pack("<iB", bias[j] if j < 2 else 0, shift[j] if j < 2 else 0)
                  for j in range(4))
    frames.append(("LOAD_P", frame(0x04, 0x04, 0, bytes([0, 1, 0]) + pd)))
    # RUN xbank 0, wbank 0, rg 1, cg 1, k 3, last_rows 2, last_cols 2,
    # round half_up (1), lo -128, hi 127
    run = bytes([0, 0]) + struct.pack("<HHH", 1, 1, 3) + bytes([2, 2, 1, 0x80, 0x7F])
    frames.append(("RUN", frame(0x05, 0x05, 0, run)))
    frames.append(("COUNTERS", frame(0x06, 0x06, 0)))
    # expected results: requantize with half_up rounding
    ys = []
    for i in range(2):
        for j in range(2):
            acc = sum(x[i][k] * w[k][j] for k in range(3)) + bias[j]
            s = shift[j]
            r = (acc + (1 << (s - 1))) >> s if s else acc
            ys.append(max(-128, min(127, r)) & 0xFF)
    frames.append(("RUN response", frame(0x85, 0x05, 0, bytes(ys))))
    return frames


def main(argv):
    if len(argv) >= 4 and argv[0] == "frame":
        payload = bytes.fromhex(argv[4]) if len(argv) > 4 else b""
        print(frame(int(argv[1], 0), int(argv[2], 0), int(argv[3], 0), payload).hex(" "))
    elif argv and argv[0] == "example":
        for name, f in example():
            print(f"{name}: {f.hex(' ')}")
    elif argv and argv[0] == "decode":
        op, seq, st, pl, ok = decode(bytes.fromhex("".join(argv[1:])))
        print(f"op {op:#04x} seq {seq:#04x} status {st:#04x} len {len(pl)} "
              f"crc {'ok' if ok else 'BAD'} payload {pl.hex(' ')}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
