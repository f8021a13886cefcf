package benchinput

import (
	"testing"

	"github.com/logfan/logfan/internal/devkit/cputime"
)

// CPUStart starts measuring the process's CPU time (see package cputime)
// and returns the function that reports it when the benchmark's loop is
// done: cpu-MB/s, the size bytes of each op per CPU second.
func CPUStart(b *testing.B, size int64) (report func()) {
	start := cputime.Process()
	return func() {
		if d := cputime.Process() - start; d > 0 && b.N > 0 {
			b.ReportMetric(float64(size)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
		}
	}
}
