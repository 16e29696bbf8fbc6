"""Spike-train statistics: N Poisson sources at evenly spaced rates; the
inter-spike intervals of each are tested against the exponential
distribution of its rate (Kolmogorov-Smirnov). It speaks PyNN 0.10 and, for BrainScaleS-1, the ESS
(pyhmf) and Spikey, PyNN 0.7 and 0.6.

Measures: the smallest p-value over the sources (quality), the largest
relative rate error (quality), and the timings (performance)."""

import json

import numpy as np
from scipy import stats

from common import OLD_API, Clock, model, old_setup, simulator, timings, write_results

sim, name = simulator()
with open("spike_train_statistics.json") as f:
    cfg = json.load(f)
n, rmax, tstop = cfg["param"]["N"], cfg["param"]["max_rate"], cfg["param"]["tstop"]
rates = np.linspace(rmax / n, rmax, n)

clock = Clock()
if name in OLD_API:
    # PyNN 0.6/0.7: one population per rate (parameters are dictionaries of
    # single values there), spikes as rows [neuron, time].
    old_setup(sim, name)
    pops = [sim.Population(1, sim.SpikeSourcePoisson, {"rate": float(r), "start": 0.0, "duration": float(tstop)}) for r in rates]
    for p in pops:
        p.record()
    t_setup = clock.lap()
    sim.run(tstop)
    t_run = clock.lap()
    trains = []
    for p in pops:
        s = np.asarray(p.getSpikes())
        trains.append(np.sort(s[:, 1]) if len(s) else np.array([]))
else:
    sim.setup(timestep=0.1, rng_seed=cfg["param"]["seed"]) if name == "nmp" else sim.setup()
    poisson = model(sim, "SpikeSourcePoisson")
    sources = sim.Population(n, poisson(rate=rates, start=0.0, duration=tstop))
    sources.record("spikes")
    t_setup = clock.lap()
    sim.run(tstop)
    t_run = clock.lap()
    trains = [np.asarray(st.magnitude) for st in sources.get_data().segments[0].spiketrains]
sim.end()
t_close = clock.lap()

p_values, rate_errors = [], []
for rate, st in zip(rates, trains):
    isi = np.diff(st)
    mean_isi = 1000.0 / rate
    p = stats.kstest(isi, "expon", args=(0, mean_isi)).pvalue if len(isi) > 1 else 0.0
    p_values.append(p)
    rate_errors.append(abs(len(st) / (tstop / 1000.0) - rate) / rate)
    print("rate %.0f Hz: %d spikes, mean ISI %.2f ms (expected %.2f), KS p = %.3f"
          % (rate, len(st), isi.mean() if len(isi) else float("nan"), mean_isi, p))

results = [
    {"type": "quality", "name": "kolmogorov_smirnov", "value": float(min(p_values)), "measure": "min-p-value"},
    {"type": "quality", "name": "rate_error", "value": float(max(rate_errors)), "measure": "norm"},
]
results += timings(t_setup, t_run, t_close)
write_results("SpikeSourcePoisson", "spike_train_statistics" + ("_old_pynn" if name in OLD_API else ""), results, {"model": cfg, "simulator": name})
