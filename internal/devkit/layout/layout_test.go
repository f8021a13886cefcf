package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestCommandTestsImportNoOtherCommand: the tests of a command in
// internal/cmd import no other command but the listed exceptions (depguard
// cannot tell a command's own package from another's).
func TestCommandTestsImportNoOtherCommand(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,TestImports,XTestImports", CommandPrefix+"...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	n := 0
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		for _, v := range Violations(p) {
			t.Errorf("%s: a command's tests import no other command; share test support through internal/devkit, or add the pair to Exceptions (internal/devkit/layout) with its reason", v)
		}
	}
	if n < 10 {
		t.Fatalf("go list found %d command packages under %s, want every command", n, CommandPrefix)
	}
}

func TestViolations(t *testing.T) {
	p := Package{
		ImportPath:   CommandPrefix + "doctor",
		TestImports:  []string{CommandPrefix + "demo", "fmt"},
		XTestImports: []string{CommandPrefix + "doctor", CommandPrefix + "redrive", CommandPrefix + "redrive"},
	}
	if got, want := Violations(p), []string{"doctor tests import redrive"}; !slices.Equal(got, want) {
		t.Errorf("Violations = %q, want %q", got, want)
	}
	if got := Violations(Package{ImportPath: "github.com/logfan/logfan/internal/ops/readback", TestImports: []string{CommandPrefix + "demo"}}); got != nil {
		t.Errorf("a library's tests are depguard's (rule commands), got %q", got)
	}
}

// CommandPrefix is the import path prefix of the commands cmd/logfan dispatches to.
const CommandPrefix = "github.com/logfan/logfan/internal/cmd/"

// Exceptions are the other commands a command's tests may import, by
// command, each with its reason: end-to-end tests that need another
// command's whole run.
var Exceptions = map[string]map[string]string{
	"doctor": {
		"demo":    "doctor's end-to-end test checks the deployment a whole demo run registers on the emulator",
		"onboard": "doctor's hint names an onboard command line; its test runs that line",
	},
	"invoke": {
		"replay": "invoke's test holds each function's output under the Runtime Interface Emulator to replay's for the same event",
	},
}

// Package is one command package and what its test files import.
type Package struct {
	ImportPath   string
	TestImports  []string
	XTestImports []string
}

// Violations lists the other commands p's tests import without an exception,
// as "<command> tests import <other>".
func Violations(p Package) []string {
	self, ok := strings.CutPrefix(p.ImportPath, CommandPrefix)
	if !ok {
		return nil
	}
	self, _, _ = strings.Cut(self, "/")
	var out []string
	seen := map[string]bool{}
	for _, imp := range append(append([]string(nil), p.TestImports...), p.XTestImports...) {
		other, ok := strings.CutPrefix(imp, CommandPrefix)
		if !ok {
			continue
		}
		other, _, _ = strings.Cut(other, "/")
		if other == self || seen[other] {
			continue
		}
		seen[other] = true
		if _, ok := Exceptions[self][other]; !ok {
			out = append(out, self+" tests import "+other)
		}
	}
	return out
}
