// Command testsummary gives make test its progress and its closing lines.
// go test's own output stays as CI reads it (each package's ok or FAIL
// line, a failing test's log); testsummary adds, on stderr, where a long
// run stands, and at the end one line with every figure and one with the
// result:
//
//	make test: 97 packages, 27 of them under -race, 812 tests (3 skipped), 4 fuzz targets, 9 templates linted, 11m32s
//	make test: 812 passed, 0 failed
//
// The steps share a state file:
//
//	testsummary start STATE                     # make test begins
//	go test -json ./... | testsummary gotest -state STATE [-label L] [-total N] [-race]
//	testsummary add STATE 'fuzz targets' 4      # another step's figure
//	testsummary report STATE                    # the closing lines
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/logfan/logfan/internal/cli/progress"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: testsummary start|gotest|add|report (see the package doc)")
	}
	switch cmd, args := args[0], args[1:]; cmd {
	case "start":
		if len(args) != 1 {
			return fmt.Errorf("usage: testsummary start STATE")
		}
		return (&State{Start: now(), Counts: map[string]int{}}).Save(args[0])
	case "add":
		if len(args) != 3 {
			return fmt.Errorf("usage: testsummary add STATE NAME N")
		}
		n, err := strconv.Atoi(strings.TrimSpace(args[2]))
		if err != nil {
			return fmt.Errorf("add %s: %q is not a number", args[1], args[2])
		}
		s, err := LoadState(args[0])
		if err != nil {
			return err
		}
		s.Counts[args[1]] += n
		return s.Save(args[0])
	case "report":
		if len(args) != 1 {
			return fmt.Errorf("usage: testsummary report STATE")
		}
		s, err := LoadState(args[0])
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, s.Totals(now()))
		fmt.Fprintln(stdout, s.Result())
		if s.Failed > 0 {
			return fmt.Errorf("%d tests failed", s.Failed)
		}
		return nil
	case "gotest":
		return gotest(args, stdin, stdout, stderr, now)
	default:
		return fmt.Errorf("unknown command %q: start, gotest, add or report", cmd)
	}
}

// gotest reads `go test -json` on stdin: go test's usual output on stdout,
// progress on stderr, the counts into the state file. It fails when a test
// or a package failed, after printing the failures and the result so far
// (make stops there: that line is then the last).
func gotest(args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("gotest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "the state file (testsummary start wrote it)")
	label := fs.String("label", "go test", "names the step in progress lines")
	total := fs.Int("total", 0, "packages the run will report, for progress (0: unknown)")
	every := fs.Duration("every", 30*time.Second, "how often a progress line is written when stderr is not a terminal")
	race := fs.Bool("race", false, "a second run of packages counted already (the race run): its packages count apart")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *state == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: go test -json ... | testsummary gotest -state STATE [-label L] [-total N]")
	}
	rn := &Run{Label: *label, Total: *total}
	terminal := progress.IsTerminal(stderr)
	var mu sync.Mutex // the progress line and go test's output share a terminal
	shown := false
	clear := func() {
		if shown {
			fmt.Fprint(stderr, "\r\033[K")
			shown = false
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := *every
		if terminal {
			tick = time.Second
		}
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				if terminal {
					fmt.Fprint(stderr, "\r\033[K"+rn.Progress(now()))
					shown = true
				} else {
					fmt.Fprintln(stderr, rn.Progress(now()))
				}
				mu.Unlock()
			}
		}
	}()
	out := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		clear()
		return stdout.Write(p)
	})
	err := rn.Read(stdin, out, now)
	close(stop)
	wg.Wait()
	mu.Lock()
	clear()
	mu.Unlock()
	if err != nil {
		return err
	}
	s, err := LoadState(*state)
	if err != nil {
		return err
	}
	packages := ""
	if *race {
		packages = CountRacePackages
	}
	failed := rn.AddTo(s, packages)
	if err := s.Save(*state); err != nil {
		return err
	}
	if failed {
		fmt.Fprintf(stdout, "\n%s: failed:\n", *label)
		for _, f := range rn.Failures() {
			fmt.Fprintf(stdout, "  %s\n", f)
		}
		fmt.Fprintln(stdout, s.Result())
		return fmt.Errorf("%s failed", *label)
	}
	return nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
