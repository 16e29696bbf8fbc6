"""pyNN.hardware.hbp_pm and pyNN.hardware.brainscales: the names under
which the platform's BrainScaleS and BrainScaleS-ESS rows give the PyNN
backend to a job (the guidebook's ``exec("import pyNN.%s as sim" %
sys.argv[1])``). Both are pyhmf itself, not a copy: a script that imports
pyhmf and one of these names works on one session."""

import sys

import pyhmf

sys.modules[__name__] = pyhmf
