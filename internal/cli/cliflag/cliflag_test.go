package cliflag

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/logfan/logfan/internal/cli/usage"
)

const events = "../../../events"

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParseTakesShellExpandedEvents: `-event events/*.json -sink s3`, as a
// shell passes it, gives every file to -event and still reads -sink.
func TestParseTakesShellExpandedEvents(t *testing.T) {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	var ev Events
	fs.Var(&ev, "event", EventUsage)
	sink := fs.String("sink", "stdout", "")
	if err := Parse(fs, []string{"-event", "a.json", "b.json", "c.json", "-sink", "s3", "d.json"}, &ev); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.json", "b.json", "c.json", "d.json"}; !slices.Equal(ev, want) || *sink != "s3" {
		t.Errorf("events %q, sink %q; want %q, s3", ev, *sink, want)
	}
	if err := Parse(fs, []string{"-event", "a.json", "-"}, &ev); !usage.Is(err) {
		t.Errorf("a lone -: %v, want a usage error", err)
	}
	if err := Parse(fs, []string{"-nope"}, &ev); !usage.Is(err) {
		t.Errorf("unknown flag: %v, want a usage error", err)
	}
}

// TestFiles: a folder and a glob mean the Lambda events in them (events/
// holds expected.json beside them, left out with a note); a file is
// itself; what names nothing, or leaves no event, is a usage error.
func TestFiles(t *testing.T) {
	var warn bytes.Buffer
	dir, err := Events{events}.Files(&warn)
	if err != nil {
		t.Fatal(err)
	}
	if len(dir) != 5 || slices.ContainsFunc(dir, func(f string) bool { return filepath.Base(f) == "expected.json" }) {
		t.Errorf("events/: %d files %q, want the 5 events without expected.json", len(dir), dir)
	}
	if !strings.Contains(warn.String(), "expected.json: not a Lambda event") {
		t.Errorf("no note about expected.json: %q", warn.String())
	}
	glob, err := Events{events + "/*.json"}.Files(&bytes.Buffer{})
	if err != nil || !slices.Equal(glob, dir) {
		t.Errorf("quoted glob: %q, %v; want the folder's %q", glob, err, dir)
	}
	// The shell's expansion of the same glob: the same files.
	matches, _ := filepath.Glob(events + "/*.json")
	if shell, err := Events(matches).Files(&bytes.Buffer{}); err != nil || !slices.Equal(shell, dir) {
		t.Errorf("shell-expanded glob: %q, %v", shell, err)
	}
	one := events + "/kinesis-data.json"
	if got, err := (Events{one, one}).Files(&bytes.Buffer{}); err != nil || !slices.Equal(got, []string{one, one}) {
		t.Errorf("a file twice: %q, %v (repeating an event is allowed: warm invocations)", got, err)
	}

	tmp := t.TempDir()
	notEvent := write(t, tmp, "expected.json", `{"files": []}`)
	broken := write(t, tmp, "broken.json", `{"Records": [`)
	for name, c := range map[string]struct {
		ev   Events
		want string
	}{
		"none":        {nil, "-event is required"},
		"missing":     {Events{"/nonexistent.json"}, "no such file or folder"},
		"no match":    {Events{tmp + "/*.yaml"}, "no file matches"},
		"empty dir":   {Events{t.TempDir()}, "holds no *.json file"},
		"only non-ev": {Events{notEvent}, "no Lambda event"},
		"broken":      {Events{broken}, "malformed JSON"},
	} {
		_, err := c.ev.Files(&bytes.Buffer{})
		if !usage.Is(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a usage error mentioning %q", name, err, c.want)
		}
	}
}

// TestReadRoutes: the forms the stack's routes context takes (inline JSON,
// @FILE), and a plain path.
func TestReadRoutes(t *testing.T) {
	const table = `[{"name":"rest","to":["s3"]}]`
	file := write(t, t.TempDir(), "routes.json", table)
	for _, v := range []string{table, "  " + table + "\n", "@" + file, file} {
		r, err := ReadRoutes(v)
		if err != nil || strings.TrimSpace(string(r.Text)) != table {
			t.Errorf("%q: %q, %v", v, r.Text, err)
		}
		if inline := strings.HasPrefix(strings.TrimSpace(v), "["); inline != (r.File == "") {
			t.Errorf("%q: File %q", v, r.File)
		}
	}
	if r, _ := ReadRoutes(table); r.Source() != "(inline JSON)" {
		t.Errorf("inline source %q", r.Source())
	}
	for _, v := range []string{"@", "/nonexistent.json", "@/nonexistent.json"} {
		if _, err := ReadRoutes(v); !usage.Is(err) || !strings.Contains(err.Error(), "inline JSON, @FILE or a FILE path") {
			t.Errorf("%q: %v, want a usage error naming the forms", v, err)
		}
	}
}

// TestSinksAndDeprecatedAlias: -sink takes sinks comma-separated or
// repeated, replacing the default; the old -sinks still works and warns.
func TestSinksAndDeprecatedAlias(t *testing.T) {
	var warn bytes.Buffer
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	s := NewSinks([]string{"s3", "firehose", "logs"})
	fs.Var(s, "sink", SinkUsage)
	Deprecated(fs, "sinks", "sink", &warn)
	if err := fs.Parse(nil); err != nil || s.String() != "s3,firehose,logs" {
		t.Errorf("default: %q, %v", s, err)
	}
	if err := fs.Parse([]string{"-sink", "s3, logs", "-sinks", "firehose"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); !slices.Equal(got, []string{"s3", "logs", "firehose"}) {
		t.Errorf("sinks %q", got)
	}
	if !strings.Contains(warn.String(), "-sinks is deprecated") || !strings.Contains(warn.String(), "use -sink") {
		t.Errorf("warning %q", warn.String())
	}
	known := []string{"s3", "firehose", "logs"}
	if err := s.Check("sink", known); err != nil {
		t.Error(err)
	}
	for _, v := range []string{"kafka", "s3,s3"} {
		bad := NewSinks(nil)
		_ = bad.Set(v)
		if err := bad.Check("sink", known); !usage.Is(err) {
			t.Errorf("%q: %v, want a usage error", v, err)
		}
	}
	if err := NewSinks(nil).Check("sink", known); !usage.Is(err) {
		t.Errorf("no sink: %v", err)
	}
}
