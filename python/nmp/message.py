"""The messages of the simulation server protocol (docs/simserver.md).

A message is a zip archive in numpy's .npz layout: one JSON member and any
number of arrays as .npy members, stored uncompressed so that large arrays
cross the pipe as raw bytes.
"""

import io
import json
import zipfile

import numpy as np


def encode(json_name, document, arrays=None, members=None):
    """Return the bytes of an archive holding `document` as the JSON member
    `json_name`, `arrays` (name -> numpy array) as NAME.npy members and
    `members` (name -> bytes or str) as they are."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(json_name, json.dumps(document, allow_nan=False))
        for name, text in (members or {}).items():
            z.writestr(name, text)
        for name, a in (arrays or {}).items():
            a = np.ascontiguousarray(a)
            if a.dtype.byteorder == ">":
                a = a.astype(a.dtype.newbyteorder("<"))
            with z.open(name + ".npy", "w", force_zip64=a.nbytes > (1 << 30)) as f:
                np.lib.format.write_array(f, a, allow_pickle=False)
    return buf.getvalue()


def decode(body, json_name):
    """Read an archive: return (document, arrays, raw) where arrays maps the
    names of .npy members (without the suffix) to numpy arrays and raw maps
    the other members to bytes."""
    arrays, raw = {}, {}
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        for info in z.infolist():
            name = info.filename
            if name.endswith(".npy"):
                with z.open(info) as f:
                    arrays[name[:-4]] = np.lib.format.read_array(f, allow_pickle=False)
            else:
                raw[name] = z.read(info)
    if json_name not in raw:
        raise ValueError("message has no %s member" % json_name)
    return json.loads(raw.pop(json_name)), arrays, raw
