"""The COBA benchmark network of Brette et al. (2007) (after Vogels and Abbott
2005), written once with the PyNN API and run unchanged on any backend:

    /usr/bin/python3 bench/pynn/coba.py nmp|brian2 [--seed N] [--duration MS] [--out FILE]

The parameters are those of PyNN's own VAbenchmarks example: 4000
IF_cond_exp neurons (3200 excitatory, 800 inhibitory), 2 % connectivity
(about 320 000 synapses), 4 nS and 51 nS synapses with 0.2 ms delay, membrane
potentials drawn uniformly between reset and threshold, and 20 Poisson
sources firing at 100 Hz for the first 50 ms (1 % connectivity, 0.1 uS) to
start the self-sustained activity. Writes the spikes and the timings of the
run to FILE (.npz).
"""

import argparse
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("simulator", help="PyNN backend: nmp, brian2, ...")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=float, default=1000.0, help="ms")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor (connectivity scaled to keep 80 inputs per neuron)")
    parser.add_argument("--out", help="results file (.npz)")
    args = parser.parse_args()

    sim = __import__("pyNN.%s" % args.simulator, fromlist=["setup"])
    from pyNN.random import NumpyRNG, RandomDistribution
    t_import = time.perf_counter()

    n_exc, n_inh = int(3200 * args.scale), int(800 * args.scale)
    p_conn = 0.02 / args.scale
    cell = dict(cm=0.2, tau_m=20.0, v_rest=-60.0, v_thresh=-50.0, v_reset=-60.0, tau_refrac=5.0,
                tau_syn_E=5.0, tau_syn_I=10.0, e_rev_E=0.0, e_rev_I=-80.0, i_offset=0.0)
    rng = NumpyRNG(seed=args.seed)

    sim.setup(timestep=0.1, min_delay=0.1, max_delay=1.0, rng_seed=args.seed)
    exc = sim.Population(n_exc, sim.IF_cond_exp(**cell), label="exc")
    inh = sim.Population(n_inh, sim.IF_cond_exp(**cell), label="inh")
    stim = sim.Population(20, sim.SpikeSourcePoisson(rate=100.0, duration=50.0), label="stim")
    for p in (exc, inh):
        p.initialize(v=RandomDistribution("uniform", low=-60.0, high=-50.0, rng=rng))
    conn = sim.FixedProbabilityConnector(p_conn, rng=rng)
    e_syn = sim.StaticSynapse(weight=0.004, delay=0.2)
    i_syn = sim.StaticSynapse(weight=0.051, delay=0.2)
    projections = [
        sim.Projection(exc, exc, conn, e_syn, receptor_type="excitatory"),
        sim.Projection(exc, inh, conn, e_syn, receptor_type="excitatory"),
        sim.Projection(inh, exc, conn, i_syn, receptor_type="inhibitory"),
        sim.Projection(inh, inh, conn, i_syn, receptor_type="inhibitory"),
    ]
    ext = sim.FixedProbabilityConnector(0.01, rng=rng)
    for p in (exc, inh):
        projections.append(sim.Projection(stim, p, ext, sim.StaticSynapse(weight=0.1, delay=0.2),
                                          receptor_type="excitatory"))
    exc.record("spikes")
    inh.record("spikes")
    t_build = time.perf_counter()

    sim.run(args.duration)
    t_run = time.perf_counter()

    out = {}
    for p in (exc, inh):
        trains = p.get_data("spikes").segments[0].spiketrains
        if hasattr(trains, "multiplexed"):
            # neo's SpikeTrainList gives all spikes as two arrays without
            # making one SpikeTrain object per neuron.
            ids, times = trains.multiplexed
            ids = np.asarray(ids, dtype=np.int64)
            if ids.size and ids.min() >= int(p.first_id):
                ids = ids - int(p.first_id)
            times = np.asarray(times.rescale("ms").magnitude if hasattr(times, "rescale") else times)
        else:
            times = np.concatenate([np.asarray(st.rescale("ms").magnitude) for st in trains])
            ids = np.concatenate([np.full(len(st), i) for i, st in enumerate(trains)])
        out[p.label + "_times"] = times
        out[p.label + "_ids"] = ids
        out[p.label + "_size"] = p.size
    synapses = sum(prj.size() for prj in projections)
    t_data = time.perf_counter()
    sim.end()
    t_end = time.perf_counter()
    timings = dict(import_s=t_import - T_START, build_s=t_build - t_import, run_s=t_run - t_build,
                   data_s=t_data - t_run, end_s=t_end - t_data, total_s=t_end - T_START)
    engine = getattr(getattr(sim, "simulator", None), "state", None)
    if engine is not None and hasattr(engine, "engine_time"):
        # nmp reports the time its engine spent building and running.
        timings["engine_build_s"] = engine.engine_time["build"]
        timings["engine_run_s"] = engine.engine_time["run"]
    print("%s seed %d: %d synapses; " % (args.simulator, args.seed, synapses) +
          ", ".join("%s %.2f" % kv for kv in timings.items()))
    if args.out:
        np.savez(args.out, duration=args.duration, synapses=synapses,
                 timings=np.array([timings[k] for k in sorted(timings)]),
                 timing_names=np.array(sorted(timings)), **out)


if __name__ == "__main__":
    main()
