"""Runs the same PyNN networks on pyNN.spiNNaker (the emulated SpiNNaker
machine: s16.15 neurons, 16-bit weights) and on pyNN.nmp (the reference
engine, double precision), and prints what docs/spinnaker.md compares:

  - the guidebook's first example: output rate per input rate;
  - the Vogels-Abbott COBA and CUBA networks (4000 cells, 2 % connectivity,
    sPyNNaker's va_benchmark parameters): mean rate and ISI CV of the
    excitatory cells;
  - a synfire chain (10 groups of 100 IF_curr_exp cells, each driving the
    next with fixed-number connections): the time the volley reaches each
    group.

Usage: /usr/bin/python3 bench/spinnaker/compare.py [--seed N]
"""

import argparse
import importlib
import time

import numpy as np
from pyNN.random import NumpyRNG, RandomDistribution


def backend(name):
    return importlib.import_module("pyNN." + name)


def guidebook(sim, dt=1.0, seconds=10.0):
    sim.setup(timestep=dt, min_delay=1.0)
    params = dict(cm=0.25, tau_m=10.0, tau_refrac=2.0, tau_syn_E=2.5, tau_syn_I=2.5,
                  v_reset=-70.0, v_rest=-65.0, v_thresh=-55.0)
    cells = sim.Population(100, sim.IF_cond_exp(**params))
    inputs = sim.Population(100, sim.SpikeSourcePoisson(rate=0.0))
    inputs.set(rate=np.linspace(0.0, 1000.0, 100))
    sim.Projection(inputs, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1, delay=2.0))
    cells.record("spikes")
    sim.run(seconds * 1000)
    counts = cells.get_spike_counts()
    sim.end()
    return np.array([counts[k] for k in sorted(counts)]) / seconds


def va(sim, model, seed, dt=1.0, n=4000, tstop=1000.0):
    sim.setup(timestep=dt, min_delay=dt)
    if hasattr(sim, "set_number_of_neurons_per_core"):
        sim.set_number_of_neurons_per_core(sim.IF_curr_exp, 100)
        sim.set_number_of_neurons_per_core(sim.IF_cond_exp, 50)
    n_exc = n * 4 // 5
    cell = dict(tau_m=20.0, tau_syn_E=5.0, tau_syn_I=10.0, v_reset=-60.0, v_thresh=-50.0, cm=0.2,
                tau_refrac=5.0, i_offset=0.0)
    if model == "COBA":
        ct, cell["v_rest"], we, wi = sim.IF_cond_exp, -60.0, 0.004, 0.051
        cell.update(e_rev_E=0.0, e_rev_I=-80.0)
    else:
        ct, cell["v_rest"], we, wi = sim.IF_curr_exp, -49.0, 1e-3 * 0.27 * 60, 1e-3 * 4.5 * -20
    exc = sim.Population(n_exc, ct(**cell))
    inh = sim.Population(n - n_exc, ct(**cell))
    rng = NumpyRNG(seed=seed)
    u = RandomDistribution("uniform", [-60.0, -50.0], rng=rng)
    exc.initialize(v=u)
    inh.initialize(v=u)
    conn = sim.FixedProbabilityConnector(0.02, rng=rng)
    for pre, post, rec, w in ((exc, exc, "excitatory", we), (exc, inh, "excitatory", we),
                              (inh, exc, "inhibitory", wi), (inh, inh, "inhibitory", wi)):
        sim.Projection(pre, post, conn, sim.StaticSynapse(weight=w, delay=2.0), receptor_type=rec)
    # (2 ms is 20 steps at dt 0.1: beyond the row's 16, through delay extensions)
    if model == "COBA":
        ext = sim.Population(20, sim.SpikeSourcePoisson(rate=100.0, duration=50.0))
        for post in (exc, inh):
            sim.Projection(ext, post, sim.FixedProbabilityConnector(0.01, rng=rng),
                           sim.StaticSynapse(weight=0.1, delay=dt), receptor_type="excitatory")
    exc.record("spikes")
    t0 = time.time()
    sim.run(tstop)
    wall = time.time() - t0
    trains = exc.get_data().segments[0].spiketrains
    sim.end()
    rate = sum(len(st) for st in trains) / n_exc / (tstop / 1000)
    cvs = [np.std(np.diff(st.magnitude)) / np.mean(np.diff(st.magnitude)) for st in trains if len(st) > 2]
    return rate, (float(np.mean(cvs)) if cvs else float("nan")), wall


def synfire(sim, seed, dt=1.0):
    sim.setup(timestep=dt, min_delay=1.0)
    groups = [sim.Population(100, sim.IF_curr_exp(tau_refrac=5.0)) for _ in range(10)]
    stim = sim.Population(20, sim.SpikeSourceArray(spike_times=[[5.0]] * 20))
    rng = NumpyRNG(seed=seed)
    sim.Projection(stim, groups[0], sim.FixedNumberPreConnector(10, rng=rng), sim.StaticSynapse(weight=1.5, delay=1.0))
    for a, b in zip(groups, groups[1:]):
        sim.Projection(a, b, sim.FixedNumberPreConnector(20, rng=rng), sim.StaticSynapse(weight=1.0, delay=5.0))
    for g in groups:
        g.record("spikes")
    sim.run(100.0)
    out = []
    for g in groups:
        ts = np.concatenate([st.magnitude for st in g.get_data().segments[0].spiketrains] + [np.array([])])
        out.append((float(np.median(ts)) if len(ts) else float("nan"), len(ts)))
    sim.end()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    import os
    os.environ.setdefault("NMP_SPINNAKER_SEED", str(a.seed))
    sp, ref = backend("spiNNaker"), backend("nmp")
    print("seed", a.seed)
    g_sp, g_ref = guidebook(sp), guidebook(ref)
    print("guidebook example, output Hz at input 0, 100, 200, 500, 1000 Hz:")
    for name, g in (("spiNNaker", g_sp), ("nmp", g_ref)):
        print("  %-10s %s" % (name, " ".join("%6.1f" % g[i] for i in (0, 10, 20, 50, 99))))
    for model, dt in (("COBA", 1.0), ("COBA", 0.1), ("CUBA", 1.0), ("CUBA", 0.1)):
        for name, sim in (("spiNNaker", sp), ("nmp", ref)):
            rate, cv, wall = va(sim, model, a.seed, dt=dt)
            print("VA %s dt %g on %-10s rate %6.2f Hz, ISI CV %.3f (run %.2f s wall)" % (model, dt, name, rate, cv, wall))
    for name, sim in (("spiNNaker", sp), ("nmp", ref)):
        s = synfire(sim, a.seed)
        print("synfire on %-10s median spike time per group (ms, spikes): %s" % (
            name, " ".join("%.0f(%d)" % x for x in s)))


if __name__ == "__main__":
    main()
