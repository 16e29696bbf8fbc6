// Package platform is nmp's table of platforms: for each platform of the job
// queue, everything the queue, the API, the workers and the command line need
// to know about it, in one row. A row says how the queue and the nmpi client
// spell the platform, its units, what test and preparatory access grant, how
// much quota a job holds from submission, which PyNN backend {system} stands
// for, which emulated system runs its jobs, the chip variable, how a run's
// usage is charged, whether Python 2 job scripts are converted, whether nmp
// can run it at all, and the name of its temporary storage. No other Go file
// spells a platform's name.
//
// The table is a value, Table, not a registry: Default returns the rows of
// this nmp, and the packages that read it (api, queue, worker, cmd/nmp) take a
// Table in their configuration, defaulting to Default(). A test adds a fake
// platform by appending a row to Default() and passing the result, without
// touching anything global.
//
// Adding a platform is one row, one package, one import:
//
//  1. a row in defaultRows (this file) naming the platform, its units,
//     grants, reservation, backend, system and usage rule;
//  2. a package under system/ that emulates it and calls system.Register
//     in its init with the row's System name;
//  3. a blank import of that package in cmd/nmp/systems.go.
//
// cmd/nmp's tests check that the rows and the registered systems agree
// (TestPlatformTable), and Table.Check that each row is complete.
package platform

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Storage is the pseudo-platform of temporary storage quotas: it has grants
// and quotas but takes no jobs, so it is no row of the table.
const (
	Storage      = "Storage"
	StorageUnits = "GB"
)

// Platform is one row of the table.
type Platform struct {
	// Name is the platform's name as the queue and the nmpi client spell it
	// (nmpi's hardware_platform).
	Name string
	// Units are the units of its quotas and usage, as the reference server
	// spells them.
	Units string
	// TestGrant and PreparatoryGrant are the quotas, in Units, that accepted
	// resource requests of those kinds give (0: none).
	TestGrant, PreparatoryGrant float64
	// Reservation is how much quota a job holds from submission until it
	// ends, so that concurrent submissions cannot together promise more than
	// the quota has left: an estimate of a small job, replaced by what the
	// job really used when it ends.
	Reservation float64
	// Backend replaces {system} in job commands: the PyNN backend module the
	// job's script imports, as pyNN.<Backend> (the guidebook's convention:
	// exec("import pyNN.%s as sim" % simulator_name)).
	Backend string
	// System is the name of the nmp system (system.Lookup) that emulates
	// the platform ("" when none does yet).
	System string
	// ChipEnv names the environment variable that tells the emulation which
	// (virtual) chip or board to run on, and DefaultChip the chip a worker
	// stands for unless configured otherwise ("" for systems without chips).
	ChipEnv, DefaultChip string
	// ChipConfig, when set, is the key of a job's hardware_config that names
	// the chip the job asks for (Spikey's "STATION"); it wins over the
	// worker's chip.
	ChipConfig string
	// Usage charges a run in Units.
	Usage UsageRule
	// Python2 converts job scripts that do not compile under Python 3 with
	// lib2to3 before the job's command runs (for platforms whose users'
	// scripts are Python 2, as BrainScaleS-1's and Spikey's are).
	Python2 bool
	// Unavailable says why nmp cannot run the platform's jobs ("" when it can).
	Unavailable string
	// TestOnly marks the reference server's test platforms: they take jobs
	// but are left out of statistics.
	TestOnly bool
	// Primary marks the platform jobs go to when none is named (nmp
	// submit's default), whose example the local platform shows when no
	// running platform has one. One row has it.
	Primary bool
	// Example is an example script of the platform (a path in the
	// repository), and ExampleCommand the command it runs with ("": the
	// default). The local platform's ready message shows the example of the
	// first platform in table order that runs there and has one.
	Example, ExampleCommand string
	// StorageHost and StorageName: output files at URLs of StorageHost are
	// shown as being in the repository StorageName (as the reference server
	// names its platforms' temporary storage).
	StorageHost, StorageName string
}

// Used is what one run used, for usage rules: what the worker measured,
// and what the system reported where it reports anything.
type Used struct {
	// WallClock is how long the job's command ran, in seconds.
	WallClock float64
	// CPUTime is the CPU time of all the command's processes, in seconds.
	CPUTime float64
	// HardwareTime is the time the system reports it used its hardware, in
	// seconds, and Cores the cores or chips it reports it used (0: not
	// reported). Workers fill them from the run reports a job writes; those
	// are the job's own, so the worker never charges less than the rule
	// gives for the measured figures alone (docs/worker.md).
	HardwareTime float64
	Cores        int
}

// UsageRule charges a run in its platform's units and describes, in one
// line for the job's provenance, how it did.
type UsageRule func(u Used) (value float64, rule string)

// WallClockHours charges the hours the job's command ran, as the EBRAINS
// runners charge their simulators.
func WallClockHours(u Used) (float64, string) {
	return u.WallClock / 3600, "the wall-clock hours the job's command ran"
}

