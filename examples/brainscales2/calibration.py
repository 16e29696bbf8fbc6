"""The seed's calibration usage on BrainScaleS-2, in three parts:

1. networks of CalibHXNeuronCoba populations, calibrated on run() (calix),
   recording spikes and the membrane `v`;
2. the nightly calibration: pynn.setup(initial_config=pynn.helper.chip_from_nightly());
3. a calibration calix wrote to a file, read with helper.chip_from_file.

It writes calibration.dat (the first part's neo block) and prints what each
part measured. Run it as a job on BrainScaleS-2 (nmp submit
examples/brainscales2/calibration.py -platform BrainScaleS-2) or with
/usr/bin/python3."""

import numpy as np
import quantities as pq
from neo.io import PickleIO

import calix
from calix.spiking import SpikingCalibTarget
from calix.spiking.neuron import NeuronCalibTarget
import pynn_brainscales.brainscales2 as pynn
from pynn_brainscales.brainscales2.standardmodels.cells import CalibHXNeuronCoba
from pynn_brainscales.brainscales2.standardmodels.synapses import StaticSynapse

# 1. Calibrated on run(): two populations with their own targets.
pynn.setup()
excited = pynn.Population(8, CalibHXNeuronCoba(v_rest=120, v_reset=80, v_thresh=140, tau_m=8, tau_syn_E=5))
quiet = pynn.Population(4, CalibHXNeuronCoba(v_rest=110, tau_m=12))
stim = pynn.Population(4, pynn.cells.SpikeSourceArray(spike_times=[0.01, 0.012, 0.014, 0.03, 0.05]))
pynn.Projection(stim, excited, pynn.AllToAllConnector(), StaticSynapse(weight=63), receptor_type="excitatory")
pynn.Projection(stim, quiet, pynn.AllToAllConnector(), StaticSynapse(weight=30), receptor_type="inhibitory")
excited.record(["spikes"])
excited[0:1].record(["v"])
quiet.record(["spikes", "v"], device="cadc")
pynn.run(0.1)
block = excited.get_data()
spikes = sum(len(s) for s in block.segments[0].spiketrains)
v = np.asarray(block.segments[0].irregularlysampledsignals[0]).ravel()
print("calibrated on run: %d spikes of %d neurons; membrane of neuron 0 from %d to %d MADC LSB"
      % (spikes, excited.size, v.min(), v.max()))
print("calib_target leak of the populations: %s and %s"
      % (excited.celltype.calib_target["leak"][0], quiet.celltype.calib_target["leak"][0]))
rest = [float(np.asarray(s).ravel()[2:6].mean()) for s in quiet.get_data().segments[0].irregularlysampledsignals]
print("resting potential of the second population (target 110 CADC):", np.round(rest, 1))
PickleIO("calibration.dat").write_block(block)
pynn.end()

# 2. The nightly calibration.
print("nightly calibration:", pynn.helper.nightly_calib_path())
pynn.setup(initial_config=pynn.helper.chip_from_nightly())
pop = pynn.Population(4, pynn.cells.HXNeuron())
pop.record("v", device="cadc")
pynn.run(0.1)
late = [float(np.asarray(s).ravel()[20:].mean()) for s in pop.get_data().segments[0].irregularlysampledsignals]
print("nightly: resting potentials (target 80 CADC):", np.round(late, 1))
pynn.end()

# 3. A file calix wrote.
result = calix.calibrate(SpikingCalibTarget(neuron_target=NeuronCalibTarget(leak=100, tau_mem=6 * pq.us)))
result.to_file("my_calibration.pbin")
pynn.setup(initial_config=pynn.helper.chip_from_file("my_calibration.pbin"))
pop = pynn.Population(4, pynn.cells.HXNeuron())
pop.record("v", device="cadc")
pynn.run(0.1)
late = [float(np.asarray(s).ravel()[20:].mean()) for s in pop.get_data().segments[0].irregularlysampledsignals]
print("from my_calibration.pbin: resting potentials (target 100 CADC):", np.round(late, 1))
pynn.end()
