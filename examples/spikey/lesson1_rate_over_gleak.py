# Spikey school, lesson 1: the firing rate of neurons driven by Poisson
# inputs falls as their leak conductance grows. Written in Python 2, as the
# Spikey school's scripts are: the platform converts it.
import pyNN.hardware.spikey as pynn
import numpy as np

runtime = 10 * 1000.0
pynn.setup(calibTauMem=False)
stim = pynn.Population(64, pynn.SpikeSourcePoisson, {'start': 0, 'duration': runtime, 'rate': 10.0})
neurons = pynn.Population(32, pynn.IF_facets_hardware1)
pynn.Projection(stim, neurons, pynn.FixedNumberPreConnector(16, weights=7 * pynn.minExcWeight()), target='excitatory')
neurons.record()
rates = []
for gleak in [2.0, 10.0, 20.0, 40.0, 80.0]:
    neurons.set({'g_leak': gleak})
    pynn.run(runtime)
    rates.append(len(neurons.getSpikes()) / 32.0 / runtime * 1e3)
    print 'RESULT g_leak %.0f nS: %.2f spikes/s' % (gleak, rates[-1])
pynn.end()
print 'RESULT falls', all(np.diff(rates) < 0)
