// Package benchmark is nmp's benchmark service, as chapter 7 of the platform
// guidebook defines it: repositories with a top-level benchmarks.json list
// models and their tasks, each task a command with a {system} placeholder;
// every (task, system) runs as a normal job of the benchmarks collab through
// the job queue, so that benchmarks exercise exactly what users run; the
// results JSON files the tasks write are harvested from the jobs' outputs,
// validated and kept as measurements with the job, the system, the nmp
// version, the repository's commit and the machine.
//
// The parts:
//
//   - ParseSuite reads and checks a benchmarks.json; Expand turns its tasks
//     into (task, platform) runs by the placeholder rules.
//   - ParseReport reads and checks a results JSON file.
//   - Service (Start/Stop) watches for triggers (a new commit of a registered
//     repository, unless its message says [skip ci] or [ci skip]; a change of
//     nmp's version or of a system's configuration; a manual run; a
//     schedule), coalesces duplicate runs, submits them and harvests their
//     results.
//   - Handler serves the benchmark API and pages (/benchmarks/...), and
//     Client is its Go client (nmp bench).
//   - Band flags regressions: a value outside the recent band of its series.
//
// docs/benchmarks.md is the user's guide.
package benchmark
