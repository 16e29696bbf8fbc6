# Spikey school, lesson 6: STDP; the number N of pre-post pairs needed for
# a weight update grows with the time between pre- and postsynaptic spike,
# and 1/N over that time traces the STDP window.
import numpy as np
import pyNN.hardware.spikey as pynn

def weight_after(dt, pairs):
    stim = np.arange(100.0, 100.0 + 100.0 * pairs, 100.0)
    pynn.setup(mappingOffset=4)
    neuron = pynn.Population(1, pynn.IF_facets_hardware1)
    drive = pynn.Population(3, pynn.SpikeSourceArray, {'spike_times': stim})
    plastic = pynn.Population(1, pynn.SpikeSourceArray, {'spike_times': stim + 3.4 - dt})
    pynn.Projection(drive, neuron, method=pynn.AllToAllConnector(weights=8 * pynn.minExcWeight()), target='excitatory')
    stdp = pynn.STDPMechanism(timing_dependence=pynn.SpikePairRule(), weight_dependence=pynn.AdditiveWeightDependence())
    prj = pynn.Projection(plastic, neuron, method=pynn.AllToAllConnector(weights=0.0), target='excitatory',
                          synapse_dynamics=pynn.SynapseDynamics(slow=stdp))
    neuron.record()
    runtime = stim[-1] + 100.0
    pynn.hardware.hwa.autoSTDPFrequency = runtime  # one evaluation, at the end
    pynn.run(runtime)
    w = prj.getWeightsHW(readHW=True, format='list')[0] / pynn.minExcWeight()
    n_post = len(neuron.getSpikes())
    pynn.end()
    return w, n_post

for dt in (0.5, 1.0, 2.0, 4.0):
    for n in range(1, 41):
        w, n_post = weight_after(dt, n)
        if w > 0:
            break
    print("RESULT dt %.1f ms: N = %d, 1/N = %.3f (%d postsynaptic spikes for %d pairs)" % (dt, n, 1.0 / n, n_post, n))
