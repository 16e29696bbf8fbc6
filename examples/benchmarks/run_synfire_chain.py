"""Synfire chain: groups of conductance-based integrate-and-fire neurons,
each group connected all-to-all to the next, started by a volley of input
spikes into the first. On an ideal simulator the volley travels down the
whole chain, a few milliseconds per group; hardware limits (weight
resolution, lost synapses, dropped spikes, delays rounded) show as a chain
that stops early, slows down or spreads out.

Measures: how far the volley travelled (groups reached, quality), the mean
delay per group (quality, ms), the spread of the last volley (quality, ms),
and the timings (performance). It speaks PyNN 0.10 and, for BrainScaleS-1 and the ESS (pyhmf) and for
Spikey, PyNN 0.7 and 0.6."""

import json

import numpy as np

from common import OLD_API, Clock, model, old_setup, simulator, timings, write_results

sim, name = simulator()
with open("synfire_chain.json") as f:
    cfg = json.load(f)
groups, size = cfg["groups"], cfg["group_size"]
rng = np.random.RandomState(cfg["seed"])

clock = Clock()
volley = 10.0 + rng.normal(0.0, cfg["input_jitter_ms"], size)
first, spread = [], []


def summarise(i, times, active):
    """Records group i's volley; False when the chain has stopped."""
    if len(times) == 0 or active < size // 2:
        return False
    first.append(float(np.median(times)))
    spread.append(float(np.std(times)))
    print("group %d: %d of %d neurons fired, median %.2f ms, spread %.2f ms" % (i, active, size, first[-1], spread[-1]))
    return True


if name in OLD_API:
    # PyNN 0.6 (Spikey) and 0.7 (pyhmf: BrainScaleS-1 and the ESS): cell
    # parameters as dictionaries, spikes as (id, time) arrays. Spikey has
    # its own neuron model, IF_facets_hardware1. The same network otherwise.
    old_setup(sim, name)
    stim = sim.Population(size, sim.SpikeSourceArray, {"spike_times": [float(np.median(volley))]}, label="input")
    if name in ("hardware.stage1", "hardware.spikey"):
        chain = [sim.Population(size, sim.IF_facets_hardware1, label="group%d" % i) for i in range(groups)]
    else:
        chain = [sim.Population(size, sim.IF_cond_exp, dict(cfg["cell"]), label="group%d" % i) for i in range(groups)]
    for p in chain:
        p.record()
    conn = sim.AllToAllConnector(weights=cfg["weight_uS"], delays=cfg["delay_ms"])
    sim.Projection(stim, chain[0], conn, target="excitatory")
    for i in range(groups - 1):
        sim.Projection(chain[i], chain[i + 1], conn, target="excitatory")
    t_setup = clock.lap()
    sim.run(cfg["tstop_ms"])
    t_run = clock.lap()
    for i, p in enumerate(chain):
        s = p.getSpikes()
        if not summarise(i, s[:, 1] if len(s) else np.array([]), len(set(s[:, 0])) if len(s) else 0):
            break
else:
    sim.setup(timestep=0.1, min_delay=0.1)
    stim = sim.Population(size, model(sim, "SpikeSourceArray")(spike_times=[[max(t, 0.5)] for t in volley]), label="input")
    chain = [sim.Population(size, model(sim, "IF_cond_exp")(**cfg["cell"]), label="group%d" % i) for i in range(groups)]
    connect = sim.AllToAllConnector()
    syn = sim.StaticSynapse(weight=cfg["weight_uS"], delay=cfg["delay_ms"])
    sim.Projection(stim, chain[0], connect, syn, receptor_type="excitatory", label="input->group0")
    for i in range(groups - 1):
        sim.Projection(chain[i], chain[i + 1], connect, syn, receptor_type="excitatory", label="group%d->group%d" % (i, i + 1))
    for p in chain:
        p.initialize(v=rng.uniform(cfg["v_init"][0], cfg["v_init"][1], size))
        p.record("spikes")
    t_setup = clock.lap()
    sim.run(cfg["tstop_ms"])
    t_run = clock.lap()
    for i, p in enumerate(chain):
        trains = p.get_data().segments[0].spiketrains
        times = np.concatenate([np.asarray(st.magnitude) for st in trains]) if trains else np.array([])
        if not summarise(i, times, sum(1 for st in trains if len(st) > 0)):
            break
sim.end()
t_close = clock.lap()

reached = len(first)
per_group = float(np.mean(np.diff(first))) if reached > 1 else 0.0
results = [
    {"type": "quality", "name": "groups_reached", "value": float(reached), "measure": "count"},
    {"type": "quality", "name": "delay_per_group", "value": per_group, "units": "ms", "measure": "time"},
    {"type": "quality", "name": "last_volley_spread", "value": spread[-1] if spread else 0.0, "units": "ms", "measure": "time"},
]
results += timings(t_setup, t_run, t_close)
write_results("synfire_chain", "propagation" + ("_old_pynn" if name in OLD_API else ""), results, {"model": cfg, "simulator": name})
print("the volley reached %d of %d groups" % (reached, groups))
