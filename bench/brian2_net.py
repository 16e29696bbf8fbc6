#!/usr/bin/python3
"""COBA and CUBA (Brette et al. 2007, benchmarks 1 and 2) in Brian2, as the
reference that bench/coba.py measures nmp against in the same run.

The networks follow Brian2's own versions of the benchmarks: 4000 LIF
neurons, 80 % excitatory, 2 % connectivity, dt 0.1 ms, refractory period
5 ms, threshold -50 mV, reset -60 mV, tau_m 20 ms.
  COBA: E_L -60 mV, g_L 10 nS, C 200 pF, exponential conductances
        (5 / 10 ms, 6 / 67 nS), E_e 0 mV, E_i -80 mV, random initial state.
  CUBA: E_L -49 mV, exponential currents (5 / 10 ms) written as voltage
        jumps 1.62 / -9 mV, v uniform in [-60, -50] mV.

Prints one JSON line: mean rate (Hz), mean ISI CV, spike count, the time of
the simulation loop alone and the time of the whole script.
"""
import argparse
import json
import sys
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import brian2 as b2  # noqa: E402
from brian2 import ms, mV, nS, pF, second  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["coba", "cuba"], default="coba")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=1000.0, help="ms")
    ap.add_argument("--mode", choices=["runtime", "standalone"], default="runtime")
    ap.add_argument("--build-dir", default="/tmp/nmp-bench-brian2-standalone")
    args = ap.parse_args()

    if args.mode == "standalone":
        b2.set_device("cpp_standalone", build_on_run=False)
    else:
        b2.prefs.codegen.target = "cython"
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(args.seed)

    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    Vt, Vr = -50 * mV, -60 * mV
    if args.model == "coba":
        El, Ee, Ei = -60 * mV, 0 * mV, -80 * mV
        gL, C = 10 * nS, 200 * pF
        eqs = """
        dv/dt = (gL*(El - v) + ge*(Ee - v) + gi*(Ei - v)) / C : volt (unless refractory)
        dge/dt = -ge / taue : siemens
        dgi/dt = -gi / taui : siemens
        """
        P = b2.NeuronGroup(4000, eqs, threshold="v > Vt", reset="v = Vr", refractory=5 * ms,
                           method="exponential_euler")
        P.v = "El + (randn() * 5 - 5) * mV"
        P.ge = "(randn() * 1.5 + 4) * 10. * nS"
        P.gi = "(randn() * 12 + 20) * 10. * nS"
        we, wi = 6 * nS, 67 * nS
        on_e, on_i = "ge += we", "gi += wi"
    else:
        El = -49 * mV
        eqs = """
        dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
        dge/dt = -ge / taue : volt
        dgi/dt = -gi / taui : volt
        """
        P = b2.NeuronGroup(4000, eqs, threshold="v > Vt", reset="v = Vr", refractory=5 * ms, method="exact")
        P.v = "Vr + rand() * (Vt - Vr)"
        P.ge = 0 * mV
        P.gi = 0 * mV
        we, wi = (60 * 0.27 / 10) * mV, (-20 * 4.5 / 10) * mV
        on_e, on_i = "ge += we", "gi += wi"
    Pe, Pi = P[:3200], P[3200:]
    Ce = b2.Synapses(Pe, P, on_pre=on_e)
    Ce.connect(p=0.02)
    Ci = b2.Synapses(Pi, P, on_pre=on_i)
    Ci.connect(p=0.02)
    mon = b2.SpikeMonitor(P)

    net = b2.Network(b2.collect())
    if args.mode == "runtime":
        # A run of no time prepares (and caches) the generated code, so that
        # the timed run below is the simulation loop alone.
        net.run(0 * ms)
    t0 = time.perf_counter()
    net.run(args.duration * ms)
    if args.mode == "standalone":
        b2.device.build(directory=args.build_dir, compile=True, run=True, debug=False)
        loop = b2.device._last_run_time
        run_wall = time.perf_counter() - t0
    else:
        run_wall = time.perf_counter() - t0
        loop = run_wall

    i, t = np.asarray(mon.i), np.asarray(mon.t / ms)
    cvs = []
    order = np.lexsort((t, i))
    i, t = i[order], t[order]
    bounds = np.flatnonzero(np.diff(i)) + 1
    for ts in np.split(t, bounds):
        if len(ts) >= 3:
            isi = np.diff(ts)
            cvs.append(isi.std() / isi.mean())
    out = {
        "simulator": "brian2 " + b2.__version__, "mode": args.mode, "model": args.model, "seed": args.seed,
        "duration_ms": args.duration, "spikes": int(len(t)),
        "rate_hz": len(t) / 4000 / (args.duration / 1000.0),
        "cv_isi": float(np.mean(cvs)) if cvs else float("nan"),
        "synapses": int(len(Ce) + len(Ci)),
        "loop_s": float(loop), "run_call_s": run_wall,
        "script_s": time.perf_counter() - T_START,
    }
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
