"""calix.common: what all calibrations share (CADC calibration, results)."""