// ChipHours charges the hours a job held its emulated chip: as long as a
// real chip would be reserved for it, the wall-clock time of its command.
// (The real system charges its own, shorter, configuration and run time;
// the emulation does not report an estimate of it yet.)
func ChipHours(u Used) (float64, string) {
	return u.WallClock / 3600, "the hours the job held its emulated chip (the wall-clock time of its command)"
}

// WaferHours charges BrainScaleS-1 runs in wafer-hours: the share of the
// wafer's 384 HICANNs a mapping allocated times the hardware time, when the
// run reports them (Cores: HICANNs, HardwareTime: seconds); until workers
// fill those, the whole wafer for the wall-clock time of the job's command,
// as long as a real wafer would be reserved for it.
func WaferHours(u Used) (float64, string) {
	if u.Cores > 0 && u.HardwareTime > 0 {
		return float64(u.Cores) / 384 * u.HardwareTime / 3600, "the HICANNs the mapping allocated / 384 x the hardware time"
	}
	return u.WallClock / 3600, "the hours the job held its emulated wafer (the wall-clock time of its command)"
}

// CoreHours charges SpiNNaker's core-hours: the cores the mapping used
// (Cores, from the job's run reports) times the wall-clock time of the
// job's command, as long as the machine's cores are held for it; a job
// whose runs report no cores counts as one core. The worker never charges
// less than one core for the wall clock (the reports are the job's own).
func CoreHours(u Used) (float64, string) {
	return float64(max(u.Cores, 1)) * u.WallClock / 3600, "the cores the mapping used (by the run reports, at least one) times the wall-clock hours of the job's command"
}

// ExternalUsage is the rule of platforms nmp does not run: their runners,
// outside nmp, report their own usage, and nmp charges nothing itself.
func ExternalUsage(Used) (float64, string) {
	return 0, "none: the platform's jobs run outside nmp, whose runners report their own usage"
}

// Table is a set of platform rows.
type Table []Platform

// defaultRows are the platforms of this nmp. The grants of SpiNNaker and
// BrainScaleS follow the platform guidebook (5000 SpiNNaker core-hours and
// 0.1 BrainScaleS wafer-hours for test access; 500 000 core-hours and 10
// wafer-hours for preparatory access). The guidebook names no figures for
// the other systems; ours follow the reference server's test quotas (1 unit)
// and scale them by 100 for preparatory access. The order is the order of
// granted quotas.
var defaultRows = []Platform{
	{Name: "SpiNNaker", Units: "core-hours", TestGrant: 5000, PreparatoryGrant: 500000,
		Reservation: 1, // a few cores for a few minutes
		Backend:     "spiNNaker", System: "spinnaker", Usage: CoreHours,
		StorageHost: "spinnaker.cs.man.ac.uk", StorageName: "SpiNNaker Manchester temporary storage"},
	// BrainScaleS-1 users write PyNN 0.7 scripts for Python 2 (import
	// pyhmf as pynn); WAFER chooses the (virtual) wafer as on the real
	// system, from the job's {"WAFER_MODULE": 33}, and marocco.backend in
	// the script chooses hardware or ESS.
	{Name: "BrainScaleS", Units: "wafer-hours", TestGrant: 0.1, PreparatoryGrant: 10,
		Reservation: 0.001, // 3.6 s of wafer time
		Backend:     "hardware.hbp_pm", System: "brainscales1", ChipEnv: "WAFER", DefaultChip: "33", ChipConfig: "WAFER_MODULE",
		Usage: WaferHours, Python2: true,
		StorageHost: "brainscales-r.kip.uni-heidelberg.de", StorageName: "BrainScaleS temporary storage"},
	// Scripts for BrainScaleS-2 import pynn_brainscales.brainscales2
	// themselves; {system} gives the module's last name.
	{Name: "BrainScaleS-2", Units: "chip-hours", TestGrant: 1, PreparatoryGrant: 100, Reservation: 0.001,
		Backend: "brainscales2", System: "brainscales2", ChipEnv: "NMP_BSS2_CHIP", DefaultChip: "nmp-virtual-hx-0",
		Usage: ChipHours, Example: "examples/brainscales2/second_experiment.py", ExampleCommand: "run.py"},
	{Name: "BrainScaleS-ESS", Units: "hours", TestGrant: 1, PreparatoryGrant: 100, Reservation: 0.001,
		Backend: "hardware.brainscales", System: "brainscales1", ChipEnv: "WAFER", DefaultChip: "33", ChipConfig: "WAFER_MODULE",
		Usage: WallClockHours, Python2: true},
	// Spikey's scripts are PyNN 0.6 and Python 2 (pyNN.hardware.spikey,
	// alias stage1); a job picks its chip with {"STATION": "stationNNN"}.
	{Name: "Spikey", Units: "hours", TestGrant: 1, PreparatoryGrant: 100, Reservation: 0.001,
		Backend: "hardware.stage1", System: "spikey", ChipEnv: "NMP_SPIKEY_STATION", DefaultChip: "station666",
		ChipConfig: "STATION", Usage: ChipHours, Python2: true},
	{Name: "TestPlatform", Units: "bushels", Reservation: 0.001, Backend: "nmp", Usage: ExternalUsage, TestOnly: true,
		Unavailable: "TestPlatform is a test platform of the EBRAINS reference server; nmp runs its reference system as Demo"},
	{Name: "Test", Units: "litres", Reservation: 0.001, Backend: "nmp", Usage: ExternalUsage, TestOnly: true,
		Unavailable: "Test is a test platform of the EBRAINS reference server; nmp runs its reference system as Demo"},
	{Name: "Demo", Units: "hours", TestGrant: 1, PreparatoryGrant: 100, Reservation: 0.001,
		Backend: "nmp", System: "reference", Usage: WallClockHours, Primary: true,
		Example:     "examples/leak_over_threshold/run.py",
		StorageHost: "demo.hbpneuromorphic.eu", StorageName: "Demo temporary storage"},
}

