"""calix.hagen: not emulated (the integration-mode calibration); only its
result dataclasses module is here, for the names calix's API refers to."""
