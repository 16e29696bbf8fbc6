"""I-f curve: unconnected IF_cond_exp neurons, neuron i driven by a constant
current (i+1)/N of the largest; the measured firing rates against the
analytic rates of a leaky integrate-and-fire neuron.

Measures: the norm of the relative rate errors (quality), and the setup,
run and closing times (performance)."""

import json

import numpy as np

from common import Clock, model, simulator, timings, write_results

sim, name = simulator()
with open("I_f_curve.json") as f:
    cfg = json.load(f)
n, tstop, imax = cfg["param"]["N"], cfg["param"]["tstop"], cfg["param"]["max_current"]
cell = cfg["IF_cond_exp"]

clock = Clock()
sim.setup(**cfg["setup"])
neurons = sim.Population(n, model(sim, "IF_cond_exp")(**cell))
currents = imax * (np.arange(n) + 1) / n
for i, amp in enumerate(currents):
    sim.DCSource(amplitude=float(amp), start=0.0, stop=tstop).inject_into(neurons[i:i + 1])
neurons.record("spikes")
t_setup = clock.lap()
sim.run(tstop)
t_run = clock.lap()
trains = neurons.get_data().segments[0].spiketrains
sim.end()
t_close = clock.lap()

# A leaky integrate-and-fire neuron driven by current I from reset reaches
# threshold after tau_m * ln((V_inf - V_reset) / (V_inf - V_thresh)).
r_m = cell["tau_m"] / cell["cm"]
v_inf = cell["v_rest"] + currents * r_m
with np.errstate(divide="ignore", invalid="ignore"):
    period = cell["tau_refrac"] + cell["tau_m"] * np.log((v_inf - cell["v_reset"]) / (v_inf - cell["v_thresh"]))
    analytic = np.where(v_inf > cell["v_thresh"], 1000.0 / period, 0.0)
measured = np.array([1000.0 / np.diff(np.asarray(st.magnitude)).mean() if len(st) > 1 else 0.0 for st in trains])
rel = np.where(analytic > 0, (measured - analytic) / np.where(analytic > 0, analytic, 1), 0.0)
print("analytic rates (Hz):", np.round(analytic, 2))
print("measured rates (Hz):", np.round(measured, 2))

results = [{"type": "quality", "name": "norm_diff_frequency", "value": float(np.linalg.norm(rel)), "measure": "norm"}]
results += timings(t_setup, t_run, t_close)
write_results("IF_cond_exp", "I_f_curve", results, {"model": cfg, "simulator": name})
