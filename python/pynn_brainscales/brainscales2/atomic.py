"""One neuron circuit's configuration as lola's AtomicNeuron shows it:
grouped attributes (`neuron.leak.v_leak`, `neuron.threshold.enable`) over
the flat HXNeuron parameters (`leak_v_leak`, `threshold_enable`).

CalibHXNeuron populations hand these out as `actual_hwparams`: changing one
changes what the circuit runs with at the next run(), as on the hardware."""

# lola's groups of an AtomicNeuron, longest first so that a parameter name
# finds its own group ("excitatory_input_..." before a shorter prefix).
GROUPS = sorted(("leak", "reset", "threshold", "membrane_capacitance", "refractory_period",
                 "excitatory_input", "inhibitory_input", "adaptation", "exponential",
                 "constant_current", "event_routing", "multicompartment", "readout", "bayesian",
                 "plasticity_rule"), key=len, reverse=True)


def group_of(name):
    """(group, field) of a flat HXNeuron parameter name."""
    for g in GROUPS:
        if name.startswith(g + "_"):
            return g, name[len(g) + 1:]
    raise KeyError(name)


def _value(v):
    v = float(v)
    return int(v) if v.is_integer() else v


class _Group(object):
    __slots__ = ("_neuron", "_name")

    def __init__(self, neuron, name):
        object.__setattr__(self, "_neuron", neuron)
        object.__setattr__(self, "_name", name)

    def _key(self, field):
        key = "%s_%s" % (self._name, field)
        if key not in self._neuron._values:
            fields = sorted(group_of(k)[1] for k in self._neuron._values if group_of(k)[0] == self._name)
            raise AttributeError("AtomicNeuron.%s has no field %r (its fields: %s)"
                                 % (self._name, field, ", ".join(fields)))
        return key

    def __getattr__(self, field):
        if field.startswith("_"):
            raise AttributeError(field)
        return _value(self._neuron._values[self._key(field)])

    def __setattr__(self, field, value):
        self._neuron._set(self._key(field), value)

    def __dir__(self):
        return sorted(group_of(k)[1] for k in self._neuron._values if group_of(k)[0] == self._name)

    def __repr__(self):
        return "%s(%s)" % (self._name, ", ".join("%s=%r" % (f, getattr(self, f)) for f in dir(self)))


class AtomicNeuron(object):
    """A neuron circuit's configuration: `values` maps HXNeuron parameter
    names to values (by default HXNeuron's defaults, lola's); `on_change`
    is called after every change."""

    def __init__(self, values=None, on_change=None):
        if values is None:
            from .standardmodels.cells import HXNeuron
            values = HXNeuron.default_parameters
        object.__setattr__(self, "_values", {k: float(v) for k, v in dict(values).items()})
        object.__setattr__(self, "_on_change", on_change)

    def _set(self, key, value):
        from .standardmodels.cells import check_range
        v = float(value)
        check_range(key, v)
        self._values[key] = v
        if self._on_change is not None:
            self._on_change()

    def __getattr__(self, group):
        if group.startswith("_") or group not in GROUPS:
            raise AttributeError("AtomicNeuron has no group %r (its groups: %s)" % (group, ", ".join(sorted(GROUPS))))
        return _Group(self, group)

    def __setattr__(self, name, value):
        raise AttributeError("AtomicNeuron.%s: set a field of the group (e.g. neuron.leak.v_leak = 500)" % name)

    def __eq__(self, other):
        return isinstance(other, AtomicNeuron) and self._values == other._values

    __hash__ = None

    def __getitem__(self, name):
        """A parameter by its flat HXNeuron name (neuron["leak_v_leak"])."""
        return _value(self._values[name])

    def flat(self):
        """The HXNeuron parameters, a dict."""
        return dict(self._values)

    def __repr__(self):
        return "AtomicNeuron(%d parameters: leak.v_leak=%r, threshold.v_threshold=%r, ...)" % (
            len(self._values), self._values.get("leak_v_leak"), self._values.get("threshold_v_threshold"))
