package main

// The systems this nmp emulates register themselves when imported.
import (
	_ "github.com/nmp-platform/nmp/system/reference"
)
