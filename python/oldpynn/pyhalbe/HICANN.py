"""pyhalbe.HICANN: a HICANN's configuration types the scripts name."""


class _Param(object):
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "shared_parameter." + self.name


class shared_parameter(object):
    """The shared floating-gate parameters of a block (halbe's names)."""


for _n in ("V_reset", "int_op_bias", "V_dllres", "V_bout", "V_dtc", "V_thigh", "V_gmax0", "V_gmax1", "V_gmax2",
           "V_gmax3", "V_m", "V_clra", "V_clrc", "V_bexp", "V_br", "V_bstdf", "V_ccas", "V_dep", "V_fac",
           "V_stdf", "V_thlow", "V_tlow", "V_bias_out"):
    setattr(shared_parameter, _n, _Param(_n))


class SynapseWeight(object):
    """A synapse's 4-bit digital weight, 0..15."""
    __slots__ = ("value_",)

    def __init__(self, w):
        if int(w) != w or not 0 <= w <= 15:
            raise OverflowError("SynapseWeight(%r): a synapse weight is 0..15" % (w,))
        self.value_ = int(w)

    def value(self):
        return self.value_

    def __int__(self):
        return self.value_

    def __repr__(self):
        return "SynapseWeight(%d)" % self.value_
