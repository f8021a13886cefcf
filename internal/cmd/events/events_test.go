package events

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEventsCommand(t *testing.T) {
	in := filepath.Join("..", "..", "devkit", "eventfiles", "testdata", "basic")
	out := t.TempDir()
	run := func(args ...string) (string, error) {
		t.Helper()
		var stderr bytes.Buffer
		err := Run(context.Background(), args, &bytes.Buffer{}, &stderr)
		return stderr.String(), err
	}

	msg, err := run("-in", in, "-out", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wrote", "one.json: 3 records (3 data, 0 control, 0 poison), 7 log events", "README.md", "7 of 7 files changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("summary lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "generated", "fill.json")); err != nil {
		t.Error(err)
	}
	if msg, err := run("-in", in, "-out", out, "-check"); err != nil || !strings.Contains(msg, "match") {
		t.Errorf("-check on fresh output: %v\n%s", err, msg)
	}
	if err := os.WriteFile(filepath.Join(out, "one.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run("-in", in, "-out", out, "-check", "-q"); err == nil || !strings.Contains(err.Error(), "one.json") {
		t.Errorf("-check on an edited file: %v", err)
	}
	if msg, err := run("-in", in, "-out", out, "-q"); err != nil || msg != "" {
		t.Errorf("-q: %v, printed %q", err, msg)
	}
	if msg, err := run("-h"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(msg, "-check") || !strings.Contains(msg, "expected.json") {
		t.Errorf("-h: %v\n%s", err, msg)
	}
	if _, err := run("-in", t.TempDir()); err == nil || !strings.Contains(err.Error(), "manifest") {
		t.Errorf("missing manifest: %v", err)
	}
	if _, err := run("extra"); err == nil {
		t.Error("stray argument accepted")
	}
}
