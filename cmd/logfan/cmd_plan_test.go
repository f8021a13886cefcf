package main

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// TestPlanExitCodes: a usage error of logfan plan exits 2, a failure of
// the work 1.
func TestPlanExitCodes(t *testing.T) {
	err := commands["plan"].run(context.Background(), []string{"-daily", "1TB", "-share", "kafka=1"}, &bytes.Buffer{}, &bytes.Buffer{})
	if code := exitCode(err); err == nil || code != 2 {
		t.Errorf("bad -share: %v, exit %d; want exit 2", err, code)
	}
	if code := exitCode(os.ErrNotExist); code != 1 {
		t.Errorf("a failure exits %d, want 1", code)
	}
}
