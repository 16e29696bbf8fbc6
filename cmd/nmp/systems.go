package main

// The systems this nmp emulates register themselves when imported.
import (
	_ "github.com/nmp-platform/nmp/system/brainscales2"
	_ "github.com/nmp-platform/nmp/system/reference"
)
