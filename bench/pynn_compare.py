#!/usr/bin/python3
"""Runs one PyNN script on several backends (by default pyNN.brian2 and
pyNN.nmp) with several seeds, and reports for each backend the mean firing
rate and ISI CV of every population, and the run time, with the ratios
between backends measured in the same run.

    /usr/bin/python3 bench/pynn_compare.py [--script bench/pynn/coba.py]
        [--backends brian2 nmp] [--seeds 1 2 3] [--duration 1000] [--reuse]

The script is run as `/usr/bin/python3 SCRIPT BACKEND --seed S --duration D
--out FILE` in a fresh interpreter, so that each run pays its own imports and
compilation, as a user's would; "whole run" is the wall time of that process.
It must write the spikes of each population to FILE (.npz): NAME_times (ms),
NAME_ids (index within the population) and NAME_size, as bench/pynn/coba.py
does. pyNN.nmp is the installed one (python/install).

Statistics agree between two backends when the difference of their means
over the seeds is within twice the seed-to-seed spread (the root mean square
of the two standard deviations). Results go to bench/out/pynn_compare.json;
--reuse takes runs already there instead of running them again (Brian2's
take minutes).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


def run_once(script, backend, seed, duration, extra):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "spikes.npz")
        cmd = [PY, script, backend, "--seed", str(seed), "--duration", str(duration), "--out", out] + extra
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError("%s failed (exit %d):\n%s" % (" ".join(cmd), proc.returncode,
                                                               proc.stderr[-3000:]))
        data = np.load(out)
        pops = {}
        for key in data.files:
            if key.endswith("_times"):
                name = key[:-len("_times")]
                pops[name] = statistics(data[name + "_times"], data[name + "_ids"],
                                        int(data[name + "_size"]), float(data["duration"]))
        timings = {}
        if "timing_names" in data.files:
            timings = dict(zip([str(n) for n in data["timing_names"]], map(float, data["timings"])))
        return {"backend": backend, "seed": seed, "wall_s": wall, "populations": pops,
                "timings": timings, "synapses": int(data["synapses"]) if "synapses" in data.files else None}


def statistics(times, ids, size, duration):
    """Mean rate (Hz) over all neurons, and the mean ISI CV over neurons
    with at least three spikes."""
    rate = len(times) / size / (duration / 1000.0)
    order = np.lexsort((times, ids))
    times, ids = times[order], ids[order]
    cvs = []
    bounds = np.searchsorted(ids, np.arange(size + 1))
    for i in range(size):
        t = times[bounds[i]:bounds[i + 1]]
        if len(t) >= 3:
            isi = np.diff(t)
            if isi.mean() > 0:
                cvs.append(isi.std() / isi.mean())
    return {"rate_hz": rate, "cv_isi": float(np.mean(cvs)) if cvs else float("nan"),
            "neurons_with_cv": len(cvs)}


def summarize(runs):
    out = {}
    for r in runs:
        b = out.setdefault(r["backend"], {"wall_s": [], "populations": {}, "timings": {}})
        b["wall_s"].append(r["wall_s"])
        for k, v in r["timings"].items():
            b["timings"].setdefault(k, []).append(v)
        for name, st in r["populations"].items():
            p = b["populations"].setdefault(name, {"rate_hz": [], "cv_isi": []})
            p["rate_hz"].append(st["rate_hz"])
            p["cv_isi"].append(st["cv_isi"])
    return out


def mean_sd(xs):
    xs = np.asarray(xs, dtype=float)
    return float(np.nanmean(xs)), float(np.nanstd(xs, ddof=1)) if len(xs) > 1 else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", default=os.path.join(HERE, "pynn", "coba.py"))
    parser.add_argument("--backends", nargs="+", default=["brian2", "nmp"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--duration", type=float, default=1000.0, help="ms")
    parser.add_argument("--out", default=os.path.join(HERE, "out", "pynn_compare.json"))
    parser.add_argument("--reuse", action="store_true", help="reuse runs recorded in --out")
    parser.add_argument("script_args", nargs="*", help="more arguments for the script (after --)")
    args = parser.parse_args()

    script = os.path.abspath(args.script)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    previous = []
    if args.reuse and os.path.exists(args.out):
        with open(args.out) as f:
            old = json.load(f)
        if old.get("script") == os.path.relpath(script, os.path.dirname(HERE)) and \
                old.get("duration") == args.duration:
            previous = old["runs"]
    nmp_version = subprocess.run(["nmp", "version"], capture_output=True, text=True).stdout.strip()
    runs = []
    for backend in args.backends:
        for seed in args.seeds:
            done = [r for r in previous if r["backend"] == backend and r["seed"] == seed]
            if done:
                runs.append(done[0])
                print("%-8s seed %-4d (reused) whole run %.2f s" % (backend, seed, done[0]["wall_s"]))
                continue
            r = run_once(script, backend, seed, args.duration, args.script_args)
            runs.append(r)
            print("%-8s seed %-4d whole run %7.2f s   %s" % (backend, seed, r["wall_s"], "  ".join(
                "%s %.2f Hz CV %.2f" % (n, s["rate_hz"], s["cv_isi"]) for n, s in sorted(r["populations"].items()))))
            sys.stdout.flush()
            with open(args.out, "w") as f:
                json.dump({"script": os.path.relpath(script, os.path.dirname(HERE)),
                           "duration": args.duration, "nmp": nmp_version, "runs": previous + runs}, f, indent=1)

    summary = summarize(runs)
    print("\n%s, %g ms, seeds %s; nmp %s" % (os.path.relpath(script), args.duration,
                                             " ".join(map(str, args.seeds)), nmp_version))
    print("%-8s %-6s %16s %16s" % ("backend", "pop", "rate (Hz)", "ISI CV"))
    for backend in args.backends:
        for name, p in sorted(summary[backend]["populations"].items()):
            r, cv = mean_sd(p["rate_hz"]), mean_sd(p["cv_isi"])
            print("%-8s %-6s %8.2f ± %5.2f %8.3f ± %5.3f" % (backend, name, r[0], r[1], cv[0], cv[1]))
    print()
    for backend in args.backends:
        w = mean_sd(summary[backend]["wall_s"])
        t = summary[backend]["timings"]
        parts = ", ".join("%s %.2f" % (k, np.mean(v)) for k, v in sorted(t.items()))
        print("%-8s whole run %7.2f ± %.2f s   (%s)" % (backend, w[0], w[1], parts))
        if "engine_run_s" in t:
            python = np.mean(t["build_s"]) + np.mean(t["run_s"]) + np.mean(t["data_s"]) - \
                np.mean(t["engine_build_s"]) - np.mean(t["engine_run_s"])
            print("%-8s Python time besides the engine, from creating the network to the data: %.2f s"
                  % (backend, python))
    ok = True
    if len(args.backends) == 2:
        a, b = args.backends
        print()
        for name in sorted(summary[a]["populations"]):
            if name not in summary[b]["populations"]:
                continue
            for stat in ("rate_hz", "cv_isi"):
                ma, sa = mean_sd(summary[a]["populations"][name][stat])
                mb, sb = mean_sd(summary[b]["populations"][name][stat])
                spread = np.sqrt((sa ** 2 + sb ** 2) / 2)
                agree = abs(ma - mb) <= 2 * spread
                ok &= bool(agree)
                print("%-6s %-8s %s %.3f vs %s %.3f: difference %.3f, seed spread %.3f -> %s" % (
                    name, stat, a, ma, b, mb, ma - mb, spread, "agree" if agree else "DIFFER"))
        wa, wb = np.mean(summary[a]["wall_s"]), np.mean(summary[b]["wall_s"])
        print("\nwhole run: %s %.2f s, %s %.2f s: %s is %.1fx faster" % (
            a, wa, b, wb, b if wb < wa else a, max(wa, wb) / min(wa, wb)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
