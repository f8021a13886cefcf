package eventfiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Status says what Write did with one file.
type Status struct {
	// Path is relative to the output directory.
	Path string
	// Changed is true if the file was created or its content replaced.
	Changed bool
	// Bytes is the file's size.
	Bytes int
}

// Write writes the set under dir, leaving files whose content is already
// right untouched (so make and editors see no change), and reports each file.
func (s *Set) Write(dir string) ([]Status, error) {
	var st []Status
	for _, o := range s.Outputs {
		p := filepath.Join(dir, filepath.FromSlash(o.Path))
		old, err := os.ReadFile(p)
		if err == nil && bytes.Equal(old, o.Data) {
			st = append(st, Status{Path: o.Path, Bytes: len(o.Data)})
			continue
		}
		if err := writeAtomic(p, o.Data); err != nil {
			return st, err
		}
		st = append(st, Status{Path: o.Path, Changed: true, Bytes: len(o.Data)})
	}
	return st, nil
}

// writeAtomic writes through a temporary file and a rename, so a reader (or
// an interrupted make) never sees half a 6 MB event.
func writeAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", p, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// ErrStale means the files on disk are not what the inputs generate.
var ErrStale = errors.New("sample events are stale: regenerate with `make events` (or `go test ./internal/devkit/eventfiles -update`)")

// Check compares the committed outputs (everything outside generated/) with
// the files under dir, and reports event files there that the manifest does
// not describe (hand-written or left over from a removed entry). src is the
// input directory, skipped when it lies under dir.
func (s *Set) Check(dir, src string) error {
	var problems []string
	want := map[string]bool{}
	for _, o := range s.Outputs {
		if !Committed(o.Path) {
			continue
		}
		want[o.Path] = true
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(o.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, o.Path+": missing")
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", o.Path, err))
		case !bytes.Equal(got, o.Data):
			problems = append(problems, fmt.Sprintf("%s: differs from what the inputs generate (%s)", o.Path, firstDiff(got, o.Data)))
		}
	}
	srcAbs, _ := filepath.Abs(src)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if abs, _ := filepath.Abs(p); abs == srcAbs || !Committed(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if (strings.HasSuffix(rel, ".json") || path.Base(rel) == ReadmeName) && !want[rel] {
			problems = append(problems, rel+": not generated from the manifest (add it to the manifest or delete it)")
		}
		return nil
	})
	if err != nil {
		problems = append(problems, fmt.Sprintf("list %s: %v", dir, err))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w:\n  %s", ErrStale, strings.Join(problems, "\n  "))
	}
	return nil
}

// firstDiff describes where two versions of a file first differ.
func firstDiff(got, want []byte) string {
	n := min(len(got), len(want))
	i := 0
	for i < n && got[i] == want[i] {
		i++
	}
	line := bytes.Count(want[:i], []byte("\n")) + 1
	return fmt.Sprintf("first difference at byte %d, line %d; %d bytes on disk, %d generated", i, line, len(got), len(want))
}

// PrintSummary writes one line per event file and a total, for the CLI.
func (s *Set) PrintSummary(w io.Writer, dir string, st []Status) {
	changed := map[string]bool{}
	for _, x := range st {
		changed[x.Path] = x.Changed
	}
	var tot Counts
	var bytesTotal int
	for _, f := range s.Files {
		verb := "unchanged"
		if changed[f.Path] {
			verb = "wrote"
		}
		c := f.Counts
		fmt.Fprintf(w, "%-9s %s: %s (%d data, %d control, %d poison), %s, %s",
			verb, filepath.Join(dir, filepath.FromSlash(f.Path)), plural(c.Records, "record"), c.DataMessages, c.ControlMessages, c.PoisonRecords, plural(c.LogEvents, "log event"), humanBytes(f.Bytes))
		if f.LimitBytes > 0 {
			fmt.Fprintf(w, " = %.2f%% of %d (%d bytes to spare)", 100*float64(f.Bytes)/float64(f.LimitBytes), f.LimitBytes, f.LimitBytes-f.Bytes)
		}
		fmt.Fprintln(w)
		tot.Records += c.Records
		tot.DataMessages += c.DataMessages
		tot.ControlMessages += c.ControlMessages
		tot.PoisonRecords += c.PoisonRecords
		tot.LogEvents += c.LogEvents
		bytesTotal += f.Bytes
	}
	n := 0
	for _, x := range st {
		if x.Changed {
			n++
		}
	}
	for _, x := range st {
		if !s.isEventFile(x.Path) {
			verb := "unchanged"
			if x.Changed {
				verb = "wrote"
			}
			fmt.Fprintf(w, "%-9s %s\n", verb, filepath.Join(dir, filepath.FromSlash(x.Path)))
		}
	}
	fmt.Fprintf(w, "%s: %s (%d data, %d control, %d poison), %s, %s; %d of %d files changed\n",
		plural(len(s.Files), "event file"), plural(tot.Records, "record"), tot.DataMessages, tot.ControlMessages, tot.PoisonRecords, plural(tot.LogEvents, "log event"), humanBytes(bytesTotal), n, len(st))
}

func (s *Set) isEventFile(rel string) bool {
	for _, f := range s.Files {
		if f.Path == rel {
			return true
		}
	}
	return false
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// humanBytes formats a size for people, keeping the exact count.
func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d bytes (%.2f MiB)", n, float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d bytes (%.1f KiB)", n, float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
