# Spikey school, lesson 3: a synfire chain with feedforward inhibition; the
# activity travels down the chain, each link firing together.
import numpy as np
import pyNN.hardware.spikey as pynn

n_links, size = 6, 10
pynn.setup()
kick = pynn.Population(size, pynn.SpikeSourceArray, {'spike_times': [100.0]})
exc = [pynn.Population(size, pynn.IF_facets_hardware1) for _ in range(n_links)]
inh = [pynn.Population(size, pynn.IF_facets_hardware1) for _ in range(n_links)]
for p in exc + inh:
    p.record()
conn = lambda lsb, kind: pynn.AllToAllConnector(weights=lsb * (pynn.minExcWeight() if kind == 'e' else pynn.minInhWeight()))
pynn.Projection(kick, exc[0], conn(10, 'e'), target='excitatory')
pynn.Projection(kick, inh[0], conn(10, 'e'), target='excitatory')
for i in range(n_links - 1):  # an open chain
    pynn.Projection(exc[i], exc[i + 1], conn(5, 'e'), target='excitatory')
    pynn.Projection(exc[i], inh[i + 1], conn(10, 'e'), target='excitatory')
for i in range(n_links):
    pynn.Projection(inh[i], exc[i], conn(7, 'i'), target='inhibitory')
pynn.record_v(exc[0][0], '')
pynn.hardware.hwa.setIcb(0.02)
pynn.run(300.0)
first, spread = [], []
for i, p in enumerate(exc):
    s = p.getSpikes()
    print("RESULT link %d: %d spikes, first at %s ms" % (i, len(s), s[:, 1].min() if len(s) else None))
    if len(s):
        first.append(s[:, 1].min())
        spread.append(s[:, 1].std())
pynn.end()
print("RESULT propagates %s" % (len(first) == n_links and all(np.diff(first) > 0)))
print("RESULT max spread within a link %.2f ms" % max(spread))
