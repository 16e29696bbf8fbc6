"""A handle on one `nmp simserver` process: the interactive session of
docs/simserver.md, driven request by request.

The engine answers every request, errors included; an error comes back as an
:class:`EngineError` carrying the engine's message. If the process dies or
the pipe breaks, the handle says so with what the process wrote to stderr,
instead of hanging or losing the cause.
"""

import json
import os
import shutil
import struct
import subprocess
import tempfile

from . import message

#: Environment variable naming the nmp binary; otherwise `nmp` is looked up on PATH.
BINARY_ENV = "NMP_BINARY"

PROTOCOL = 1


class EngineError(RuntimeError):
    """An error reported by the nmp simserver (invalid network, parameter out of
    range, ...), or the loss of the engine process."""


def find_binary():
    """Return the path of the nmp binary: $NMP_BINARY, or `nmp` on PATH."""
    path = os.environ.get(BINARY_ENV)
    if path:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise EngineError("%s=%s is not an executable file" % (BINARY_ENV, path))
        return path
    path = shutil.which("nmp")
    if path is None:
        raise EngineError(
            "the nmp binary was not found on PATH; build it with "
            "'go build -o /usr/local/bin/nmp ./cmd/nmp' (or run scripts/setup), "
            "or set %s to its path" % BINARY_ENV)
    return path


# REPORT_ENV names the directory of a job's run reports (set by nmp worker).
REPORT_ENV = "NMP_JOB_REPORT"


class Reply(object):
    """A successful reply: `t` (ms), `info` (dict), `arrays` (name -> array)
    and `raw` (other members, name -> bytes)."""

    __slots__ = ("t", "info", "arrays", "raw")

    def __init__(self, t, info, arrays, raw):
        self.t, self.info, self.arrays, self.raw = t, info, arrays, raw


class Engine(object):
    """One engine process. `args` are extra command-line arguments of
    `nmp simserver` (e.g. ["-system", "brainscales2"])."""

    def __init__(self, binary=None, args=()):
        self.binary = binary or find_binary()
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen([self.binary, "simserver"] + list(args),
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=self._stderr, bufsize=0)
        except OSError as err:
            raise EngineError("cannot start %s engine: %s" % (self.binary, err)) from None
        self.closed = False
        reply = self.request({"op": "version"})
        if reply.info.get("protocol") != PROTOCOL:
            self.close()
            raise EngineError("%s speaks session protocol %s; this front end needs %d"
                              % (self.binary, reply.info.get("protocol"), PROTOCOL))
        self.version = reply.info.get("version")

    def request(self, req, arrays=None, members=None):
        """Send one request (a dict with "op") and return its Reply; raise
        EngineError with the engine's message when it reports an error."""
        if self.closed:
            raise EngineError("the nmp simserver has already ended")
        body = message.encode("request.json", req, arrays, members)
        try:
            self._proc.stdin.write(struct.pack("<Q", len(body)))
            self._proc.stdin.write(body)
            self._proc.stdin.flush()
            head = self._read(8)
            n, = struct.unpack("<Q", head)
            body = self._read(n)
        except (BrokenPipeError, EOFError, OSError):
            raise self._lost() from None
        except BaseException:
            # Interrupted part way (e.g. Ctrl-C during a long run): the
            # stream is out of step, so this engine cannot be used again.
            self.kill()
            raise
        meta, arrays, raw = message.decode(body, "reply.json")
        if not meta.get("ok"):
            err = EngineError(meta.get("error") or "the nmp simserver reported an error")
            err.t = meta.get("t")
            raise err
        names = meta.get("arrays") or {}
        named = {key: arrays[member] for key, member in names.items()}
        reply = Reply(meta.get("t", 0.0), meta.get("info") or {}, named, raw)
        self._note(req, members, reply)
        return reply

    def _note(self, req, members, reply):
        """Keep what a job's provenance needs: the system, seed and chip of
        the build, and a run report per run when $NMP_JOB_REPORT names a
        directory (nmp worker sets it; docs/worker.md)."""
        op = req.get("op")
        if op == "build":
            self._run_info = {"system": reply.info.get("system", "reference")}
            try:
                doc = json.loads((members or {}).get("network.json", b"{}"))
                self._run_info["seed"] = doc.get("simulation", {}).get("seed", 0)
            except (ValueError, AttributeError):
                pass
            mapping = reply.info.get("mapping") or {}
            if mapping.get("chip"):
                self._run_info["chip"] = mapping["chip"]
            return
        action = req.get("action") or {}
        if op != "action" or "run" not in action:
            return
        report = os.environ.get(REPORT_ENV)
        info = getattr(self, "_run_info", None)
        if not report or info is None or not os.path.isdir(report):
            return
        run = dict(info)
        # Hardware systems run in hardware time, the reference in biological time.
        key = "biological_time_ms" if run["system"] == "reference" else "hardware_time_ms"
        run[key] = float(action["run"])
        run["t_ms"] = reply.t
        try:
            with open(os.path.join(report, "runs.jsonl"), "a") as f:
                f.write(json.dumps(run) + "\n")
        except OSError:
            pass  # a report is best effort: the simulation's results stand

    def _read(self, n):
        chunks, got = [], 0
        out = self._proc.stdout
        while got < n:
            chunk = out.read(min(n - got, 1 << 24))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _lost(self):
        try:
            status = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            status = self._proc.wait()
        self.closed = True
        self._stderr.seek(0)
        tail = self._stderr.read()[-4000:].decode("utf-8", "replace").strip()
        for f in (self._proc.stdin, self._proc.stdout, self._stderr):
            try:
                f.close()
            except OSError:
                pass
        msg = "the nmp simserver exited unexpectedly (exit status %s)" % status
        if tail:
            msg += ": " + tail
        return EngineError(msg)

    def close(self):
        """End the session and wait for the process."""
        if self.closed:
            return
        try:
            self.request({"op": "end"})
        except EngineError:
            pass
        self.closed = True
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()
        self._stderr.close()

    def kill(self):
        """Stop the process at once (after an interrupted request)."""
        if self.closed:
            return
        self.closed = True
        self._proc.kill()
        self._proc.wait()
        for f in (self._proc.stdin, self._proc.stdout, self._stderr):
            try:
                f.close()
            except OSError:
                pass

    def __del__(self):
        try:
            if not self.closed:
                self.kill()
        except Exception:
            pass
