"""Leak over threshold: one neuron that fires on its own.

This is the second experiment of the BrainScaleS-2 tutorial for the queue
runner ("we will let the neurons on BrainScaleS-2 spike by setting a
'leak-over-threshold' configuration"), written for any PyNN backend: the
neuron's leak (resting) potential lies above its threshold, so after every
reset the membrane relaxes back up, crosses the threshold and fires again,
without any input.

Run it through the job queue with its backend as the argument, as the
platform does with run.py {system}:

    python3 run.py nmp          # nmp's reference system (the Demo platform)

It writes the recorded membrane potential and spikes with neo's PickleIO
(leak_over_threshold.dat, as the tutorial does) and a plot of them
(leak_over_threshold.png).
"""

import importlib
import math
import sys

backend = sys.argv[1] if len(sys.argv) > 1 else "nmp"
sim = importlib.import_module("pyNN." + backend)

# Biological units (mV, ms, nF); the threshold lies 5 mV below the leak potential.
params = dict(v_rest=-50.0, v_thresh=-55.0, v_reset=-70.0, tau_m=20.0, tau_refrac=5.0, cm=0.2)
duration = 200.0  # ms

sim.setup(timestep=0.1)
pop = sim.Population(1, sim.IF_cond_exp(**params), label="leak over threshold")
pop.initialize(v=params["v_reset"])
pop.record(["v", "spikes"])
sim.run(duration)
block = pop.get_data()
sim.end()

from neo.io import PickleIO  # noqa: E402

PickleIO(filename="leak_over_threshold.dat").write_block(block)

segment = block.segments[0]
v = segment.filter(name="v")[0]
spikes = segment.spiketrains[0]

# Without input the membrane relaxes exponentially from v_reset towards
# v_rest, so the interval between spikes is known in closed form.
expected = params["tau_refrac"] + params["tau_m"] * math.log(
    (params["v_rest"] - params["v_reset"]) / (params["v_rest"] - params["v_thresh"]))
intervals = [float(b - a) for a, b in zip(spikes.magnitude[:-1], spikes.magnitude[1:])]
print("backend %s: %d spikes in %.0f ms" % (backend, len(spikes), duration))
if intervals:
    mean = sum(intervals) / len(intervals)
    print("interval between spikes: %.2f ms (analytic %.2f ms)" % (mean, expected))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(v.times, v.magnitude[:, 0], lw=1, label="membrane potential")
for t in spikes.magnitude:
    ax.axvline(t, color="tab:red", lw=0.8, alpha=0.6)
ax.axhline(params["v_thresh"], color="grey", ls="--", lw=0.8, label="threshold")
ax.axhline(params["v_rest"], color="grey", ls=":", lw=0.8, label="leak potential")
ax.set_xlabel("time [ms]")
ax.set_ylabel("membrane potential [mV]")
ax.set_title("Leak over threshold on pyNN.%s: %d spikes" % (backend, len(spikes)))
ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()
fig.savefig("leak_over_threshold.png", dpi=100)
print("wrote leak_over_threshold.dat and leak_over_threshold.png")
