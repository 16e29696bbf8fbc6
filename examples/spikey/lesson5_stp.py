# Spikey school, lesson 5: short-term plasticity in the line driver; with
# depression the PSPs of a regular train shrink and recover after a pause,
# with facilitation they grow.
import numpy as np
import pyNN.hardware.spikey as pynn

times = np.concatenate((np.arange(100.0, 401.0, 50.0), [700.0]))

def peaks(params):
    pynn.setup(mappingOffset=42)
    neuron = pynn.Population(1, pynn.IF_facets_hardware1)
    dummy = pynn.Population(42, pynn.SpikeSourceArray, {'spike_times': []})
    stim = pynn.Population(1, pynn.SpikeSourceArray, {'spike_times': times})
    dyn = pynn.SynapseDynamics(fast=pynn.TsodyksMarkramMechanism(**params)) if params else None
    pynn.Projection(stim, neuron, method=pynn.AllToAllConnector(weights=6 * pynn.minExcWeight()),
                    target='excitatory', synapse_dynamics=dyn)
    pynn.record_v(neuron[0], '')
    pynn.run(1000.0)
    v, t = pynn.membraneOutput, pynn.timeMembraneOutput
    pynn.end()
    out = []
    for s in times:
        i0 = np.searchsorted(t, s)
        out.append(v[i0:i0 + 300].max() - v[max(i0 - 5, 0):i0].mean())
    return np.array(out)

for name, params in [('static', None), ('depression', {'U': 0.4, 'tau_rec': 100.0}),
                     ('facilitation', {'U': 0.4, 'tau_rec': 0.0, 'tau_facil': 100.0})]:
    p = peaks(params)
    print("RESULT %s: PSPs %s mV; last of train / first %.2f; after pause / first %.2f" % (
        name, np.round(p, 1).tolist(), p[-2] / p[0], p[-1] / p[0]))
