package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// results holds, per benchmark ("<package's last element>/<name>"), every
// value reported for each unit, one per -count run.
type results map[string]map[string][]float64

// procSuffix is the -GOMAXPROCS suffix go test adds to names unless it is 1.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads `go test -bench` output (the Go benchmark format:
// "pkg:" lines, then "Benchmark<name> <iterations> <value> <unit>..."),
// ignoring everything else. A 40-line reader rather than
// golang.org/x/perf/benchfmt, whose module would raise x/sys, x/exp and
// protobuf in go.mod for a development tool.
func parseBench(r io.Reader) (results, error) {
	out := results{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p[strings.LastIndexByte(p, '/')+1:]
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a name alone (a failed or still running benchmark)
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := pkg + "/" + procSuffix.ReplaceAllString(f[0], "")
		if out[name] == nil {
			out[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: value %q: %w", line, f[i], err)
			}
			out[name][f[i+1]] = append(out[name][f[i+1]], v)
		}
	}
	return out, sc.Err()
}

// median returns the median of name's values in unit, or an error naming
// what is missing.
func (r results) median(name, unit string) (float64, error) {
	vs := r[name][unit]
	if len(vs) == 0 {
		return 0, fmt.Errorf("no %q values for %s in the benchmark output", unit, name)
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], nil
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, nil
}
