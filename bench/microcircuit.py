#!/usr/bin/python3
"""Scale run of the Potjans and Diesmann (2014) cortical microcircuit on nmp.

Writes the network as an nmp description (IF_curr_exp, the published
population sizes, connection probabilities, in-degrees of external input as
an equivalent DC drive, PSP 0.15 mV with 10 % spread, g = -4, L4E->L23E
doubled, delays 1.5 / 0.75 ms with 50 % spread), runs `nmp simulate` on it
and reports the build time, the real-time factor, the memory per synapse
and the rate of every population next to the published reference rates.

Parameters are Potjans and Diesmann (2014), Cereb Cortex 24:785, as in the
microcircuit example of NEST. At scale s the populations have s times their
neurons and every neuron keeps its full in-degree, so the dynamics stay
close to the full model while the synapse count scales with s.

Usage:  bench/microcircuit.py [--scale 1.0] [--duration 1000] [--threads 2] [--nmp PATH]
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
N_FULL = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
# Connection probabilities, target x source.
P = [[0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
     [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
     [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
     [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
     [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
     [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
     [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
     [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]]
K_EXT = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]
REF_RATES = [0.971, 2.868, 4.746, 5.396, 8.142, 9.078, 0.991, 7.523]
C_M, TAU_M, TAU_SYN, T_REF = 250.0, 10.0, 0.5, 2.0   # pF, ms
PSP_E, PSP_SD, G, BG_RATE = 0.15, 0.1, -4.0, 8.0


def psc_per_psp():
    """The PSC amplitude (pA) whose PSP peaks at 1 mV, for the LIF above."""
    # PSP of a unit current step decaying with tau_syn, into C_M and tau_m:
    # v(t) = tau_m tau_s / (C (tau_m - tau_s)) (exp(-t/tau_m) - exp(-t/tau_s)).
    a = TAU_M * TAU_SYN / (TAU_M - TAU_SYN)
    t_peak = math.log(TAU_M / TAU_SYN) * a
    peak = a / C_M * (math.exp(-t_peak / TAU_M) - math.exp(-t_peak / TAU_SYN))
    return 1.0 / peak


def description(scale, duration, seed, record_v=False):
    j = PSP_E * psc_per_psp()          # pA
    sizes = [max(1, int(round(n * scale))) for n in N_FULL]
    pops = []
    for i, name in enumerate(POPS):
        dc = K_EXT[i] * BG_RATE * 1e-3 * j * TAU_SYN  # pA: mean of the Poisson background
        pops.append({"label": name, "size": sizes[i], "cell_type": "IF_curr_exp",
                     "parameters": {"cm": C_M / 1000, "tau_m": TAU_M, "tau_syn_E": TAU_SYN, "tau_syn_I": TAU_SYN,
                                    "tau_refrac": T_REF, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
                                    "i_offset": dc / 1000},
                     "initial_values": {"v": {"distribution": "normal", "parameters": {"mu": -58.0, "sigma": 10.0}}}})
    projs = []
    big = 1e9
    for t in range(8):
        for s in range(8):
            p = P[t][s]
            if p == 0:
                continue
            # Total number of synapses drawn with replacement so that a pair
            # is connected with probability p, at full scale; then the
            # in-degree is kept and the count scales with the target size.
            k_full = math.log(1 - p) / math.log(1 - 1 / (N_FULL[s] * N_FULL[t]))
            k = int(round(k_full * sizes[t] / N_FULL[t]))
            exc = s % 2 == 0
            w = j * (2 if (t == 0 and s == 2) else 1) * (1 if exc else G) / 1000  # nA
            wdist = ({"distribution": "normal_clipped", "parameters": {"mu": w, "sigma": abs(w) * PSP_SD, "low": 0, "high": big}}
                     if exc else
                     {"distribution": "normal_clipped", "parameters": {"mu": w, "sigma": abs(w) * PSP_SD, "low": -big, "high": 0}})
            d = 1.5 if exc else 0.75
            projs.append({"label": f"{POPS[s]}->{POPS[t]}", "pre": [{"population": s}], "post": [{"population": t}],
                          "receptor_type": "excitatory" if exc else "inhibitory",
                          "connector": {"type": "FixedTotalNumberConnector", "n": k, "with_replacement": True},
                          "synapse": {"type": "StaticSynapse", "parameters": {
                              "weight": wdist,
                              "delay": {"distribution": "normal_clipped",
                                        "parameters": {"mu": d, "sigma": d * 0.5, "low": 0.1, "high": big}}}}})
    recs = [{"selection": [{"population": i} for i in range(8)], "variables": ["spikes"]}]
    return {"format": "nmp-network", "version": 1,
            "annotations": {"description": f"Potjans and Diesmann (2014) microcircuit at scale {scale}, DC background"},
            "simulation": {"timestep": 0.1, "seed": seed},
            "populations": pops, "projections": projs, "recordings": recs,
            "schedule": [{"run": duration}]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=1000.0, help="simulated ms")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--transient", type=float, default=200.0, help="ms left out of the rates")
    ap.add_argument("--nmp", default=os.environ.get("NMP_BINARY", "nmp"))
    ap.add_argument("--write", help="only write the description to this file")
    args = ap.parse_args()

    d = description(args.scale, args.duration, args.seed)
    if args.write:
        with open(args.write, "w") as f:
            json.dump(d, f, indent=1)
        return
    with tempfile.TemporaryDirectory() as tmp:
        net, res = os.path.join(tmp, "microcircuit.json"), os.path.join(tmp, "r.npz")
        with open(net, "w") as f:
            json.dump(d, f)
        t0 = time.perf_counter()
        subprocess.run([args.nmp, "simulate", "-quiet", "-threads", str(args.threads), "-o", res, net], check=True)
        wall = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        r = np.load(res)
        meta = json.loads(r["results.json"])
        seg = meta["segments"][0]
        rates = {}
        for sp in seg["spikes"]:
            t = r[sp["times"]]
            n = meta["populations"][sp["population"]]["size"]
            span = (sum(seg["runs_ms"]) - args.transient) / 1000
            rates[sp["population"]] = np.count_nonzero(t >= args.transient) / n / span
    prov = meta["provenance"]
    syn, neurons = prov["synapses"], prov["neurons"]
    run_s, sim_s = prov["timings_s"]["run"], prov["simulated_ms"] / 1000
    print(f"microcircuit scale {args.scale}: {neurons} neurons, {syn} synapses, {args.threads} threads, "
          f"{args.duration:g} ms simulated")
    print(f"  build {prov['timings_s']['build']:.1f} s, run {run_s:.1f} s: real-time factor {run_s / sim_s:.2f}; "
          f"whole process {wall:.1f} s")
    print(f"  peak memory of the process {rss / 2**30:.2f} GiB: {rss / syn:.1f} bytes per synapse, all included")
    print(f"  rates after the first {args.transient:g} ms, Hz (reference: Potjans and Diesmann 2014 with Poisson input)")
    for i, name in enumerate(POPS):
        print(f"  {name:>6} {rates.get(i, float('nan')):8.3f} {REF_RATES[i]:8.3f}")


if __name__ == "__main__":
    main()