// Default returns the platforms of this nmp, a fresh copy that the caller may extend.
func Default() Table { return append(Table(nil), defaultRows...) }

// OrDefault returns t, or Default() if t is empty: the default of configuration fields.
func (t Table) OrDefault() Table {
	if len(t) == 0 {
		return Default()
	}
	return t
}

// Lookup returns the row of a platform.
func (t Table) Lookup(name string) (Platform, bool) {
	for _, p := range t {
		if p.Name == name {
			return p, true
		}
	}
	return Platform{}, false
}

// Get returns the row of a platform, or an error that says it is not in the table.
func (t Table) Get(name string) (Platform, error) {
	if p, ok := t.Lookup(name); ok {
		return p, nil
	}
	return Platform{}, fmt.Errorf("platform %q: not in nmp's table of platforms", name)
}

// Primary returns the platform jobs go to when none is named.
func (t Table) Primary() Platform {
	for _, p := range t {
		if p.Primary {
			return p
		}
	}
	return Platform{}
}

// Names lists the platforms jobs can be submitted to, sorted.
func (t Table) Names() []string {
	out := make([]string, 0, len(t))
	for _, p := range t {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// Emulated lists the platforms nmp can run, sorted.
func (t Table) Emulated() []string {
	var out []string
	for _, p := range t {
		if p.Unavailable == "" {
			out = append(out, p.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Unavailable maps the platforms nmp cannot run to the reason, except those
// in keep (platforms that external runners serve, such as real hardware).
func (t Table) Unavailable(keep []string) map[string]string {
	out := map[string]string{}
	for _, p := range t {
		if p.Unavailable != "" && !slices.Contains(keep, p.Name) {
			out[p.Name] = p.Unavailable
		}
	}
	return out
}

// Units returns the units of a platform's quotas (Storage's included), and
// whether the platform is known.
func (t Table) Units(name string) (string, bool) {
	if name == Storage {
		return StorageUnits, true
	}
	p, ok := t.Lookup(name)
	return p.Units, ok
}

// UnitsMatch tells whether units reported by a provider are the platform's
// (singular and plural spellings, any case).
func (t Table) UnitsMatch(name, units string) bool {
	want, ok := t.Units(name)
	if !ok {
		return false
	}
	norm := func(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "s") }
	return norm(units) == norm(want)
}

// StorageName names the temporary storage of the platform whose output
// files live at host ("" if no platform's do).
func (t Table) StorageName(host string) string {
	for _, p := range t {
		if p.StorageHost != "" && p.StorageHost == host {
			return p.StorageName
		}
	}
	return ""
}

// Check tells what is missing or inconsistent in the table's rows: every
// row needs a unique name, units, a backend and a usage rule; a row that
// nmp runs needs a system; a chip variable needs a default chip.
func (t Table) Check() error {
	var errs []error
	seen := map[string]bool{}
	for i, p := range t {
		what := fmt.Sprintf("platform %q (row %d)", p.Name, i)
		bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(what+": "+format, args...)) }
		switch {
		case p.Name == "":
			bad("no name")
		case p.Name == Storage:
			bad("%s is the pseudo-platform of storage quotas, not a platform", Storage)
		case seen[p.Name]:
			bad("listed twice")
		}
		seen[p.Name] = true
		if p.Units == "" {
			bad("no units")
		}
		if p.Backend == "" {
			bad("no PyNN backend for {system}")
		}
		if p.Usage == nil {
			bad("no usage rule")
		}
		if p.Unavailable == "" && p.System == "" {
			bad("available, but no system emulates it")
		}
		if (p.ChipEnv == "") != (p.DefaultChip == "") {
			bad("a chip variable needs a default chip, and a default chip a variable")
		}
		if (p.StorageHost == "") != (p.StorageName == "") {
			bad("a storage host needs a storage name, and a name a host")
		}
		if p.TestGrant < 0 || p.PreparatoryGrant < 0 || p.Reservation < 0 {
			bad("negative grant or reservation")
		}
	}
	if primaries := len(slices.DeleteFunc(slices.Clone(t), func(p Platform) bool { return !p.Primary })); primaries != 1 {
		errs = append(errs, fmt.Errorf("%d primary platforms; one row must be primary", primaries))
	}
	return errors.Join(errs...)
}
