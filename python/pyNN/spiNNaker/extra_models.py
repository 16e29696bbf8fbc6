"""sPyNNaker's models beyond PyNN's standard library (`sim.extra_models`).

Built: IF_curr_dual_exp, IF_curr_delta (as IFCurrDelta and IFCurDelta), Izhikevich_cond,
IF_curr_exp_ca2_adaptive,
SpikeNearestPairRule, Vogels2011Rule, PfisterSpikeTripletRule and
WeightDependenceAdditiveTriplet. Naming one of the others sPyNNaker has raises
NotImplementedError with its name rather than an AttributeError that would
look like a typo (docs/spinnaker.md lists what is built)."""

_KNOWN = ("IF_cond_exp_stoc", "IFCondExpStoc", "IF_curr_exp_sEMD", "IF_curr_exp_semd",
          "RecurrentRule", "SpikeSourcePoissonVariable", "Neuromodulation", "IF_curr_exp_izhikevich_neuromodulation",
          "IFCurrExpIzhikevichNeuromodulation", "IzhikevichNeuromodulation", "IFTruncDelta", "IF_trunc_delta",
          "WeightDependenceMultiplicative")


from .standardmodels import (IF_curr_delta, IF_curr_dual_exp, Izhikevich_cond, IF_curr_exp_ca2_adaptive, Vogels2011Rule,  # noqa: E402,F401
                             SpikeNearestPairRule, PfisterSpikeTripletRule, WeightDependenceAdditiveTriplet)
from .connectors import KernelConnector, AllButMeConnector  # noqa: E402,F401

#: sPyNNaker lists IF_curr_delta among its extra models too, under these names.
IFCurrDelta = IFCurDelta = IF_curr_delta
IFCurrDualExpBase = IF_curr_dual_exp
IFCurrExpCa2Adaptive = IF_curr_exp_ca2_adaptive
#: sPyNNaker's extra_models name of the triplet rule (its stdp_triplet.py example uses it).
PfisterSpikeTriplet = PfisterSpikeTripletRule


def __getattr__(name):
    if name in _KNOWN:
        raise NotImplementedError("extra_models.%s: not built in nmp's emulated SpiNNaker yet "
                                  "(see docs/spinnaker.md)" % name)
    raise AttributeError("module 'extra_models' has no attribute %r" % name)
