"""Calibration files (docs/calibration.md): the binary "cocolist" (.pbin,
the counterpart of calix's portable-binary dump of a playback program) and
readable JSON (.json, optionally gzipped), both of one content: a spiking
calibration result as nmp's Go side writes it. read() takes either and
checks what it reads; write() writes either."""

import gzip
import json
import os
import struct
import zlib

FORMAT = "nmp-bss2-calibration"
VERSION = 1
MAGIC = b"NMPCAL\x00\x01"
_CADC_GLOBALS = ("cadc_ramp_offset", "cadc_ramp_slope", "cadc_channel_offset")
_CADC_FIELDS = {"cadc_ramp_offset": "v_ramp_offset", "cadc_ramp_slope": "i_ramp_slope",
                "cadc_channel_offset": "channel_offset"}


class CalibrationFileError(ValueError):
    """A file that is no calibration, or a damaged one."""


def _bad(path, msg):
    return CalibrationFileError("%s: %s" % (path, msg))


def loads(data, path="calibration"):
    """The content (a dict) of a calibration file's bytes."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:7] == MAGIC[:7]:
        raw = _read_binary(data, path)
    else:
        try:
            raw = json.loads(data.decode())
        except (UnicodeDecodeError, ValueError) as err:
            raise _bad(path, "not a calibration file (binary or JSON): %s" % err) from None
    _check(raw, path)
    return raw


def read(path):
    """The content (a dict) of a calibration file."""
    with open(path, "rb") as f:
        return loads(f.read(), str(path))


def _read_binary(data, path):
    if len(data) < len(MAGIC) + 9:
        raise _bad(path, "truncated")
    if data[7] != MAGIC[7]:
        raise _bad(path, "binary version %d; this nmp reads version %d" % (data[7], MAGIC[7]))
    body, (crc,) = data[:-4], struct.unpack("<I", data[-4:])
    if zlib.crc32(body) & 0xffffffff != crc:
        raise _bad(path, "checksum mismatch: the file is damaged")
    pos = len(MAGIC)

    def take(n):
        nonlocal pos
        if n < 0 or pos + n > len(body):
            raise _bad(path, "truncated")
        b = body[pos:pos + n]
        pos += n
        return b

    (hl,) = struct.unpack("<I", take(4))
    try:
        raw = json.loads(take(hl).decode())
    except ValueError as err:
        raise _bad(path, "header: %s" % err) from None
    neuron, cadc = raw.get("neuron"), raw.get("cadc")
    if not isinstance(neuron, dict) or not isinstance(cadc, dict):
        raise _bad(path, "header has no neuron or CADC part")
    neuron["neurons"], neuron["globals"] = {}, {}
    while True:
        kind = take(1)[0]
        if kind == 0:
            break
        if kind > 2:
            raise _bad(path, "unknown record kind %d" % kind)
        (nl,) = struct.unpack("<H", take(2))
        name = take(nl).decode()
        (count,) = struct.unpack("<I", take(4))
        if count > 1024:
            raise _bad(path, "%s has %d values" % (name, count))
        values = [float(x) for x in struct.unpack("<%dh" % count, take(2 * count))]
        if kind == 1:
            neuron["neurons"][name] = values
        elif name in _CADC_FIELDS:
            cadc[_CADC_FIELDS[name]] = values
        else:
            neuron["globals"][name] = values
    if pos != len(body):
        raise _bad(path, "%d bytes after the end of the records" % (len(body) - pos))
    return raw


def _check(raw, path):
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise _bad(path, "format %r, want %r" % (raw.get("format") if isinstance(raw, dict) else None, FORMAT))
    if raw.get("version") != VERSION:
        raise _bad(path, "version %r; this nmp reads version %d" % (raw.get("version"), VERSION))
    if not raw.get("chip"):
        raise _bad(path, "names no chip")
    neuron, cadc = raw.get("neuron"), raw.get("cadc")
    if not isinstance(neuron, dict) or not isinstance(cadc, dict):
        raise _bad(path, "has no CADC or neuron part")
    for field, n in (("v_ramp_offset", 4), ("i_ramp_slope", 4), ("channel_offset", 1024)):
        if len(cadc.get(field) or ()) != n:
            raise _bad(path, "CADC %s has %d values, want %d" % (field, len(cadc.get(field) or ()), n))
    if not neuron.get("neurons"):
        raise _bad(path, "configures no neuron")
    for name, values in neuron["neurons"].items():
        if len(values) != 512:
            raise _bad(path, "neuron parameter %s has %d values, want 512" % (name, len(values)))
        if any(not (0 <= v <= 1022) for v in values):
            raise _bad(path, "neuron parameter %s: values outside 0 to 1022" % name)


def dumps_binary(raw):
    """The binary encoding of a calibration's content."""
    head = json.loads(json.dumps(raw))
    head["neuron"]["neurons"], head["neuron"]["globals"] = None, None
    for f in _CADC_FIELDS.values():
        head["cadc"][f] = None
    hj = json.dumps(head, separators=(",", ":")).encode()
    out = bytearray(MAGIC)
    out += struct.pack("<I", len(hj)) + hj

    def record(kind, name, values):
        nb = name.encode()
        out.extend(struct.pack("<BH", kind, len(nb)) + nb + struct.pack("<I", len(values)))
        out.extend(struct.pack("<%dh" % len(values), *[int(v) for v in values]))

    glob = dict(raw["neuron"].get("globals") or {})
    for g, f in _CADC_FIELDS.items():
        glob[g] = raw["cadc"][f]
    for name in sorted(glob):
        record(2, name, glob[name])
    for name in sorted(raw["neuron"]["neurons"]):
        record(1, name, raw["neuron"]["neurons"][name])
    out.append(0)
    out += struct.pack("<I", zlib.crc32(bytes(out)) & 0xffffffff)
    return bytes(out)


def write(raw, path):
    """Write a calibration's content: binary for .pbin, JSON otherwise
    (gzipped for .gz), atomically (nothing half-written on failure)."""
    path = str(path)
    if path.endswith(".pbin"):
        data = dumps_binary(raw)
    else:
        data = json.dumps(raw, indent=1).encode()
        if path.endswith(".gz"):
            data = gzip.compress(data)
    tmp = path + ".tmp%d" % os.getpid()
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
