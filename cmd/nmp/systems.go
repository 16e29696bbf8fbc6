package main

import (
	"github.com/nmp-platform/nmp/platform"

	// The systems this nmp emulates register themselves when imported.
	_ "github.com/nmp-platform/nmp/system/brainscales1"
	_ "github.com/nmp-platform/nmp/system/brainscales2"
	_ "github.com/nmp-platform/nmp/system/reference"
	_ "github.com/nmp-platform/nmp/system/spikey"
	_ "github.com/nmp-platform/nmp/system/spinnaker"
)

// platformTable is the platforms the subcommands serve, run and submit to.
var platformTable = platform.Default()
