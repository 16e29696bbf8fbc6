"""A compatibility fix for Debian's PyNN 0.10.1 with its neo and quantities:
pyNN.utility.plotting's spike raster calls set_xlim(t_start, t_stop / ms),
a time in ms next to a plain number, which quantities refuses to compare
("Unable to convert between units of dimensionless and ms"), so every
script that plots spike trains with Figure(Panel(...spiketrains...)) stops
there, whatever its backend. sPyNNaker's examples do; for them to run
unchanged, pyNN.spiNNaker gives those two functions axes whose set_xlim
takes both bounds as ms. Nothing else of PyNN changes."""


class _MsAxes(object):
    """Axes whose set_xlim takes quantities in ms or plain numbers."""

    def __init__(self, ax):
        self._ax = ax

    def __getattr__(self, name):
        return getattr(self._ax, name)

    def set_xlim(self, *args, **kwargs):
        def plain(x):
            if hasattr(x, "dimensionality"):
                if str(x.dimensionality) not in ("", "dimensionless"):
                    x = x.rescale("ms")
                return float(x.magnitude)
            return x
        return self._ax.set_xlim(*[plain(a) for a in args], **kwargs)


def fix_plotting():
    try:
        from pyNN.utility import plotting
    except Exception:  # no matplotlib: nothing to fix
        return
    for name in ("plot_spiketrains", "plot_spiketrainlist"):
        orig = getattr(plotting, name, None)
        if orig is None or getattr(orig, "_nmp_ms_axes", False):
            continue

        def fixed(ax, *args, _orig=orig, **kwargs):
            return _orig(_MsAxes(ax), *args, **kwargs)
        fixed._nmp_ms_axes = True
        fixed.__doc__ = orig.__doc__
        setattr(plotting, name, fixed)
