# Spikey school, lesson 1: the shape of an EPSP (spike-triggered average of
# the membrane) follows the line driver's drvifall and drviout.
import numpy as np
import pyNN.hardware.spikey as pynn

def epsp(fall, out, target='excitatory'):
    pynn.setup(mappingOffset=42, calibSynDrivers=False)
    neuron = pynn.Population(1, pynn.IF_facets_hardware1)
    pynn.record_v(neuron[0], '')
    dummy = pynn.Population(42, pynn.SpikeSourceArray, {'spike_times': []})
    pynn.Projection(dummy, neuron, pynn.AllToAllConnector(weights=0), target=target)
    stim = pynn.Population(1, pynn.SpikeSourceArray, {'spike_times': np.arange(200.0, 4800.0, 200.0)})
    w = 7 * (pynn.minExcWeight() if target == 'excitatory' else pynn.minInhWeight())
    prj = pynn.Projection(stim, neuron, pynn.AllToAllConnector(weights=w), target=target)
    prj.setDrvifallFactors([fall])
    prj.setDrvioutFactors([out])
    pynn.run(5000.0)
    v, t = pynn.membraneOutput, pynn.timeMembraneOutput
    pynn.end()
    per = int(round(200.0 / (t[1] - t[0])))
    trials = v[:len(v) // per * per].reshape(-1, per)[1:-1]
    avg = trials.mean(axis=0)
    avg -= avg[:10].mean()
    peak = avg[np.argmax(np.abs(avg))]
    width = (np.abs(avg) > abs(peak) / 2).sum() * (t[1] - t[0])
    return peak, width

p0, w0 = epsp(1.0, 1.0)
pf, wf = epsp(0.5, 1.0)
po, _ = epsp(1.0, 0.5)
pi, _ = epsp(1.0, 1.0, 'inhibitory')
print("RESULT EPSP %.2f mV, half width %.1f ms" % (p0, w0))
print("RESULT drvifall x0.5: %.2f mV, half width %.1f ms" % (pf, wf))
print("RESULT drviout x0.5: %.2f mV" % po)
print("RESULT IPSP %.2f mV" % pi)
print("RESULT shape follows drivers %s" % (wf > w0 and po < p0 and pi < 0 < p0))
