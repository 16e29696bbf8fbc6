"""spikeyconfig.out and its picture: the chip's configuration after a run,
as the emulated chip reports it (the build reply's mapping), like the real
system's spikeyconfig.out and scvisual's view of it.

spikeyconfig.out is JSON, one object per line: first the chip (station,
calibrations, shared voltages per block and parity, STDP settings), then one
line per configured neuron (hardware index, g_leak, tau_refrac), per line
driver (block, row, source, type, drvirise/drvifall/drviout, STP, STDP row)
and per synapse block with its non-zero 4-bit weights as [row, column,
weight] triples.
"""

import json

import numpy

NEURONS_PER_BLOCK = 192
NUM_PRESYNS = 256


def write(state, path, png_path=None):
    info = state.last_info or {}
    with open(path, "w") as f:
        head = {k: info.get(k) for k in ("station", "speedup", "timestep_ms", "mapping_offset", "calibrations",
                                         "shared_voltages", "icb", "stdp", "membrane_neuron")}
        head["kind"] = "chip"
        f.write(json.dumps(head) + "\n")
        for p in info.get("populations", []):
            f.write(json.dumps({"kind": "population", **p}) + "\n")
        for n in info.get("neurons", []):
            f.write(json.dumps({"kind": "neuron", **n}) + "\n")
        for d in info.get("drivers", []):
            f.write(json.dumps({"kind": "driver", **d}) + "\n")
        syn = numpy.asarray(info.get("synapses") or numpy.zeros((0, 4)), dtype=int).reshape(-1, 4)
        for b in (0, 1):
            sel = syn[syn[:, 0] == b]
            f.write(json.dumps({"kind": "synapses", "block": b, "weights": sel[:, 1:].tolist()}) + "\n")
    if png_path:
        picture(info, png_path)


def picture(info, path):
    """Both 256 x 192 synapse arrays (weights), the drivers' types and
    strengths beside them, and the neurons' leak conductances below."""
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except Exception:  # a picture is a convenience; the configuration is in spikeyconfig.out
        return
    syn = numpy.asarray(info.get("synapses") or numpy.zeros((0, 4)), dtype=int).reshape(-1, 4)
    fig, axes = plt.subplots(2, 4, figsize=(12, 7), gridspec_kw={"width_ratios": [1, 8, 8, 1], "height_ratios": [8, 1]})
    for b in (0, 1):
        w = numpy.zeros((NUM_PRESYNS, NEURONS_PER_BLOCK))
        sel = syn[syn[:, 0] == b]
        w[sel[:, 1], sel[:, 2]] = sel[:, 3]
        ax = axes[0, 1 + b]
        ax.imshow(w, aspect="auto", cmap="Greens", vmin=0, vmax=15, origin="lower", interpolation="nearest")
        ax.set_title("block %d: synapses (4-bit weights)" % b, fontsize=9)
        ax.set_xlabel("neuron (column)")
        if b == 0:
            ax.set_ylabel("line driver (row)")
        drv = numpy.zeros(NUM_PRESYNS)
        for d in info.get("drivers", []):
            if d["block"] == b:
                drv[d["row"]] = d["drviout"] * (-1 if d["type"] == "inhibitory" else 1)
        dax = axes[0, 0 if b == 0 else 3]
        dax.imshow(drv[:, None], aspect="auto", cmap="coolwarm_r", vmin=-2.5, vmax=2.5, origin="lower", interpolation="nearest")
        dax.set_xticks([])
        dax.set_title("drivers", fontsize=8)
        gl = numpy.full(NEURONS_PER_BLOCK, numpy.nan)
        for n in info.get("neurons", []):
            if n["neuron"] // NEURONS_PER_BLOCK == b:
                gl[n["neuron"] % NEURONS_PER_BLOCK] = n["g_leak"]
        nax = axes[1, 1 + b]
        nax.imshow(gl[None, :], aspect="auto", cmap="viridis", interpolation="nearest")
        nax.set_yticks([])
        nax.set_xlabel("g_leak per neuron (nS)", fontsize=8)
    axes[1, 0].axis("off")
    axes[1, 3].axis("off")
    fig.suptitle("Spikey configuration, %s (red: excitatory drivers, blue: inhibitory)" % info.get("station", "?"))
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
