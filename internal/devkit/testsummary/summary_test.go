package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// durations are the run-dependent parts of go test's lines.
var durations = regexp.MustCompile(`\(\d+\.\d+s\)|\t\d+\.\d+s$|\t\(cached\)$`)

func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		out = append(out, durations.ReplaceAllString(l, "(T)"))
	}
	slices.Sort(out) // packages finish in any order
	return out
}

// TestRendersLikeGoTest: go test -json through gotest prints what go test
// prints without -v (the ok and FAIL lines CI reads, a failing test's
// verdict and log, subtests indented), and counts what ran.
func TestRendersLikeGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on testdata/sample")
	}
	goTest := func(args ...string) string {
		cmd := exec.Command("go", append([]string{"test", "-count=1"}, args...)...)
		cmd.Dir = filepath.Join("testdata", "sample")
		cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
		out, _ := cmd.Output() // the sample fails on purpose
		return string(out)
	}
	plain := goTest("./...")
	stream := goTest("-json", "./...")
	state := filepath.Join(t.TempDir(), "state.json")
	var out, errb bytes.Buffer
	err := run([]string{"gotest", "-state", state}, strings.NewReader(stream), &out, &errb, time.Now)
	if err == nil {
		t.Error("a failing run succeeded")
	}
	rendered, _, _ := strings.Cut(out.String(), "\ngo test: failed:\n")
	// go test ends with a lone FAIL of its own when anything failed; -json has no such line.
	want := strings.TrimSuffix(plain, "FAIL\n")
	if got, w := lines(rendered), lines(want); !slices.Equal(got, w) {
		t.Errorf("rendered:\n%s\ngo test:\n%s", rendered, want)
	}
	for _, f := range []string{"sample/bad TestFails", "sample/bad TestSubtestFails/broken", "make test: 6 passed, 3 failed\n"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("the closing list lacks %q:\n%s", f, out.String())
		}
	}
	s, err := LoadState(state)
	if err != nil {
		t.Fatal(err)
	}
	if s.Packages != 2 || s.Passed != 6 || s.Failed != 3 || s.Skipped != 1 {
		t.Errorf("state %+v: want 2 packages, 6 passed, 3 failed, 1 skipped", s)
	}
}

// TestUnfinishedTestIsShown: a package that times out or panics leaves its
// running test without a verdict: its output is shown with the package's FAIL.
func TestUnfinishedTestIsShown(t *testing.T) {
	stream := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestHangs"}
{"Action":"output","Package":"p","Test":"TestHangs","Output":"=== RUN   TestHangs\n"}
{"Action":"output","Package":"p","Test":"TestHangs","Output":"    hang_test.go:9: waiting\n"}
{"Action":"output","Package":"p","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t1.005s\n"}
{"Action":"fail","Package":"p","Elapsed":1.005}
`
	var out bytes.Buffer
	rn := &Run{Label: "go test"}
	if err := rn.Read(strings.NewReader(stream), &out, time.Now); err != nil {
		t.Fatal(err)
	}
	want := "panic: test timed out after 1s\nFAIL\tp\t1.005s\n    hang_test.go:9: waiting\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
	if f := rn.Failures(); !slices.Equal(f, []string{"p"}) {
		t.Errorf("failures %q", f)
	}
}

// TestProgress: where a run stands, with the longest-running packages.
func TestProgress(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	rn := &Run{Label: "go test", Total: 10}
	at := now
	stream := `{"Action":"start","Package":"github.com/logfan/logfan/shared/app"}
{"Action":"start","Package":"github.com/logfan/logfan/shared/config"}
{"Action":"pass","Package":"github.com/logfan/logfan/shared/config","Test":"TestLoad"}
{"Action":"pass","Package":"github.com/logfan/logfan/shared/config"}
`
	if err := rn.Read(strings.NewReader(stream), &bytes.Buffer{}, func() time.Time { at = at.Add(time.Second); return at }); err != nil {
		t.Fatal(err)
	}
	want := "go test: 1/10 packages done, 1 tests passed, 0 failed; running shared/app 1m29s"
	if got := rn.Progress(now.Add(90 * time.Second)); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestStartAddReport: the closing lines, the result last in the form CI reads.
func TestStartAddReport(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	clock := func(d time.Duration) func() time.Time { return func() time.Time { return start.Add(d) } }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(run([]string{"start", state}, nil, nil, nil, clock(0)))
	stream := `{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"skip","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}
{"Action":"pass","Package":"p"}
`
	must(run([]string{"gotest", "-state", state}, strings.NewReader(stream), &bytes.Buffer{}, &bytes.Buffer{}, clock(time.Minute)))
	must(run([]string{"gotest", "-state", state, "-race"}, strings.NewReader(stream), &bytes.Buffer{}, &bytes.Buffer{}, clock(time.Minute)))
	must(run([]string{"add", state, "fuzz targets", "4"}, nil, nil, nil, clock(0)))
	must(run([]string{"add", state, "templates linted", "9"}, nil, nil, nil, clock(0)))
	var out bytes.Buffer
	must(run([]string{"report", state}, nil, &out, nil, clock(11*time.Minute+32*time.Second)))
	want := "make test: 1 package, 1 of them under -race, 4 tests (2 skipped), 4 fuzz targets, 9 templates linted, 11m32s\nmake test: 2 passed, 0 failed\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
