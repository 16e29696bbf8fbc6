"""A mend of Debian's PyNN 0.10.1 spike rasters, for every PyNN 0.10 backend
built on pyNN.nmp (pyNN.spiNNaker, pynn_brainscales.brainscales2 and
pyNN.nmp itself): their recorders import this module.

pyNN.utility.plotting's Figure and Panel, given a Segment's spike trains,
call set_xlim(t_start, t_stop / ms): a time in ms next to a plain number,
which Debian's quantities (0.13) refuses to compare ("Unable to convert
between units of dimensionless and ms"), so the script stops; and the
SpikeTrainList raster plots the neurons' IDs against the spike times (x and
y swapped). The mend replaces those two functions of the module only, when
the module is imported (not before: importing a backend does not import
matplotlib).
"""

import importlib.machinery
import sys

import quantities as pq

_PLOTTING = "pyNN.utility.plotting"


def _ms(x):
    """x as a plain number of ms: a quantity of time rescaled, a
    dimensionless quantity or a number taken as it is."""
    if isinstance(x, pq.Quantity):
        if x.dimensionality.simplified != pq.dimensionless.dimensionality:
            x = x.rescale(pq.ms)
        return float(x.magnitude)
    return x


class _MsAxes(object):
    """Matplotlib axes whose set_xlim takes its bounds as quantities of time
    or as numbers of ms; everything else goes to the axes themselves."""

    def __init__(self, ax):
        self._ax = ax

    def __getattr__(self, name):
        return getattr(self._ax, name)

    def set_xlim(self, *args, **kwargs):
        args = [tuple(_ms(b) for b in a) if isinstance(a, (tuple, list)) else _ms(a) for a in args]
        kwargs = {k: _ms(v) if k in ("left", "right", "xmin", "xmax") else v
                  for k, v in kwargs.items()}
        return self._ax.set_xlim(*args, **kwargs)


def _raster(plotting):
    """PyNN 0.10's plot_spiketrainlist as it is meant to be: times (ms) on
    the x axis and the neurons' IDs on the y axis. 0.10.1 plots the IDs
    against the times and sets limits that compare ms with numbers."""
    def plot_spiketrainlist(ax, spiketrains, label='', **options):
        """Plot all spike trains in a Segment in a raster plot."""
        ax.set_xlim(_ms(spiketrains.t_start), _ms(spiketrains.t_stop))
        plotting.handle_options(ax, options)
        channel_ids, spike_times = spiketrains.multiplexed
        if isinstance(spike_times, pq.Quantity):
            spike_times = spike_times.rescale(pq.ms).magnitude
        ax.plot(spike_times, channel_ids, 'k.', **options)
        ax.set_ylabel("Neuron index")
        ids = spiketrains.all_channel_ids
        if len(ids):
            ax.set_ylim(-0.5 + min(ids), max(ids) + 0.5)
        if label:
            ax.text(0.95, 0.95, label, transform=ax.transAxes, ha='right', va='top',
                    bbox=dict(facecolor='white', alpha=1.0))
    return plot_spiketrainlist


def mend_pynn_plotting(plotting):
    """Mend the raster functions of the module `plotting` (PyNN 0.10's
    pyNN.utility.plotting): plot_spiketrains gets axes whose set_xlim takes
    neo's t_start in ms next to t_stop / ms; plot_spiketrainlist (a
    Segment's spiketrains) is replaced by _raster's. Idempotent; nothing
    else of the module changes."""
    orig = getattr(plotting, "plot_spiketrains", None)
    if orig is not None and not getattr(orig, "_nmp_mended", False):
        def plot_spiketrains(ax, *args, _orig=orig, **kwargs):
            return _orig(_MsAxes(ax), *args, **kwargs)
        plot_spiketrains.__doc__ = orig.__doc__
        plot_spiketrains._nmp_mended = True
        plotting.plot_spiketrains = plot_spiketrains
    orig = getattr(plotting, "plot_spiketrainlist", None)
    if orig is not None and not getattr(orig, "_nmp_mended", False):
        raster = _raster(plotting)
        raster._nmp_mended = True
        plotting.plot_spiketrainlist = raster


class _MendingLoader(object):
    """Runs the plotting module's own loader, then mends the module."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        mend_pynn_plotting(module)


class _PlottingFinder(object):
    """Waits for pyNN.utility.plotting to be imported, so that importing a
    backend does not import matplotlib."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _PLOTTING:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _MendingLoader(spec.loader)
        return spec


def install():
    """Mend pyNN.utility.plotting now if it is imported, else when it is."""
    if _PLOTTING in sys.modules:
        mend_pynn_plotting(sys.modules[_PLOTTING])
    elif not any(isinstance(f, _PlottingFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _PlottingFinder())


install()
