"""sPyNNaker's connectors beyond PyNN's: KernelConnector, AllButMeConnector."""

import numpy as np
from pyNN.connectors import Connector, FromListConnector, IndexBasedExpression
from pyNN.random import RandomDistribution

_H, _W = 0, 1


def _pair(value, default):
    if value is None:
        return default, default
    return int(value[_H]), int(value[_W])


class KernelConnector(Connector):
    """sPyNNaker's KernelConnector: the pre- and postsynaptic populations
    are 2D arrays (row-major, shape (rows, columns)); every postsynaptic
    neuron is connected to the presynaptic neurons under a kernel centred on
    its position, with the kernel's weights and delays.

    A postsynaptic neuron at (r, c) sits at (post_start + r·post_step) in the
    common coordinates, which is presynaptic position
    p = ⌊(that − pre_start − 1) / pre_step⌋ + 1; a presynaptic neuron q on the
    sampling grid ((q − pre_start) divisible by pre_step) is connected when
    k = half − (p − q) falls inside the kernel, with weight_kernel[k] and
    delay_kernel[k] (half = kernel shape // 2), as sPyNNaker's
    kernel_connector.py computes it on the host. The connections are made as
    an explicit list (sPyNNaker generates them on the machine where it can;
    the result is the same list). Without a weight or delay kernel the
    synapse type's weight or delay applies. shape_common and space are
    accepted (sPyNNaker does not use them either beyond its checks)."""

    parameter_names = ("shape_pre", "shape_post", "shape_kernel")

    def __init__(self, shape_pre, shape_post, shape_kernel, weight_kernel=None, delay_kernel=None,
                 shape_common=None, pre_sample_steps_in_post=None, pre_start_coords_in_post=None,
                 post_sample_steps_in_pre=None, post_start_coords_in_pre=None, safe=True, space=None,
                 verbose=False, callback=None):
        Connector.__init__(self, safe=safe, callback=None)
        self.shape_pre = _pair(shape_pre, None)
        self.shape_post = _pair(shape_post, None)
        self.shape_kernel = _pair(shape_kernel, None)
        self.pre_step = _pair(pre_sample_steps_in_post, 1)
        self.pre_start = _pair(pre_start_coords_in_post, 0)
        self.post_step = _pair(post_sample_steps_in_pre, 1)
        self.post_start = _pair(post_start_coords_in_pre, 0)
        if min(self.shape_pre + self.shape_post + self.shape_kernel) <= 0:
            raise ValueError("KernelConnector: shapes must be positive (rows, columns)")
        if min(self.pre_step + self.post_step) <= 0:
            raise ValueError("KernelConnector: sample steps must be positive")
        self.weights = self._kernel(weight_kernel, "weight_kernel")
        self.delays = self._kernel(delay_kernel, "delay_kernel")

    def _kernel(self, values, name):
        if values is None:
            return None
        kh, kw = self.shape_kernel
        if isinstance(values, RandomDistribution):
            return np.asarray(values.next(kh * kw), dtype=float).reshape(kh, kw)
        if np.isscalar(values):
            return np.full((kh, kw), float(values))
        a = np.asarray(values, dtype=float)
        if a.shape != (kh, kw):
            raise ValueError("KernelConnector: %s has shape %s; the kernel is %s (rows, columns)"
                             % (name, a.shape, (kh, kw)))
        return a

    def connection_list(self, n_pre, n_post):
        """The connections (pre, post, kernel row, kernel column) for
        populations of n_pre and n_post neurons."""
        kh, kw = self.shape_kernel
        hh, hw = kh // 2, kw // 2
        pre_w, post_w = self.shape_pre[_W], self.shape_post[_W]
        post = np.arange(n_post)
        r, c = post // post_w, post % post_w
        # in common, then in presynaptic coordinates
        cr, cc = self.post_start[_H] + r * self.post_step[_H], self.post_start[_W] + c * self.post_step[_W]
        pr = (cr - self.pre_start[_H] - 1) // self.pre_step[_H] + 1
        pc = (cc - self.pre_start[_W] - 1) // self.pre_step[_W] + 1
        out = []
        for kr in range(kh):
            for kc in range(kw):
                qr, qc = pr - (hh - kr), pc - (hw - kc)
                q = qr * pre_w + qc
                ok = ((qr >= 0) & (qc >= 0) & (qc < pre_w) & (q < n_pre)
                      & ((qr - self.pre_start[_H]) % self.pre_step[_H] == 0)
                      & ((qc - self.pre_start[_W]) % self.pre_step[_W] == 0))
                for i in np.flatnonzero(ok):
                    out.append((int(q[i]), int(post[i]), kr, kc))
        out.sort()
        return out

    def connect(self, projection):
        conns = self.connection_list(projection.pre.size, projection.post.size)
        columns, rows = [], []
        if self.weights is not None:
            columns.append("weight")
        if self.delays is not None:
            columns.append("delay")
        for q, p, kr, kc in conns:
            row = [q, p]
            if self.weights is not None:
                row.append(self.weights[kr, kc])
            if self.delays is not None:
                row.append(self.delays[kr, kc])
            rows.append(row)
        FromListConnector(rows, column_names=columns, safe=self.safe).connect(projection)


class _NotSelf(IndexBasedExpression):
    """The index expression of AllButMeConnector: 1 where i ≠ j."""

    def __call__(self, i, j):
        return (np.asarray(i) != np.asarray(j)).astype(float)


class AllButMeConnector(Connector):
    """sPyNNaker's extra_models.AllButMeConnector (its winner-take-all
    example uses it): every presynaptic neuron i to every postsynaptic
    neuron j but j = i, with the synapse type's weight and delay. sPyNNaker
    computes it on the cores (a local-only connector); the connections are
    the same. Its per-pair `weights` array is not built: giving one raises
    NotImplementedError."""

    parameter_names = ()

    def __init__(self, weights=None, safe=True, callback=None, verbose=False, **kwargs):
        if weights is not None:
            raise NotImplementedError("AllButMeConnector(weights=...): a weight per pair is not built in nmp's "
                                      "emulated SpiNNaker; give the weight with the synapse type")
        if kwargs:
            raise TypeError("AllButMeConnector() got unexpected arguments %s" % sorted(kwargs))
        Connector.__init__(self, safe=safe, callback=callback)

    def connect(self, projection):
        from pyNN.connectors import IndexBasedProbabilityConnector
        IndexBasedProbabilityConnector(_NotSelf(), allow_self_connections=True,
                                       safe=self.safe).connect(projection)
