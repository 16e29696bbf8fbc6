// Package archtest holds the test that keeps nmp's rooms apart: which nmp
// packages each package may import, and which standard-library packages the
// simulation side may not (docs/architecture.md explains the rooms). It has
// no code of its own.
package archtest
