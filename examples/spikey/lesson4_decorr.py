# Spikey school, lesson 4: a sparse inhibitory recurrent network driven by
# v_rest above threshold; rates and CVs of the inter-spike intervals.
import numpy as np
import pyNN.hardware.spikey as pynn

runtime = 5000.0
for K in (5, 15, 30):
    pynn.setup(rng_seeds=[4])
    neurons = pynn.Population(192, pynn.IF_facets_hardware1, {'v_rest': -40.0})
    pynn.Projection(neurons, neurons, pynn.FixedNumberPreConnector(K, weights=7 * pynn.minInhWeight()), target='inhibitory')
    neurons.record()
    pynn.run(runtime)
    s = neurons.getSpikes()
    pynn.end()
    rates, cvs = [], []
    for i in range(192):
        t = np.sort(s[s[:, 0] == i, 1])
        rates.append(len(t) / runtime * 1000.0)
        if len(t) > 3:
            isi = np.diff(t)
            cvs.append(isi.std() / isi.mean())
    print("RESULT K %d: rate %.1f 1/s (%.1f to %.1f), mean CV %.2f" % (K, np.mean(rates), min(rates), max(rates), np.mean(cvs)))
