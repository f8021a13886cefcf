package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

// runCLI runs logfan with args and returns its exit status and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestEveryCommandRefusesABadFlagTheSameWay: a flag no command has is a
// usage error in every command: exit 2, the error once with one
// "logfan CMD: " prefix, and where to find the usage.
func TestEveryCommandRefusesABadFlagTheSameWay(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, name, "-no-such-flag")
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s", code, stderr)
			}
			if stdout != "" {
				t.Errorf("wrote %q to stdout", stdout)
			}
			prefix := "logfan " + name + ": "
			if !strings.HasPrefix(stderr, prefix) && name != "quarantine" {
				t.Errorf("stderr does not start with %q:\n%s", prefix, stderr)
			}
			if strings.Count(stderr, prefix) != 1 || strings.Contains(stderr, prefix+"logfan") {
				t.Errorf("the error is not printed once with one prefix:\n%s", stderr)
			}
			if !strings.Contains(stderr, "Run 'logfan help") {
				t.Errorf("no pointer to the usage:\n%s", stderr)
			}
		})
	}
}

// TestHelpIsDashH: logfan help CMD prints what logfan CMD -h prints, and both exit 0.
func TestHelpIsDashH(t *testing.T) {
	for name := range commands {
		if name == "help" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			hcode, hout, herr := runCLI(t, "help", name)
			code, out, errs := runCLI(t, name, "-h")
			if hcode != 0 || code != 0 {
				t.Errorf("exit %d (help) and %d (-h), want 0", hcode, code)
			}
			if hout+herr != out+errs || !strings.Contains(errs+out, "usage: logfan "+name) {
				t.Errorf("help %s:\n%s%s\n%s -h:\n%s%s", name, hout, herr, name, out, errs)
			}
		})
	}
	if code, out, _ := runCLI(t, "help"); code != 0 || !strings.Contains(out, "version") || !strings.Contains(out, "logfan help <command>") {
		t.Errorf("logfan help: exit %d\n%s", code, out)
	}
	if code, _, errs := runCLI(t, "help", "nope"); code != 2 || !strings.Contains(errs, `unknown command "nope"`) {
		t.Errorf("logfan help nope: exit %d\n%s", code, errs)
	}
	if code, _, errs := runCLI(t); code != 2 || !strings.Contains(errs, "usage: logfan <command>") {
		t.Errorf("logfan alone: exit %d\n%s", code, errs)
	}
}

// TestVersion: logfan version prints the module version, the commit and the Go release.
func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "logfan ") || !strings.Contains(out, "github.com/logfan/logfan") || !strings.Contains(out, "go1.") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	info := &debug.BuildInfo{GoVersion: "go1.26.11", Main: debug.Module{Path: "github.com/logfan/logfan", Version: "v0.0.0-20261208101500-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-08T10:15:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "logfan v0.0.0-20261208101500-0123456789ab+dirty\n  module  github.com/logfan/logfan\n  commit  0123456789abcdef (2026-12-08T10:15:00Z), with uncommitted changes\n  go      go1.26.11 linux/arm64\n"
	if got := versionText(info, "linux/arm64"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	info.Settings = nil
	if got := versionText(info, "linux/arm64"); !strings.Contains(got, "commit  unknown: built without VCS information") {
		t.Errorf("without VCS:\n%s", got)
	}
}

// TestNoDoubledPrefix: a configuration error reads "logfan replay:
// configuration: ...", not "logfan replay: logfan configuration: ...".
func TestNoDoubledPrefix(t *testing.T) {
	t.Setenv("LOGFAN_S3_BUCKET", "")
	t.Setenv("LOGFAN_QUARANTINE_BUCKET", "")
	code, _, errs := runCLI(t, "replay", "-event", "../../events/kinesis-data.json", "-sink", "s3")
	if code != 2 || !strings.HasPrefix(errs, "logfan replay: configuration: ") || strings.Count(errs, "logfan") != 2 {
		t.Errorf("exit %d:\n%s", code, errs)
	}
}

// TestDemoChecksFlagsFirst: a bad -sink is refused before moto, the
// resources and the events are set up (nothing on stdout, exit 2), under
// the new name and the deprecated one alike.
func TestDemoChecksFlagsFirst(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "-sink", "kafka"},
		{"demo", "-sinks", "s3,kafka"},
		{"demo", "-routes", "-sink", "stdout"},
		{"demo", "-faults", "1"},
		{"demo", "-endpoint", "localhost:5000"},
	} {
		code, out, errs := runCLI(t, args...)
		if code != 2 || out != "" {
			t.Errorf("%q: exit %d, stdout %q\n%s", args, code, out, errs)
		}
	}
	if _, _, errs := runCLI(t, "demo", "-sinks", "kafka"); !strings.Contains(errs, "-sinks is deprecated") || !strings.Contains(errs, `unknown sink "kafka"`) {
		t.Errorf("-sinks kafka:\n%s", errs)
	}
}
