package usage

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

func newSet(out *bytes.Buffer) *flag.FlagSet {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Int("events", 1, "events")
	fs.Usage = func() { out.WriteString("usage: logfan demo\n") }
	return fs
}

// TestParse: a bad flag is a usage error printed by nobody but the entry
// point (no second copy of the message and usage from the flag package);
// -h prints the usage once and returns flag.ErrHelp.
func TestParse(t *testing.T) {
	var out bytes.Buffer
	err := Parse(newSet(&out), []string{"-nope"})
	if !Is(err) || !strings.Contains(err.Error(), "-nope") {
		t.Errorf("bad flag: %v (usage error: %v)", err, Is(err))
	}
	if out.Len() != 0 {
		t.Errorf("bad flag printed %q; the entry point prints the error", out.String())
	}
	if err := Parse(newSet(&out), []string{"-events", "x"}); !Is(err) {
		t.Errorf("bad value: %v, want a usage error", err)
	}
	out.Reset()
	if err := Parse(newSet(&out), []string{"-h"}); !errors.Is(err, flag.ErrHelp) || out.String() != "usage: logfan demo\n" {
		t.Errorf("-h: %v, printed %q", err, out.String())
	}
	fs := newSet(&out)
	if err := Parse(fs, []string{"-events", "2", "extra"}); err != nil {
		t.Fatal(err)
	}
	if err := NoArgs(fs); !Is(err) || !strings.Contains(err.Error(), `"extra"`) {
		t.Errorf("NoArgs: %v", err)
	}
}
