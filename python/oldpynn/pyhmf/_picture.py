"""A picture of a mapping, among a job's outputs (like marocco's roqt):
the wafer with the denmems and buses each HICANN uses, and per projection
its realised and lost synapses (the guidebook's Figure 4.4)."""

import numpy as np

_ROWS = [(12, 23), (12, 23), (8, 27), (8, 27), (4, 31), (4, 31), (0, 35), (0, 35),
         (0, 35), (0, 35), (4, 31), (4, 31), (8, 27), (8, 27), (12, 23), (12, 23)]
_XY = [(x, y) for y, (a, b) in enumerate(_ROWS) for x in range(a, b + 1)]


def draw(info, st, prefix="mapping"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    den = np.zeros(384)
    for p in info.get("populations", []):
        pl = p.get("placement")
        if pl is None or p.get("source"):
            continue
        pl = np.asarray(pl).reshape(-1, 5)
        np.add.at(den, pl[:, 0], pl[:, 2])
    grid = np.full((16, 36), np.nan)
    for e, (x, y) in enumerate(_XY):
        grid[y, x] = den[e] / 512.0
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    im = axes[0].imshow(grid, cmap="viridis", vmin=0, vmax=1)
    axes[0].set_title("wafer %s: denmems used per HICANN" % info.get("wafer"))
    axes[0].set_xlabel("HICANNOnWafer X")
    axes[0].set_ylabel("HICANNOnWafer Y")
    fig.colorbar(im, ax=axes[0], fraction=0.025)
    bus = np.full((16, 36), np.nan)
    for e, (x, y) in enumerate(_XY):
        bus[y, x] = 0
    for e, h, v in zip(info.get("hicanns", []), info.get("hicann_hlines_used", []), info.get("hicann_vlines_used", [])):
        x, y = _XY[e]
        bus[y, x] = h + v
    im = axes[1].imshow(bus, cmap="magma")
    axes[1].set_title("L1 buses used per HICANN (horizontal + vertical)")
    fig.colorbar(im, ax=axes[1], fraction=0.025)
    fig.tight_layout()
    fig.savefig(prefix + "_wafer.png", dpi=80)
    plt.close(fig)
    projs = info.get("projections", [])
    if not projs:
        return
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.4 * len(projs)))
    names = ["%d %s" % (p["projection"], p.get("label", "")) for p in projs]
    y = np.arange(len(projs))
    left = np.zeros(len(projs))
    for key, colour, what in (("synapses_set", "black", "realised"), ("lost_l1", "tab:orange", "lost in L1 routing"),
                              ("lost_drivers", "tab:purple", "lost: no synapse driver"), ("lost_synapses", "tab:red", "lost: no synapse")):
        v = np.array([p.get(key, 0) for p in projs], dtype=float)
        ax.barh(y, v, left=left, color=colour, label=what)
        left += v
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.set_xlabel("synapses")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("realised and lost synapses per projection")
    fig.tight_layout()
    fig.savefig(prefix + "_synapses.png", dpi=80)
    plt.close(fig)
