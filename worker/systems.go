package worker

import (
	"fmt"
	"sort"

	"github.com/nmp-platform/nmp/queue"
)

// System is how nmp runs the jobs of one platform of the queue.
type System struct {
	// Platform is the queue's name (nmpi's hardware_platform).
	Platform string
	// Backend replaces {system} in job commands: the PyNN backend module the
	// job's script imports, as pyNN.<Backend> (the guidebook's convention:
	// exec("import pyNN.%s as sim" % simulator_name)).
	Backend string
	// Name is the nmp system that emulates the platform ("" when none does yet).
	Name string
	// Unavailable says why nmp cannot run the platform's jobs ("" when it can).
	Unavailable string
	// ChipEnv names the environment variable that tells the emulation which
	// (virtual) chip to run on, and DefaultChip the chip a worker stands for
	// unless configured otherwise ("" for systems without chips).
	ChipEnv, DefaultChip string
}

// Systems is the table of platforms: the PyNN backend each one's {system}
// stands for, and which of them nmp emulates. docs/worker.md shows it.
var Systems = []System{
	{Platform: queue.Demo, Backend: "nmp", Name: "reference"},
	// Scripts for BrainScaleS-2 import pynn_brainscales.brainscales2 themselves;
	// {system} gives the module's last name.
	{Platform: queue.BrainScaleS2, Backend: "brainscales2", Name: "brainscales2",
		ChipEnv: "NMP_BSS2_CHIP", DefaultChip: "nmp-virtual-hx-0"},
	{Platform: queue.BrainScaleS, Backend: "hardware.hbp_pm",
		Unavailable: "nmp has no BrainScaleS (wafer-scale) emulation yet; use Demo, nmp's reference system, meanwhile"},
	{Platform: queue.BrainScaleSESS, Backend: "hardware.brainscales",
		Unavailable: "nmp has no emulation of the BrainScaleS executable system specification (ESS) yet; use Demo meanwhile"},
	{Platform: queue.Spikey, Backend: "hardware.stage1",
		Unavailable: "nmp has no Spikey emulation yet; use Demo, nmp's reference system, meanwhile"},
	{Platform: queue.SpiNNaker, Backend: "spiNNaker",
		Unavailable: "nmp has no SpiNNaker emulation yet; use Demo, nmp's reference system, meanwhile"},
	{Platform: queue.TestPlatform, Backend: "nmp",
		Unavailable: "TestPlatform is a test platform of the EBRAINS reference server; nmp runs its reference system as Demo"},
	{Platform: queue.Test, Backend: "nmp",
		Unavailable: "Test is a test platform of the EBRAINS reference server; nmp runs its reference system as Demo"},
}

// LookupSystem returns the system of a platform.
func LookupSystem(platform string) (System, error) {
	for _, s := range Systems {
		if s.Platform == platform {
			return s, nil
		}
	}
	return System{}, fmt.Errorf("platform %q: not in nmp's table of systems", platform)
}

// Emulated lists the platforms nmp can run, sorted.
func Emulated() []string {
	var out []string
	for _, s := range Systems {
		if s.Unavailable == "" {
			out = append(out, s.Platform)
		}
	}
	sort.Strings(out)
	return out
}

// Unavailable maps the platforms nmp cannot run to the reason, except those in keep
// (platforms that external runners serve, such as real hardware).
func Unavailable(keep []string) map[string]string {
	out := map[string]string{}
	for _, s := range Systems {
		if s.Unavailable != "" && !contains(keep, s.Platform) {
			out[s.Platform] = s.Unavailable
		}
	}
	return out
}

// usage converts what a job used into its platform's units. The reference
// system (Demo, in hours) charges the wall-clock time the job's command ran,
// as the EBRAINS runners charge their simulators. BrainScaleS-2 (in
// chip-hours) charges the time the job held its emulated chip: the
// wall-clock time of its command, as long as a real chip would be reserved
// for it. (The real system would charge its own, shorter,
// configuration and run time; the emulation does not report an estimate of
// it yet, see docs/worker.md.)
func (s System) usage(r *sandboxResult) (value float64, units, rule string) {
	units = queue.Units[s.Platform]
	wall := 0.0
	if r != nil {
		wall = r.WallClock / 3600
	}
	switch units {
	case "hours":
		return wall, units, "the wall-clock hours the job's command ran"
	case "chip-hours":
		return wall, units, "the hours the job held its emulated chip (the wall-clock time of its command)"
	}
	return 0, units, "no usage rule for " + units + " yet"
}
