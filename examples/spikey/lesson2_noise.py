# Spikey school, lesson 2: fixed-pattern noise (across neurons) against
# temporal noise (across identical runs).
import numpy as np
import pyNN.hardware.spikey as pynn

runtime = 5000.0
pynn.setup(calibTauMem=False, rng_seeds=[1])
stim = pynn.Population(64, pynn.SpikeSourcePoisson, {'start': 0, 'duration': runtime, 'rate': 10.0})
neurons = pynn.Population(64, pynn.IF_facets_hardware1)
pynn.Projection(stim, neurons, pynn.FixedNumberPreConnector(16, weights=7 * pynn.minExcWeight()), target='excitatory')
neurons.record()
trials = []
for trial in range(5):
    pynn.run(runtime)
    s = neurons.getSpikes()
    trials.append(np.bincount(s[:, 0].astype(int), minlength=64) / (runtime / 1000.0))
pynn.end()
trials = np.array(trials)
across_neurons = trials.var(axis=1, ddof=1).mean()
across_trials = trials.var(axis=0, ddof=1).mean()
print("RESULT variance across neurons %.2f (1/s)^2, across trials %.2f (1/s)^2" % (across_neurons, across_trials))
print("RESULT fixed-pattern dominates %s" % (across_neurons > 3 * across_trials))
