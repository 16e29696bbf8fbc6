"""Runs PyNN 0.10.1's examples (examples/ in PyNN's source) on pyNN.nmp, each
as its README says, with "nmp" as the simulator argument, in a directory of its
own, with matplotlib's Agg backend. Exit status 1 if any fails.

    /usr/bin/python3 python/tests/examples.py PYNN_SOURCE_DIR [NAME ...]

PyNN ships 31 example scripts; 25 run here. The other six need NEURON, MPI,
the nineml package or the csa package, none of which Debian 12 has for PyNN;
each is left out for the reason in SKIPPED.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"

# The examples and their arguments after the simulator's name.
EXAMPLES = {
    "HH_cond_exp2.py": [], "Izhikevich.py": [], "StepCurrentSource.py": [],
    "VAbenchmarks.py CUBA": ["CUBA"], "VAbenchmarks.py COBA": ["COBA"],
    "brunel.py": [], "cell_type_demonstration.py": [], "connections.py": [], "current_injection.py": [],
    "gif_neuron.py": [], "inhomogeneous_network.py": [], "multiquantal_synapses.py": [],
    "parameter_changes.py": [], "random_numbers.py": [], "simpleRandomNetwork.py": [], "simple_STDP.py": [],
    "small_network.py": [], "specific_network.py": [], "stdp_network.py": [],
    "stochastic_deterministic_comparison.py": [], "stochastic_synapses.py": [], "stochastic_tsodyksmarkram.py": [],
    "synaptic_input.py": [], "tsodyksmarkram.py": [], "update_spike_source_array.py": [], "varying_poisson.py": [],
}

SKIPPED = {
    "distrib_example.py": "needs MPI (mpi4py), which nmp does not use",
    "nineml_brunel.py": "imports pyNN.neuron and the nineml package; takes no simulator argument",
    "nineml_neuron.py": "needs the nineml package and a backend's NineML code generation (sim.nineml, which only pyNN.neuron and pyNN.nest have)",
    "nrn_artificial_cell.py": "NEURON's own artificial cells",
    "random_distributions.py": "a plot of pyNN.random's distributions, with NEURON's generator when NEURON imports; takes no simulator argument",
    "simpleRandomNetwork_csa.py": "needs the csa package, which Debian does not have",
}


def main():
    src = sys.argv[1]
    only = set(sys.argv[2:])
    examples = os.path.join(src, "examples")
    present = {f for f in os.listdir(examples) if f.endswith(".py")}
    listed = {name.split()[0] for name in EXAMPLES} | set(SKIPPED)
    if present != listed:
        print("the examples of %s are not the ones this runner knows: %s" % (examples, sorted(present ^ listed)))
        return 1
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.path.dirname(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    failed = []
    for name, args in EXAMPLES.items():
        if only and name.split()[0] not in only:
            continue
        script = name.split()[0]
        with tempfile.TemporaryDirectory(prefix="nmp-example-") as d:
            for entry in os.listdir(examples):  # the examples read each other's helpers and data
                s = os.path.join(examples, entry)
                (shutil.copytree if os.path.isdir(s) else shutil.copy)(s, os.path.join(d, entry))
            start = time.time()
            try:
                p = subprocess.run([PYTHON, script, "nmp"] + args, cwd=d, env=env, capture_output=True, text=True, timeout=600)
                ok, out = p.returncode == 0, p.stdout + p.stderr
            except subprocess.TimeoutExpired as e:
                ok, out = False, "timed out after 600 s\n" + str(e.stdout or "")
            print("%-42s %s %5.1f s" % (name, "ok  " if ok else "FAIL", time.time() - start), flush=True)
            if not ok:
                failed.append(name)
                print("    " + out[-3000:].replace("\n", "\n    "))
    for name, why in SKIPPED.items():
        print("%-42s skipped: %s" % (name, why))
    if failed:
        print("%d examples failed: %s" % (len(failed), ", ".join(failed)))
        return 1
    print("all %d runs of PyNN's examples passed on pyNN.nmp" % len([n for n in EXAMPLES if not only or n.split()[0] in only]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
