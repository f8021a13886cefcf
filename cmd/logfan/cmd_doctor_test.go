package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/logfan/logfan/internal/cmd/doctor"
)

// TestDoctorExitCodes: a usage error of the operator commands that read a
// deployment exits 2 (found before any AWS call); a failing doctor check 1.
func TestDoctorExitCodes(t *testing.T) {
	for _, c := range []struct {
		cmd  string
		args []string
	}{
		{"doctor", []string{"-probe"}},
		{"doctor", []string{"sender", "-destination", "not-an-arn"}},
		{"redrive", []string{"-sink", "kafka"}},
		{"quarantine", []string{"purge"}},
		{"senders", []string{"extra"}},
	} {
		err := commands[c.cmd].run(context.Background(), c.args, &bytes.Buffer{}, &bytes.Buffer{})
		if code := exitCode(err); code != 2 {
			t.Errorf("%s %q: %v, exit %d; want 2", c.cmd, c.args, err, code)
		}
	}
	if code := exitCode(fmt.Errorf("%w: 1 of 30", doctor.ErrFailed)); code != 1 {
		t.Errorf("a failed check exits %d, want 1", code)
	}
}
