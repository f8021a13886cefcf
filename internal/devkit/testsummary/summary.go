package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// State is what make test's steps have counted so far, kept in a file
// between them.
type State struct {
	// Start is when make test began.
	Start time.Time `json:"start"`
	// Packages counts the packages whose tests ran (a second run of the
	// same packages, such as the race run, counts under Counts instead).
	Packages int `json:"packages"`
	// Passed, Failed and Skipped count tests, subtests included.
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// Counts holds the other steps' figures: fuzz targets, templates linted.
	Counts map[string]int `json:"counts,omitempty"`
}

// LoadState reads the state file (a missing file is an empty state).
func LoadState(path string) (*State, error) {
	s := &State{Counts: map[string]int{}}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Counts == nil {
		s.Counts = map[string]int{}
	}
	return s, nil
}

// Save writes the state file.
func (s *State) Save(path string) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// Result is the closing line CI reads: "make test: 812 passed, 0 failed".
func (s *State) Result() string {
	return fmt.Sprintf("make test: %d passed, %d failed", s.Passed, s.Failed)
}

// Totals is the line before it with every other figure.
func (s *State) Totals(now time.Time) string {
	parts := []string{plural(s.Packages, "package")}
	if n, ok := s.Counts[CountRacePackages]; ok {
		parts = append(parts, fmt.Sprintf("%d %s", n, CountRacePackages))
	}
	parts = append(parts, fmt.Sprintf("%s (%d skipped)", plural(s.Passed+s.Failed+s.Skipped, "test"), s.Skipped))
	for _, k := range []string{"fuzz targets", "templates linted"} {
		if n, ok := s.Counts[k]; ok {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range s.Counts {
			if k != "fuzz targets" && k != "templates linted" && k != CountRacePackages && !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%d %s", s.Counts[k], k))
	}
	if !s.Start.IsZero() {
		parts = append(parts, now.Sub(s.Start).Round(time.Second).String())
	}
	return "make test: " + strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// event is one line of `go test -json` (cmd/test2json), build events included.
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail
	Test       string
	Output     string
}

// Run is one `go test -json` stream read through: go test's usual output
// (not -v: a passing test prints nothing, a failing one its log, each
// package its ok or FAIL line) rendered to out, progress to progress.
type Run struct {
	// Label names the step in progress lines ("go test").
	Label string
	// Total is how many packages the stream will report (0: unknown).
	Total int

	mu       sync.Mutex
	done     int
	running  map[string]time.Time
	logs     map[string]*testLog // per package and top-level test, what it and its subtests printed
	passed   int
	failed   int
	skipped  int
	packages int
	failures []string // failed tests and packages, for the closing list
}

// Read renders the stream r to out until it ends.
func (rn *Run) Read(r io.Reader, out io.Writer, now func() time.Time) error {
	rn.mu.Lock()
	rn.running, rn.logs = map[string]time.Time{}, map[string]*testLog{}
	rn.mu.Unlock()
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not test2json: go's own messages (a module download), as they are.
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		rn.handle(w, e, now)
		if e.Action == "pass" || e.Action == "fail" || e.Action == "skip" {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return sc.Err()
}

func (rn *Run) handle(w io.Writer, e event, now func() time.Time) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	switch e.Action {
	case "build-output":
		fmt.Fprint(w, e.Output)
		return
	case "build-fail":
		rn.failures = append(rn.failures, e.ImportPath+" (build failed)")
		return
	case "start":
		rn.running[e.Package] = now()
		return
	}
	if e.Test == "" {
		switch e.Action {
		case "output":
			// -json runs the tests verbosely: go test without -v prints no PASS line.
			if e.Output != "PASS\n" {
				fmt.Fprint(w, e.Output)
			}
		case "pass", "fail", "skip":
			if e.Action != "skip" {
				rn.packages++
			}
			if e.Action == "fail" {
				rn.failures = append(rn.failures, e.Package)
				// A test still running when the package failed (a timeout,
				// a panic) has no verdict: show what it printed.
				for key, l := range rn.logs {
					if strings.HasPrefix(key, e.Package+" ") {
						l.print(w, true)
					}
				}
			}
			for key := range rn.logs {
				if strings.HasPrefix(key, e.Package+" ") {
					delete(rn.logs, key)
				}
			}
			delete(rn.running, e.Package)
			rn.done++
		}
		return
	}
	top, _, _ := strings.Cut(e.Test, "/")
	key := e.Package + " " + top
	switch e.Action {
	case "output":
		if rn.logs[key] == nil {
			rn.logs[key] = &testLog{}
		}
		rn.logs[key].add(e.Test, e.Output)
	case "pass":
		rn.passed++
	case "skip":
		rn.skipped++
	case "fail":
		rn.failed++
		rn.failures = append(rn.failures, e.Package+" "+e.Test)
	}
	if e.Test == top && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
		if e.Action == "fail" && rn.logs[key] != nil {
			rn.logs[key].print(w, false)
		}
		delete(rn.logs, key)
	}
}

// testLog is what one top-level test and its subtests printed, kept
// until its verdict: a passing test's output is not shown.
type testLog struct {
	tests []*testOutput // in the order they first printed
}

// testOutput is one (sub)test's log lines and verdict line.
type testOutput struct {
	name    string
	verdict string
	lines   []string
}

func (l *testLog) add(test, line string) {
	var t *testOutput
	for _, x := range l.tests {
		if x.name == test {
			t = x
		}
	}
	if t == nil {
		t = &testOutput{name: test}
		l.tests = append(l.tests, t)
	}
	trimmed := strings.TrimLeft(line, " ")
	switch {
	case strings.HasPrefix(trimmed, "=== "):
		// -json runs the tests verbosely; go test without -v prints no RUN/PAUSE/CONT/NAME lines.
	case strings.HasPrefix(trimmed, "--- "):
		t.verdict = trimmed
	default:
		t.lines = append(t.lines, line)
	}
}

// print writes the failed tests' output as go test without -v does: each
// verdict line before its log, subtests indented under their parent
// (-json's verbose run prints the verdict after the log). unfinished
// prints tests without a verdict too (the package timed out or panicked).
func (l *testLog) print(w io.Writer, unfinished bool) {
	tests := slices.Clone(l.tests)
	// Parents before their subtests; otherwise the order they printed in.
	slices.SortStableFunc(tests, func(a, b *testOutput) int {
		if strings.HasPrefix(b.name, a.name+"/") {
			return -1
		}
		if strings.HasPrefix(a.name, b.name+"/") {
			return 1
		}
		return 0
	})
	for _, t := range tests {
		failed := strings.HasPrefix(t.verdict, "--- FAIL")
		if !failed && !(unfinished && t.verdict == "") {
			continue
		}
		indent := strings.Repeat("    ", strings.Count(t.name, "/"))
		if t.verdict != "" {
			fmt.Fprint(w, indent+t.verdict)
		}
		for _, line := range t.lines {
			fmt.Fprint(w, indent+line)
		}
	}
}

// Progress is one line on the run so far: packages done, tests, and the
// packages still running with how long they have run.
func (rn *Run) Progress(now time.Time) string {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	done := fmt.Sprintf("%d", rn.done)
	if rn.Total > 0 {
		done = fmt.Sprintf("%d/%d", rn.done, rn.Total)
	}
	line := fmt.Sprintf("%s: %s packages done, %d tests passed, %d failed", rn.Label, done, rn.passed, rn.failed)
	if len(rn.running) > 0 {
		type pkg struct {
			name string
			d    time.Duration
		}
		var ps []pkg
		for name, at := range rn.running {
			ps = append(ps, pkg{name, now.Sub(at).Round(time.Second)})
		}
		slices.SortFunc(ps, func(a, b pkg) int { return int(b.d - a.d) })
		var names []string
		for i, p := range ps {
			if i == 3 {
				names = append(names, fmt.Sprintf("and %d more", len(ps)-3))
				break
			}
			names = append(names, fmt.Sprintf("%s %s", strings.TrimPrefix(p.name, module+"/"), p.d))
		}
		line += "; running " + strings.Join(names, ", ")
	}
	return line
}

// module is logfan's module path, left out of package names in progress lines.
const module = "github.com/logfan/logfan"

// CountRacePackages names the count of packages the race run tested again.
const CountRacePackages = "of them under -race"

// AddTo adds the run's counts to s, its packages to s.Counts[packages]
// unless packages is "", and reports whether anything failed.
func (rn *Run) AddTo(s *State, packages string) (failed bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if packages != "" {
		s.Counts[packages] += rn.packages
	} else {
		s.Packages += rn.packages
	}
	s.Passed += rn.passed
	s.Failed += rn.failed
	s.Skipped += rn.skipped
	return rn.failed > 0 || len(rn.failures) > 0
}

// Failures lists the failed tests and packages.
func (rn *Run) Failures() []string {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return slices.Clone(rn.failures)
}
