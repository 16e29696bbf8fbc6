//go:build race

package main

// raceEnabled: the end-to-end tests build nmp with the race detector too.
const raceEnabled = true
