"""stadls' playback programs: not emulated. nmp's chip is configured only
through the network description (PyNN, initial_config), so a hand-written
playback program has nothing to run on; building one says so."""


class PlaybackProgramBuilder(object):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("sta.PlaybackProgramBuilder: playback programs are not emulated: nmp's "
                                  "BrainScaleS-2 chip is configured through PyNN and initial_config only")
