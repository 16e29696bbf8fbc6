"""What the tasks of this repository share: the backend named on the command
line, the results file in the guidebook's format (chapter 7.1.2), timing."""

import argparse
import datetime
import importlib
import json
import os
import time


def simulator():
    """The PyNN backend named by the first argument ({system})."""
    parser = argparse.ArgumentParser()
    parser.add_argument("simulator", help="the PyNN backend: nmp, brainscales2, spiNNaker, ...")
    args = parser.parse_args()
    if args.simulator == "brainscales2":
        # BrainScaleS-2's PyNN backend is a package of its own.
        return importlib.import_module("pynn_brainscales.brainscales2"), args.simulator
    return importlib.import_module("pyNN." + args.simulator), args.simulator


#: The backends of the old PyNN APIs: BrainScaleS-1 and its ESS (pyhmf,
#: PyNN 0.7) and Spikey (PyNN 0.6). Their Populations take a cell class and
#: a parameter dictionary, their Projections a connector with the weights
#: and a target, and getSpikes() returns rows [neuron, time].
OLD_API = ("hardware.hbp_pm", "hardware.brainscales", "hardware.stage1", "hardware.spikey")


def old_setup(sim, name):
    """setup() of an old-API backend: pyhmf needs marocco (the ESS is its
    ESS backend); Spikey needs nothing."""
    if name in ("hardware.hbp_pm", "hardware.brainscales"):
        from pymarocco import PyMarocco
        marocco = PyMarocco()
        # A benchmark measures what the wafer does with the network, lost
        # synapses included (the mapping report counts them).
        marocco.continue_despite_synapse_loss = True
        if name == "hardware.brainscales":
            marocco.backend = PyMarocco.ESS
        sim.setup(marocco=marocco)
    else:
        sim.setup()


def model(sim, name):
    """A standard model of the backend: at the top of the module, as PyNN
    has them, or in its cells module, where pynn_brainscales keeps its
    sources."""
    found = getattr(sim, name, None)
    if found is None and hasattr(sim, "cells"):
        found = getattr(sim.cells, name, None)
    if found is None:
        raise SystemExit("%s has no %s: this task cannot run on it" % (sim.__name__, name))
    return found


class Clock(object):
    def __init__(self):
        self.t = time.perf_counter()

    def lap(self):
        now = time.perf_counter()
        dt, self.t = now - self.t, now
        return dt


def write_results(model, task, results, configuration):
    stamp = datetime.datetime.now().isoformat()
    directory = os.path.join("results", stamp.replace(":", "-"))
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, task + ".json")
    with open(path, "w") as f:
        json.dump({"model": model, "task": task, "timestamp": stamp,
                   "configuration": configuration, "results": results}, f, indent=2)
    print("results written to", path)


def timings(t_setup, t_run, t_close):
    return [
        {"type": "performance", "name": "setup_time", "value": t_setup, "units": "s", "measure": "time"},
        {"type": "performance", "name": "run_time", "value": t_run, "units": "s", "measure": "time"},
        {"type": "performance", "name": "closing_time", "value": t_close, "units": "s", "measure": "time"},
    ]
