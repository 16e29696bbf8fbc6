"""The simulation state of pyNN.spiNNaker: pyNN.nmp's State, subclassed,
naming the emulated SpiNNaker machine (the Go system `spinnaker`) with the
options of setup(), spynnaker.cfg and the populations' partitioning
settings. docs/spinnaker.md describes the machine.

pyNN.spiNNaker's classes name this module as their `_simulator`, so they
use this module's `state`, never pyNN.nmp's: a script may import both.
"""

import configparser
import os

from pyNN.nmp import simulator as _nmp_simulator
from pyNN.nmp.simulator import ID  # noqa: F401  (PyNN finds a backend's ID class here)

name = "SpiNNaker"

#: The Go system the descriptions name.
SYSTEM = "spinnaker"

#: SEED_ENV, when set, is the seed of the Poisson sources of setup()s that
#: give none (as on the machine, every run differs otherwise).
SEED_ENV = "NMP_SPINNAKER_SEED"

#: The configuration files sPyNNaker reads, in order (later ones win).
CONFIG_FILES = ("~/.spynnaker.cfg", "spynnaker.cfg")


def read_config(paths=CONFIG_FILES):
    """spynnaker.cfg's settings that nmp's machine takes: [Machine]
    virtual_board, version, time_scale_factor, and [Simulation]
    spikes_per_second, ring_buffer_sigma, as system options."""
    cfg = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    cfg.read([os.path.expanduser(p) for p in paths])
    out = {}

    def get(section, key, conv):
        if not cfg.has_option(section, key):
            return None
        raw = cfg.get(section, key).strip()
        if raw in ("", "None", "none"):
            return None
        try:
            return conv(raw)
        except ValueError:
            raise ValueError("spynnaker.cfg: [%s] %s = %r is not valid" % (section, key, raw)) from None

    def boolean(raw):
        return raw.lower() in ("true", "1", "yes", "on")

    if get("Machine", "virtual_board", boolean):
        out["virtual_board"] = True
    v = get("Machine", "version", int)
    if v is not None:
        out["version"] = v
    tsf = get("Machine", "time_scale_factor", float)
    if tsf is not None:
        out["time_scale_factor"] = tsf
    for key in ("spikes_per_second", "ring_buffer_sigma"):
        x = get("Simulation", key, float)
        if x is not None:
            out[key] = x
    return out


def random_seed():
    fixed = os.environ.get(SEED_ENV)
    if fixed:
        try:
            return int(fixed) % (2 ** 63)
        except ValueError:
            raise ValueError("%s=%r is not an integer seed" % (SEED_ENV, fixed)) from None
    return int.from_bytes(os.urandom(8), "little") % (2 ** 63)


#: The job's run reports (set by nmp worker): in a job, the placement
#: picture goes into the job's outputs.
REPORT_ENV = "NMP_JOB_REPORT"


def _draw_placement(state):
    if not state.mapping:
        return
    try:
        from .placement import plot_placement
        plot_placement(state.mapping)
    except Exception as err:  # the job's results stand without the picture
        print("pyNN.spiNNaker: no placement picture: %s" % err)


class State(_nmp_simulator.State):
    """pyNN.nmp's state on the emulated SpiNNaker machine."""

    system_name = SYSTEM

    def __init__(self):
        #: The system options of setup() and spynnaker.cfg.
        self.options = {}
        #: set_number_of_neurons_per_core: cell type name -> neurons.
        self.atoms_per_type = {}
        #: set_number_of_synapse_cores: accepted, no effect (docs/spinnaker.md).
        self.synapse_cores_per_type = {}
        #: set_allow_delay_extensions: accepted, no effect (docs/spinnaker.md).
        self.delay_extensions_per_type = {}
        _nmp_simulator.State.__init__(self)

    @property
    def virtual(self):
        return bool(self.options.get("virtual_board"))

    def system_options(self):
        out = dict(self.options)
        if self.atoms_per_type:
            out["max_atoms_per_core"] = dict(self.atoms_per_type)
        pops = {}
        for p in self.populations:
            o = p._spinnaker_options()
            if o:
                pops[str(p._index)] = o
        if pops:
            out["populations"] = pops
        return out

    def setup(self, timestep, min_delay, options, seed, threads=None):
        _nmp_simulator.State.setup(self, timestep, min_delay, seed=seed, threads=threads)
        self.options = options
        self.atoms_per_type = {}
        self.synapse_cores_per_type = {}
        self.delay_extensions_per_type = {}

    def clear(self):
        self.atoms_per_type = {}
        _nmp_simulator.State.clear(self)

    def ensure_built(self):
        _nmp_simulator.State.ensure_built(self)
        if os.environ.get(REPORT_ENV) and not getattr(self, "_picture_registered", False):
            import atexit
            atexit.register(_draw_placement, self)
            self._picture_registered = True

    def run(self, simtime):
        if not self.virtual:
            return _nmp_simulator.State.run(self, simtime)
        # A virtual board maps and routes the network and runs nothing: the
        # time advances, and no data are recorded.
        self.ensure_built()
        self.running = True
        self.step += int(round(simtime / self.dt))


#: The state of pyNN.spiNNaker's simulation (pyNN.nmp has its own).
state = State()
