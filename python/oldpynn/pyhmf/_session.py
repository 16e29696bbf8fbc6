"""The session's work: the description of the network with marocco's knobs,
the mapping's results, the runs and their data, the ESS's pulse statistics."""

import logging
import os

import numpy as np

from nmp import data as _data
from nmp import description as _desc

_log = logging.getLogger("pylogging.marocco")
_ess = logging.getLogger("pylogging.Default")


def _description(st, duration):
    import pyhmf
    m = st.marocco
    opts = m.options()
    opts["duration_ms"] = float(duration)
    if "WAFER" in os.environ and m.default_wafer.value() == 33 and not getattr(m, "_wafer_set", False):
        opts["wafer"] = int(os.environ["WAFER"])
    rt = st.runtime
    if rt is not None and m.skip_mapping and st.mapped:
        opts["hicanns"] = rt.wafer().options()
    st.trains = []
    d = _desc.Description(timestep=st.dt, seed=st.seed, system={"name": "brainscales1", "options": opts})
    overrides = rt._spike_times if rt is not None else {}
    for pop in st.populations:
        params = {}
        for k, v in pop._params.items():
            if k == "spike_times":
                continue
            params[k] = np.asarray(v, dtype=float) if isinstance(v, (list, np.ndarray)) else float(v)
        if isinstance(pop.celltype, pyhmf.SpikeSourceArray):
            st_ = pop._params.get("spike_times", [])
            if len(st_) and np.ndim(st_[0]) > 0:
                trains = [sorted(float(t) for t in s) for s in st_]
            else:
                trains = [sorted(float(t) for t in st_)] * pop.size
            trains = [overrides.get((pop._index, i), trains[i]) for i in range(pop.size)]
            st.trains.extend([pop._index, i, t] for i, t in enumerate(trains))
            params["spike_times"] = _desc.Ragged(trains)
        d.add_population(pop.size, pop.cellclass.__name__, parameters=params, label=pop.label)
        rec = sorted(pop._record)
        if rec:
            d.add_recording([(pop._index, None)], rec)
        for kind, idx in sorted(pop._record_part.items()):
            if kind not in pop._record:
                d.add_recording([(pop._index, sorted(idx))], [kind])
    for proj in st.projections:
        proj._add_to(d)
    return d


def _map(st, duration):
    """Send the network; take the mapping's results."""
    st.start()
    d = _description(st, duration)
    reply = st.server.build(d)
    info = reply.info.get("mapping") or {}
    info["spike_input"] = st.trains
    st.info = info
    st.store = _data.Store(st.dt)
    m = st.marocco
    m.stats._set(info, None)
    if st.runtime is not None and not (m.skip_mapping and st.mapped):
        st.runtime._mapped(info)
    if not st.mapped:
        print("Populations:")
        for i, p in enumerate(st.populations):
            print("    %dth element:    0x%x          %r" % (i, id(p), p))
    st.mapped = True
    for line in info.get("clipped_parameters") or []:
        _log.warning(line)
    if info.get("weights_clipped"):
        _log.warning("%d weights exceed the wafer's range and were clipped to digital weight 15", info["weights_clipped"])
    if m.persist:
        from pymarocco.results import Marocco
        Marocco(info).save(m.persist)
    if os.environ.get("NMP_JOB_ID"):
        try:
            from . import _picture
            _picture.draw(info, st)
        except Exception as err:  # a picture must not fail the job
            _log.warning("mapping picture not drawn: %s", err)


def require_mapping(st):
    if st.server is None or st.info is None:
        raise RuntimeError("the network has not been mapped yet: call pynn.run() first")


def run(st, duration):
    from pymarocco import PyMarocco
    if st.marocco is None:
        raise RuntimeError("call pynn.setup() first")
    if not duration >= 0:
        raise ValueError("run(%r): the duration must be >= 0 ms" % (duration,))
    if not st.populations:
        return _run_empty(st, duration)
    _map(st, duration)
    if st.marocco.backend == PyMarocco.None_:
        return st.t
    st.server.action({"run": duration})
    st.store.add(st.server.data())
    st.t = duration
    st.runs += 1
    info = st.server.action({"run": 0.0}).info.get("mapping") or {}
    ps = info.get("pulse_statistics") or {}
    st.info["pulse_statistics"] = ps
    if st.marocco.backend == PyMarocco.ESS:
        _pulse_report(st, ps)
    return st.t


def _run_empty(st, duration):
    """A network without populations: marocco maps nothing and the wafer
    (or the ESS) runs with nothing configured; there is no data to read."""
    from pymarocco import PyMarocco
    m = st.marocco
    st.info = {}
    st.store = _data.Store(st.dt)
    m.stats._set({}, None)
    st.mapped = True
    if m.persist:
        from pymarocco.results import Marocco
        Marocco({}).save(m.persist)
    if m.backend != PyMarocco.None_:
        st.t = duration
        st.runs += 1
    return st.t


def _pulse_report(st, ps):
    def line(what, lost, sent):
        pct = 100.0 * lost / sent if sent else 0.0
        _ess.info("%s : %d/%d (%g %%)", what, lost, sent, float("%.6g" % pct))
    _ess.info("****")
    _ess.info("LostEventLogger::summary")
    line("Layer 2 events dropped before sim", ps.get("l2_down_dropped_before_sim", 0), ps.get("l2_down_before_sim", 0))
    line("Layer 2 events lost", ps.get("l2_down_lost", 0) + ps.get("l2_up_lost", 0),
         ps.get("l2_down_sent", 0) + ps.get("l2_up_sent", 0))
    line("Layer 2 events lost downwards", ps.get("l2_down_lost", 0), ps.get("l2_down_sent", 0))
    line("Layer 2 events lost upwards", ps.get("l2_up_lost", 0), ps.get("l2_up_sent", 0))
    line("Layer 1 events lost", ps.get("l1_neuron_lost", 0), ps.get("l1_neuron_sent", 0))
    _ess.info("****")
    fname = st.marocco.ess_config.pulse_statistics_file
    if fname:
        keys = ["l2_down_before_sim", "l2_down_dropped_before_sim", "l2_down_sent", "l2_down_lost",
                "l2_up_sent", "l2_up_lost", "l1_neuron_sent", "l1_neuron_lost"]
        with open(fname, "w") as f:
            f.write("pulse_statistics = {\n")
            for k in keys:
                f.write("    '%s': %d,\n" % (k, int(ps.get(k, 0))))
            f.write("}\n")
