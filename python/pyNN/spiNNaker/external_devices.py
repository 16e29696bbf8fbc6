"""sPyNNaker's external_devices (`sim.external_devices`): live spike input
and output over the host's network, and the devices wired to a board
(PushBot, retinas, motors, SPIF). nmp's emulated machine has no live link
and no devices, so every name, called or looked into (RetinaDevice.MODE_128),
raises NotImplementedError naming itself (docs/spinnaker.md), rather than
an AttributeError that would look like a typo in the script."""


class _Refused(object):
    def __init__(self, name):
        self._name = name

    def _refuse(self):
        raise NotImplementedError("external_devices.%s: live input and output and external devices are not "
                                  "built in nmp's emulated SpiNNaker (docs/spinnaker.md)" % self._name)

    def __call__(self, *args, **kwargs):
        self._refuse()

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Refused("%s.%s" % (self._name, attr))

    def __repr__(self):
        return "<external_devices.%s: not built>" % self._name


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _Refused(name)
