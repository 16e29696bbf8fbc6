"""sPyNNaker's external_devices (`sim.external_devices`): live spike input
and output over the host's network, and the devices wired to a board
(PushBot, retinas, motors, SPIF). nmp's emulated machine has no live link
and no devices, so every name raises NotImplementedError naming itself
(docs/spinnaker.md), rather than an AttributeError that would look like a
typo in the script."""


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)

    def refuse(*args, **kwargs):
        raise NotImplementedError("external_devices.%s: live input and output and external devices are not "
                                  "built in nmp's emulated SpiNNaker (docs/spinnaker.md)" % name)
    refuse.__name__ = name
    return refuse
