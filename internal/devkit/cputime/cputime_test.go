//go:build unix

package cputime

import (
	"testing"
	"time"
)

// TestProcessCountsWork: spinning on the CPU advances Process by about the
// time spun, which wall time would too, but sleeping does not.
func TestProcessCountsWork(t *testing.T) {
	start := Process()
	for deadline := time.Now().Add(30 * time.Millisecond); time.Now().Before(deadline); {
	}
	if d := Process() - start; d < 10*time.Millisecond {
		t.Errorf("30ms of spinning counted %v of CPU time", d)
	}
	start = Process()
	time.Sleep(30 * time.Millisecond)
	if d := Process() - start; d > 25*time.Millisecond {
		t.Errorf("30ms of sleep counted %v of CPU time", d)
	}
}
