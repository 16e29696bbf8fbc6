package worker

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Limits bound what one job may use. A zero field means no limit.
type Limits struct {
	// WallClock is how long the job's command may run.
	WallClock time.Duration `json:"wall_clock"`
	// CPUTime is the CPU time (user and system) of all the job's processes together.
	CPUTime time.Duration `json:"cpu_time"`
	// Memory is the memory of all the job's processes together, in bytes.
	Memory int64 `json:"memory"`
	// Output is the size of everything the job writes to its directory, in bytes.
	Output int64 `json:"output"`
	// Processes is how many processes and threads the job may have at once.
	Processes int `json:"processes"`
}

// DefaultLimits are the worker's limits unless configured otherwise.
var DefaultLimits = Limits{
	WallClock: time.Hour,
	CPUTime:   2 * time.Hour,
	Memory:    4 << 30,
	Output:    1 << 30,
	Processes: 512,
}

func (l Limits) String() string {
	var parts []string
	if l.WallClock > 0 {
		parts = append(parts, "wall clock "+l.WallClock.String())
	}
	if l.CPUTime > 0 {
		parts = append(parts, "CPU time "+l.CPUTime.String())
	}
	if l.Memory > 0 {
		parts = append(parts, "memory "+Bytes(l.Memory))
	}
	if l.Output > 0 {
		parts = append(parts, "output "+Bytes(l.Output))
	}
	if l.Processes > 0 {
		parts = append(parts, fmt.Sprintf("%d processes", l.Processes))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Bytes formats a byte count for people.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[i]
}

// jobLimits are the limits a job asks for in its hardware_config:
//
//	{"limits": {"wall_clock_s": 600, "cpu_time_s": 600, "memory_mib": 2048, "output_mib": 100}}
//
// A job may ask for less than the worker's limits, never more: larger values
// are lowered to the worker's, and the log says so.
type jobLimits struct {
	WallClock *float64 `json:"wall_clock_s"`
	CPUTime   *float64 `json:"cpu_time_s"`
	Memory    *float64 `json:"memory_mib"`
	Output    *float64 `json:"output_mib"`
}

// effectiveLimits combines the worker's limits with those the job's hardware
// config asks for. notes tell the job's log about lowered requests.
func effectiveLimits(worker Limits, hardwareConfig json.RawMessage) (Limits, []string, error) {
	out := worker
	if len(hardwareConfig) == 0 || string(hardwareConfig) == "null" {
		return out, nil, nil
	}
	var hc struct {
		Limits json.RawMessage `json:"limits"`
	}
	if err := json.Unmarshal(hardwareConfig, &hc); err != nil {
		return out, nil, fmt.Errorf("hardware_config: not a JSON object: %v", err)
	}
	if len(hc.Limits) == 0 || string(hc.Limits) == "null" {
		return out, nil, nil
	}
	var jl jobLimits
	dec := json.NewDecoder(strings.NewReader(string(hc.Limits)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&jl); err != nil {
		return out, nil, fmt.Errorf("hardware_config.limits: %v (known: wall_clock_s, cpu_time_s, memory_mib, output_mib)", err)
	}
	var notes []string
	check := func(name string, v *float64) (float64, bool, error) {
		if v == nil {
			return 0, false, nil
		}
		if math.IsNaN(*v) || math.IsInf(*v, 0) || *v <= 0 {
			return 0, false, fmt.Errorf("hardware_config.limits.%s: %v is not a positive number", name, *v)
		}
		return *v, true, nil
	}
	if v, ok, err := check("wall_clock_s", jl.WallClock); err != nil {
		return out, nil, err
	} else if ok {
		out.WallClock, notes = lower(out.WallClock, secs(v), "wall_clock_s", notes)
	}
	if v, ok, err := check("cpu_time_s", jl.CPUTime); err != nil {
		return out, nil, err
	} else if ok {
		out.CPUTime, notes = lower(out.CPUTime, secs(v), "cpu_time_s", notes)
	}
	if v, ok, err := check("memory_mib", jl.Memory); err != nil {
		return out, nil, err
	} else if ok {
		out.Memory, notes = lower(out.Memory, mib(v), "memory_mib", notes)
	}
	if v, ok, err := check("output_mib", jl.Output); err != nil {
		return out, nil, err
	} else if ok {
		out.Output, notes = lower(out.Output, mib(v), "output_mib", notes)
	}
	return out, notes, nil
}

func secs(v float64) time.Duration {
	if v > float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(v * float64(time.Second))
}

func mib(v float64) int64 {
	if v > float64(math.MaxInt64>>20) {
		return math.MaxInt64
	}
	return int64(v * (1 << 20))
}

// lower returns the job's value unless the worker's limit is smaller.
func lower[T int64 | time.Duration](worker, asked T, name string, notes []string) (T, []string) {
	if worker > 0 && asked > worker {
		return worker, append(notes, fmt.Sprintf("hardware_config.limits.%s asks for more than this worker allows; the worker's limit applies", name))
	}
	return asked, notes
}
