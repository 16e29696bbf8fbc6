"""A picture of where the network went on the machine: every chip of the
machine as a hexagon (SpiNNaker's triangular mesh), each used core as a dot
on its chip in its population's colour, and the links the multicast routes
use, thicker where more slices' packets cross. pyNN.spiNNaker draws it into
every job's outputs (spinnaker_placement.png); plot_placement(mapping,
filename) draws it on request."""

import math
import os

FILENAME = "spinnaker_placement.png"

# Link directions: E, NE, N, W, SW, S.
_DX = (1, 1, 0, -1, -1, 0)
_DY = (0, 1, 1, 0, -1, -1)


def _pos(x, y):
    # (x+1, y+1) is a neighbour: rows lean left so that it is drawn adjacent.
    return x - 0.5 * y, y * 0.866


def plot_placement(mapping, filename=FILENAME):
    """Draw the mapping (pyNN.spiNNaker.get_machine()'s dict) into filename."""
    import matplotlib
    if not os.environ.get("DISPLAY"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import RegularPolygon

    machine = mapping.get("machine") or {}
    w, h = int(machine.get("width", 8)), int(machine.get("height", 8))
    chips = machine.get("chip_list")
    if chips is None:
        chips = [(x, y, 17) for x in range(w) for y in range(h)]
    pops = mapping.get("populations", [])
    colours = plt.get_cmap("tab20")
    cores = {}
    for k, p in enumerate(pops):
        for x, y, core, lo, hi in p.get("cores") or []:
            cores.setdefault((x, y), []).append((core, k))
    size = max(w, h)
    fig, ax = plt.subplots(figsize=(min(24, 4 + size * 0.7), min(20, 3 + size * 0.6)))
    for x, y, _ in chips:
        px, py = _pos(x, y)
        used = cores.get((x, y), [])
        ax.add_patch(RegularPolygon((px, py), numVertices=6, radius=0.56, orientation=0,
                                    facecolor="#e8e8e8" if not used else "#d0d8e8",
                                    edgecolor="white", linewidth=0.6, zorder=1))
        for core, k in used:
            a = 2 * math.pi * core / 18.0
            ax.plot(px + 0.33 * math.cos(a), py + 0.33 * math.sin(a), "o", markersize=max(1.5, 5 - size / 12),
                    color=colours(k % 20), zorder=3)
    most = max([n for _, _, _, n in mapping.get("links") or []] or [1])
    for x, y, d, n in mapping.get("links") or []:
        nx, ny = x + _DX[d], y + _DY[d]
        if not (0 <= nx < w and 0 <= ny < h):
            continue  # a wrap-around link
        (ax0, ay0), (ax1, ay1) = _pos(x, y), _pos(nx, ny)
        ax.annotate("", xy=(ax1, ay1), xytext=(ax0, ay0), zorder=2,
                    arrowprops=dict(arrowstyle="-|>", color="black", alpha=0.35,
                                    linewidth=0.5 + 2.5 * n / most, shrinkA=6, shrinkB=6))
    handles = []
    for k, p in enumerate(pops):
        n = len(p.get("cores") or [])
        label = p["label"] if p.get("delay_extension") else "%s: %d neurons" % (p["label"], p["neurons"])
        handles.append(plt.Line2D([], [], marker="o", linestyle="", color=colours(k % 20),
                                  label="%s, %d core%s" % (label, n, "" if n == 1 else "s")))
    if len(handles) > 24:
        handles = handles[:23] + [plt.Line2D([], [], linestyle="", label="and %d more" % (len(handles) - 23))]
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    r = mapping.get("routing") or {}
    ax.set_title("SpiNNaker placement: %s cores on %s chips (%s board%s of a %s×%s machine); "
                 "routing entries %s after compression (%s before), at most %s on a chip"
                 % (mapping.get("cores_used"), mapping.get("chips_used"), mapping.get("boards_used"),
                    "" if mapping.get("boards_used") == 1 else "s", w, h, r.get("entries"),
                    r.get("entries_before_compression"), r.get("most_entries_on_a_chip")), fontsize=8)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    fig.savefig(filename, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return filename
