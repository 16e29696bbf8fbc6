"""Plot a BrainScaleS-2 tutorial experiment's result file, as the tutorial's
plot_membrane_dynamics() does: the membrane potential of the first neuron (in
ADC units, against wall-clock time on the chip) and its spikes.

    python3 plot_membrane_dynamics.py second_experiment.dat second_experiment.png
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from neo.io import PickleIO  # noqa: E402


def main(path, out):
    block = PickleIO(path).read_block()
    fig, ax = plt.subplots(figsize=(8, 3.5))
    spikes = 0
    for segment in block.segments:
        if len(segment.irregularlysampledsignals) != 1:
            raise SystemExit("%s: plotting is supported for populations of size 1" % path)
        v = segment.irregularlysampledsignals[0]
        if segment.spiketrains:
            for t in segment.spiketrains[0]:
                ax.axvline(float(t), color="black", lw=0.8)
                spikes += 1
        ax.plot(v.times, v.magnitude[:, 0], alpha=0.6)
    ax.set_xlabel("Wall clock time [ms]")
    ax.set_ylabel("ADC readout [a.u.]")
    ax.set_ylim(0, 1023)  # 10-bit ADC
    ax.set_title("%s: %d spikes" % (path.rsplit("/", 1)[-1], spikes))
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print("plotted %d spikes into %s" % (spikes, out))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: plot_membrane_dynamics.py RESULT.dat PLOT.png")
    main(sys.argv[1], sys.argv[2])
