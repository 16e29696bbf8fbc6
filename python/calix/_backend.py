"""How nmp's calix reaches the chip: one `nmp calib exec` per calibration
function, given the calibration state the connection holds, answering with
the results (docs/calibration.md). Knows nothing of PyNN."""

import json
import subprocess

from nmp.simclient import find_binary

#: The Go calibration's algorithm version (part of the cache key); the Go
#: side reports it with every result, and test_calix holds the two equal.
ALGORITHM = "nmp-calix-2"


class CalibrationError(RuntimeError):
    """A calibration the chip refused or could not run."""


def execute(request):
    """Run one calibration request; return the reply (a dict)."""
    binary = find_binary()
    try:
        proc = subprocess.run([binary, "calib", "exec"], input=json.dumps(request, allow_nan=False).encode(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as err:
        raise CalibrationError("cannot start %s calib exec: %s" % (binary, err)) from None
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip()
        if msg.startswith("nmp: "):
            msg = msg[len("nmp: "):]
        raise CalibrationError(msg or "nmp calib exec failed (exit %d)" % proc.returncode)
    return json.loads(proc.stdout)
