package benchinput

import (
	"syscall"
	"testing"
	"time"
)

// CPUStart starts measuring the process's CPU time (user and system, all
// threads, the collector included) and returns the function that reports
// it when the benchmark's loop is done: cpu-MB/s, the size bytes of each op
// per CPU second. On a shared machine CPU time is far steadier than wall
// time, which counts the time other processes hold the core; it is also
// what Lambda's CPU-bound duration follows.
func CPUStart(b *testing.B, size int64) (report func()) {
	start := cpuTime(b)
	return func() {
		if d := cpuTime(b) - start; d > 0 && b.N > 0 {
			b.ReportMetric(float64(size)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
		}
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
