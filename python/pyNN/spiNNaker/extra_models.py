"""sPyNNaker's models beyond PyNN's standard library (`sim.extra_models`).

None of them is built in nmp's SpiNNaker yet (docs/spinnaker.md lists what
is); naming one raises NotImplementedError with its name rather than an
AttributeError that would look like a typo."""

_KNOWN = ("IFCurrDualExpBase", "IF_curr_dual_exp", "Izhikevich_cond",
          "IF_curr_exp_ca2_adaptive", "IF_cond_exp_stoc", "IF_curr_exp_sEMD", "IF_curr_exp_semd",
          "SpikeNearestPairRule", "PfisterSpikeTripletRule", "Vogels2011Rule", "WeightDependenceAdditiveTriplet",
          "RecurrentRule", "KernelConnector", "SpikeSourcePoissonVariable")


from .standardmodels import IF_curr_delta  # noqa: E402  (sPyNNaker lists it among its extra models too)

IFCurrDelta = IFCurDelta = IF_curr_delta


def __getattr__(name):
    if name in _KNOWN:
        raise NotImplementedError("extra_models.%s: not built in nmp's emulated SpiNNaker yet "
                                  "(see docs/spinnaker.md)" % name)
    raise AttributeError("module 'extra_models' has no attribute %r" % name)
