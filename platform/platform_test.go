package platform

import (
	"reflect"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	tab := Default()
	if err := tab.Check(); err != nil {
		t.Fatal(err)
	}
	want := []string{"BrainScaleS", "BrainScaleS-2", "BrainScaleS-ESS", "Demo", "SpiNNaker", "Spikey", "Test", "TestPlatform"}
	if got := tab.Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("names %v", got)
	}
	if got := tab.Emulated(); !reflect.DeepEqual(got, []string{"BrainScaleS", "BrainScaleS-2", "BrainScaleS-ESS", "Demo", "SpiNNaker", "Spikey"}) {
		t.Fatalf("emulated %v", got)
	}
	if p := tab.Primary(); p.Name != "Demo" || p.Example == "" {
		t.Fatalf("primary %+v", p)
	}
	// Units and reservations as the queue had them.
	for name, units := range map[string]string{"SpiNNaker": "core-hours", "BrainScaleS": "wafer-hours", "BrainScaleS-2": "chip-hours",
		"BrainScaleS-ESS": "hours", "Spikey": "hours", "TestPlatform": "bushels", "Test": "litres", "Demo": "hours", Storage: "GB"} {
		if u, ok := tab.Units(name); !ok || u != units {
			t.Errorf("%s: units %q %v", name, u, ok)
		}
		if p, ok := tab.Lookup(name); ok && p.Reservation != map[bool]float64{true: 1, false: 0.001}[name == "SpiNNaker"] {
			t.Errorf("%s: reservation %v", name, p.Reservation)
		}
	}
	if _, ok := tab.Units("Nowhere"); ok {
		t.Error("Nowhere has units")
	}
	if _, err := tab.Get("Nowhere"); err == nil || !strings.Contains(err.Error(), `"Nowhere"`) {
		t.Errorf("Get(Nowhere): %v", err)
	}
	if !tab.UnitsMatch("BrainScaleS-2", " Chip-Hour ") || tab.UnitsMatch("Demo", "chip-hours") || tab.UnitsMatch("Nowhere", "hours") {
		t.Error("UnitsMatch")
	}
	if tab.StorageName("demo.hbpneuromorphic.eu") != "Demo temporary storage" || tab.StorageName("example.com") != "" {
		t.Error("StorageName")
	}
	u := tab.Unavailable([]string{"SpiNNaker"})
	if _, ok := u["SpiNNaker"]; ok || u["Spikey"] != "" || u["Demo"] != "" || len(u) != 2 {
		t.Fatalf("unavailable %v", u)
	}
	// Default hands out copies: changing one leaves the next alone.
	tab[0].Units = "changed"
	if Default()[0].Units == "changed" {
		t.Fatal("Default shares its rows")
	}
}

func TestUsageRules(t *testing.T) {
	tab := Default()
	for _, c := range []struct {
		platform string
		used     Used
		want     float64
		rule     string
	}{
		{"Demo", Used{WallClock: 36, CPUTime: 72}, 0.01, "wall-clock hours"},
		{"BrainScaleS-2", Used{WallClock: 36}, 0.01, "emulated chip"},
		{"SpiNNaker", Used{WallClock: 3600, Cores: 10}, 10, "cores the mapping used"},
		{"SpiNNaker", Used{WallClock: 36}, 0.01, "at least one"},
		{"SpiNNaker", Used{WallClock: 360, Cores: 10, HardwareTime: 1}, 1, "cores the mapping used"},
		{"SpiNNaker", Used{WallClock: 36, Cores: -3}, 0.01, "at least one"},
	} {
		p, _ := tab.Lookup(c.platform)
		v, rule := p.Usage(c.used)
		if v != c.want || !strings.Contains(rule, c.rule) {
			t.Errorf("%s: %v %q", c.platform, v, rule)
		}
	}
}

func TestCheck(t *testing.T) {
	good := Platform{Name: "Fake", Units: "fake-hours", Backend: "nmp", System: "fake", Usage: WallClockHours}
	if err := append(Default(), good).Check(); err != nil {
		t.Fatal(err)
	}
	for msg, mod := range map[string]func(*Platform){
		"no usage rule":         func(p *Platform) { p.Usage = nil },
		"no units":              func(p *Platform) { p.Units = "" },
		"no PyNN backend":       func(p *Platform) { p.Backend = "" },
		"no system emulates it": func(p *Platform) { p.System = "" },
		"listed twice":          func(p *Platform) { p.Name = "Demo" },
		"pseudo-platform":       func(p *Platform) { p.Name = Storage },
		"no name":               func(p *Platform) { p.Name = "" },
		"chip variable":         func(p *Platform) { p.ChipEnv = "FAKE_CHIP" },
		"storage host":          func(p *Platform) { p.StorageName = "Fake storage" },
		"negative":              func(p *Platform) { p.Reservation = -1 },
		"2 primary platforms":   func(p *Platform) { p.Primary = true },
	} {
		bad := good
		mod(&bad)
		if err := append(Default(), bad).Check(); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v", msg, err)
		}
	}
	// An unavailable row needs no system.
	off := good
	off.System, off.Unavailable = "", "not yet"
	if err := append(Default(), off).Check(); err != nil {
		t.Error(err)
	}
}
