// Package cputime measures the CPU time a benchmark uses, the one figure of
// cost that stays steady when other processes share the machine: wall time
// counts the time they hold the core, CPU time only this process's work
// (user and system, all threads, the collector included). It is also what
// Lambda's CPU-bound duration follows.
package cputime

import (
	"testing"
	"time"
)

// Process returns the CPU time (user + system) this process has used so
// far, or 0 where the platform does not say (then nothing is reported).
func Process() time.Duration { return process() }

// ReportPerOp reports cpu, the CPU time b's loop used, as cpu-ns/op. With
// -cpu 1 the process runs on one core, so it is the cost of the code even
// when other work on the machine stretches the wall clock.
func ReportPerOp(b *testing.B, cpu time.Duration) {
	if cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
