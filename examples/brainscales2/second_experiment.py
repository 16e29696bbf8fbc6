from neo.io import PickleIO
import pynn_brainscales.brainscales2 as pynn
pynn.logger.default_config(level=pynn.logger.LogLevel.INFO)
logger = pynn.logger.get("single_neuron_demo")
pynn.setup()
# Since spiking behavior requires the configuration of additional circuits
# in the neuron, the initial values for our leak-over-threshold population
# are more complex.
# The different potentials (leak, reset, threshold) have no direct
# correspondence: A configured leak potential of 300 might equal a
# configured threshold potential of value 600 in natural units on the physical
# system.
pop = pynn.Population(1, pynn.cells.HXNeuron(
# Leak potential, range: 300-1000
leak_v_leak=1000,
# Leak conductance, range: 0-1022
leak_i_bias=200,
# Threshold potential, range: 0-600
threshold_v_threshold=300,
# Reset potential, range: 300-1000
reset_v_reset=400,
# Membrane capacitance, range: 0-63
membrane_capacitance_capacitance=63,
# Refractory time, range: 0-255
refractory_period_refractory_time=120,
# Enable reset on threshold crossing
threshold_enable=True,
# Reset conductance, range: 0-1022
reset_i_bias=1022,
# Enable strengthening of reset conductance
reset_enable_multiplication=True
))
pop.record(["v", "spikes"])
pynn.run(0.2)
# Store results to disk
PickleIO(filename='second_experiment.dat').write_block(pop.get_data())
pynn.end()
