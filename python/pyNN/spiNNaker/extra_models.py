"""sPyNNaker's models beyond PyNN's standard library (`sim.extra_models`).

None of them is built in nmp's SpiNNaker yet (docs/spinnaker.md lists what
is); naming one raises NotImplementedError with its name rather than an
AttributeError that would look like a typo."""

_KNOWN = ("Izhikevich_cond",
          "IF_curr_exp_ca2_adaptive", "IF_cond_exp_stoc", "IF_curr_exp_sEMD", "IF_curr_exp_semd",
          "SpikeNearestPairRule", "PfisterSpikeTripletRule", "WeightDependenceAdditiveTriplet",
          "RecurrentRule", "KernelConnector", "SpikeSourcePoissonVariable")


from .standardmodels import IF_curr_delta, IF_curr_dual_exp, Vogels2011Rule  # noqa: E402,F401

#: sPyNNaker lists IF_curr_delta among its extra models too, under these names.
IFCurrDelta = IFCurDelta = IF_curr_delta
IFCurrDualExpBase = IF_curr_dual_exp


def __getattr__(name):
    if name in _KNOWN:
        raise NotImplementedError("extra_models.%s: not built in nmp's emulated SpiNNaker yet "
                                  "(see docs/spinnaker.md)" % name)
    raise AttributeError("module 'extra_models' has no attribute %r" % name)
