"""The client of nmp's simulation server protocol (docs/simserver.md): a
handle on one `nmp simserver` process, driven request by request.

Every front end talks to the Go side through :class:`SimServer` and holds no
protocol code of its own: it builds a network description
(:mod:`nmp.description`), sends it with :meth:`SimServer.build`, changes and
runs it with :meth:`SimServer.action`, and reads what was recorded with
:meth:`SimServer.data` (:mod:`nmp.data` keeps it).

The server answers every request, errors included; an error comes back as a
:class:`SimServerError` carrying the server's message. If the process dies or
the pipe breaks, the handle says so with what the process wrote to stderr,
instead of hanging or losing the cause.
"""

import json
import os
import shutil
import struct
import subprocess
import tempfile

import numpy as np

from . import message

#: Environment variable naming the nmp binary; otherwise `nmp` is looked up on PATH.
BINARY_ENV = "NMP_BINARY"

PROTOCOL = 1


class SimServerError(RuntimeError):
    """An error reported by the nmp simserver (invalid network, parameter out of
    range, ...), or the loss of its process. `t` is the simulation time (ms)
    the server reported with the error, if any."""

    t = None


def find_binary():
    """Return the path of the nmp binary: $NMP_BINARY, or `nmp` on PATH."""
    path = os.environ.get(BINARY_ENV)
    if path:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise SimServerError("%s=%s is not an executable file" % (BINARY_ENV, path))
        return path
    path = shutil.which("nmp")
    if path is None:
        raise SimServerError(
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


class SimServer(object):
    """One `nmp simserver` process. `args` are extra command-line arguments
    of `nmp simserver` (e.g. ["-system", "brainscales2"])."""

    def __init__(self, binary=None, args=()):
        self.binary = binary or find_binary()
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen([self.binary, "simserver"] + list(args),
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=self._stderr, bufsize=0)
        except OSError as err:
            raise SimServerError("cannot start %s simserver: %s" % (self.binary, err)) from None
        self.closed = False
        reply = self.request({"op": "version"})
        if reply.info.get("protocol") != PROTOCOL:
            self.close()
            raise SimServerError("%s speaks simserver protocol %s; this front end needs %d"
                                 % (self.binary, reply.info.get("protocol"), PROTOCOL))
        self.version = reply.info.get("version")

    def request(self, req, arrays=None, members=None):
        """Send one request (a dict with "op") and return its Reply; raise
        SimServerError with the server's message when it reports an error."""
        if self.closed:
            raise SimServerError("the nmp simserver has already ended")
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
            # stream is out of step, so this process cannot be used again.
            self.kill()
            raise
        meta, arrays, raw = message.decode(body, "reply.json")
        if not meta.get("ok"):
            err = SimServerError(meta.get("error") or "the nmp simserver reported an error")
            err.t = meta.get("t")
            raise err
        names = meta.get("arrays") or {}
        named = {key: arrays[member] for key, member in names.items()}
        reply = Reply(meta.get("t", 0.0), meta.get("info") or {}, named, raw)
        self._note(req, members, reply)
        return reply

    # -- the protocol's requests (docs/simserver.md) -------------------------------

    def build(self, description, threads=None):
        """Build a network (a nmp.description.Description) in the server,
        replacing any earlier one. The reply's info carries the neurons, the
        projections' sizes, the system and its `mapping` (the plan's info)."""
        req = {"op": "build"}
        if threads:
            req["threads"] = int(threads)
        doc = json.dumps(description.document(), allow_nan=False)
        return self.request(req, arrays=description.enc.arrays, members={"network.json": doc})

    def action(self, action, arrays=None):
        """Apply one schedule action (docs/network-description.md), e.g.
        {"run": 10.0}; `arrays` are those its values refer to."""
        return self.request({"op": "action", "action": action}, arrays=arrays)

    def data(self, clear=True):
        """The results archive (bytes, docs/results.md) of what was recorded:
        since the last clearing request, or all of it with clear=False."""
        return self.request({"op": "data", "clear": bool(clear)}).raw["results.npz"]

    def connections(self, projection):
        """The connections of a projection: (pre, post) positions as int64 arrays."""
        reply = self.request({"op": "connections", "projection": int(projection)})
        return reply.arrays["pre"].astype(np.int64), reply.arrays["post"].astype(np.int64)

    def synapses(self, projection, names):
        """The values of synapse parameters of a projection: name -> float array,
        one value per connection, in the order of connections()."""
        reply = self.request({"op": "synapses", "projection": int(projection), "names": list(names)})
        return {n: np.asarray(reply.arrays[n], dtype=float) for n in names}

    def population_state(self, population, names):
        """The present values of parameters or state variables of a
        population: name -> float array, one value per neuron."""
        reply = self.request({"op": "state", "population": int(population), "names": list(names)})
        return {n: np.asarray(reply.arrays[n], dtype=float) for n in names}

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
            if mapping.get("calibration"):
                # which calibration the run used (the job's provenance lists it)
                self._run_info["calibration"] = mapping["calibration"]
            self._report_mapping(mapping)
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
        mapping = reply.info.get("mapping") or {}
        if "cores_used" in mapping:
            # A many-core machine (SpiNNaker): the cores its mapping used and
            # its wall time (the time scale factor slows it), for core-hours;
            # the action's reply has the run's real-time figures.
            run["hardware_time_ms"] = float(action["run"]) * float(mapping.get("time_scale_factor") or 1)
            run["cores"] = mapping["cores_used"]
            run["boards"] = mapping.get("boards_used")
            realtime = mapping.get("realtime") or {}
            for k in ("Times_the_timer_tic_over_ran", "dropped_packets"):
                if k in realtime:
                    run[k] = realtime[k]
        try:
            with open(os.path.join(report, "runs.jsonl"), "a") as f:
                f.write(json.dumps(run) + "\n")
        except OSError:
            pass  # a report is best effort: the simulation's results stand

    def _report_mapping(self, mapping):
        """Leave a hardware system's mapping (placement, synapse use, drops)
        in $NMP_JOB_REPORT/mapping-N.json, for the job page's mapping picture
        (the worker puts it in the job's data summary)."""
        report = os.environ.get(REPORT_ENV)
        if not mapping or not report or not os.path.isdir(report):
            return
        self._builds = getattr(self, "_builds", 0) + 1
        try:
            with open(os.path.join(report, "mapping-%d.json" % self._builds), "w") as f:
                json.dump(mapping, f)
        except (OSError, TypeError, ValueError):
            pass  # best effort, as the run reports

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
        return SimServerError(msg)

    def close(self):
        """End the session and wait for the process."""
        if self.closed:
            return
        try:
            self.request({"op": "end"})
        except SimServerError:
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
