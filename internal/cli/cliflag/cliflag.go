// Package cliflag holds the flags several logfan commands share, so that a
// flag name means one thing in every command (the operator's CLI in
// ../shared/docs/style.md): -event names Lambda event files, folders and
// globs; -routes a route table in the forms the stack takes; -sink sinks by
// name.
package cliflag

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/routes"
)

// EventUsage is the -event flag's help text, the same in every command.
const EventUsage = "Lambda event JSON (Kinesis or awslogs): a file, a folder of them or a glob ('events/*.json'); repeat for several (a shell's expansion of -event events/*.json works too)"

// Events is the repeatable -event flag.
type Events []string

// String returns the values given, comma-separated.
func (e *Events) String() string { return strings.Join(*e, ",") }

// Set adds one value.
func (e *Events) Set(v string) error { *e = append(*e, v); return nil }

// Parse parses args into fs (usage.Parse) and takes the arguments that are
// not flags as more -event values, wherever they stand: a shell expands
// `-event events/*.json -sink s3` into `-event events/a.json events/b.json
// -sink s3`, which must mean what the user wrote.
func Parse(fs *flag.FlagSet, args []string, ev *Events) error {
	for {
		if err := usage.Parse(fs, args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return nil
		}
		i := 0
		for i < len(rest) && !strings.HasPrefix(rest[i], "-") {
			*ev = append(*ev, rest[i])
			i++
		}
		if i == 0 { // "-" alone, or an argument after "--" that looks like a flag
			return usage.Errorf("unexpected argument %q", rest[0])
		}
		args = rest[i:]
	}
}

// Files expands the -event values into the event files they name, in
// order: a folder gives its *.json files, sorted; a glob its matches; a
// file itself. A JSON object that is not a Lambda event (events/ holds
// expected.json beside the events) is left out with a note to warn, so
// that a folder or a glob means "the events in it". A value that names
// nothing, and values that leave no event, are usage errors.
func (e Events) Files(warn io.Writer) ([]string, error) {
	if len(e) == 0 {
		return nil, usage.Errorf("-event is required: %s", EventUsage)
	}
	var out, skipped []string
	for _, v := range e {
		files, err := expand(v)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			isEvent, err := IsLambdaEvent(f)
			if err != nil {
				return nil, usage.Errorf("-event %s: %w", f, err)
			}
			if !isEvent {
				skipped = append(skipped, f)
				continue
			}
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, usage.Errorf("-event %s: no Lambda event (a JSON object with Records, or awslogs) in %s", strings.Join(e, " "), strings.Join(skipped, ", "))
	}
	for _, f := range skipped {
		fmt.Fprintf(warn, "%s: not a Lambda event (no Records or awslogs), left out\n", f)
	}
	return out, nil
}

// expand returns the files one -event value names.
func expand(v string) ([]string, error) {
	if strings.ContainsAny(v, "*?[") {
		matches, err := filepath.Glob(v)
		if err != nil {
			return nil, usage.Errorf("-event %s: %w", v, err)
		}
		var files []string
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && !st.IsDir() {
				files = append(files, m)
			}
		}
		if len(files) == 0 {
			return nil, usage.Errorf("-event %s: no file matches", v)
		}
		return files, nil
	}
	st, err := os.Stat(v)
	if err != nil {
		return nil, usage.Errorf("-event %s: no such file or folder", v)
	}
	if !st.IsDir() {
		return []string{v}, nil
	}
	files, _ := filepath.Glob(filepath.Join(v, "*.json"))
	if len(files) == 0 {
		return nil, usage.Errorf("-event %s: the folder holds no *.json file", v)
	}
	slices.Sort(files)
	return files, nil
}

// IsLambdaEvent reports whether file holds a Kinesis or awslogs Lambda
// event: a JSON object with Records or awslogs. A file that is not JSON
// is an error rather than false, so that a damaged event is reported, not
// skipped.
func IsLambdaEvent(file string) (bool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return false, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		if json.Valid(b) {
			return false, nil // JSON, but not an object
		}
		return false, fmt.Errorf("malformed JSON: %w", err)
	}
	_, records := top["Records"]
	_, awslogs := top["awslogs"]
	return records || awslogs, nil
}

// RoutesUsage is the -routes flag's help text, the same in every command.
const RoutesUsage = "route table: inline JSON, @FILE or a FILE path (the stack's routes context takes the first two)"

// Routes is what a -routes value gives: the table's text and where it came from.
type Routes struct {
	// Text is the route table's JSON.
	Text []byte
	// File is the file it was read from ("" for inline JSON).
	File string
}

// Source names where the table came from, for errors: its file, or "(inline JSON)".
func (r Routes) Source() string {
	if r.File != "" {
		return r.File
	}
	return "(inline JSON)"
}

// Parse parses the table against the sinks' default targets, as a function
// and the stack do; its errors name the table's source in place of the
// parser's own "routes:" prefix, so that no message says where twice.
func (r Routes) Parse(d routes.Defaults) (*routes.Table, error) {
	t, err := config.ParseRoutes(r.Text, d)
	if err != nil {
		return nil, tableError{source: r.Source(), err: err}
	}
	return t, nil
}

// tableError is a route table's error under the name of its source.
type tableError struct {
	source string
	err    error
}

func (e tableError) Error() string {
	return "-routes " + e.source + ": " + strings.TrimPrefix(e.err.Error(), "routes: ")
}

func (e tableError) Unwrap() error { return e.err }

// ReadRoutes reads a -routes value as the stack reads its routes context,
// and a plain path as well: text starting with [ or { is the table itself,
// @FILE and FILE name a file holding it.
func ReadRoutes(v string) (Routes, error) {
	t := strings.TrimSpace(v)
	if strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
		return Routes{Text: []byte(t)}, nil
	}
	path := strings.TrimPrefix(t, "@")
	if path == "" {
		return Routes{}, usage.Errorf("-routes %q: %s", v, RoutesUsage)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Routes{}, usage.Errorf("-routes %s: %w (%s)", v, unwrapPathError(err), RoutesUsage)
	}
	return Routes{Text: data, File: path}, nil
}

// unwrapPathError drops os.PathError's repetition of the path the message names already.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// SinkUsage is the help text of a -sink flag taking several sinks.
const SinkUsage = "sinks, comma-separated or repeated"

// Sinks is a -sink flag taking several sinks, comma-separated or repeated.
// Its default applies until the flag is first set.
type Sinks struct {
	names []string
	set   bool
}

// NewSinks returns a flag holding def until it is set.
func NewSinks(def []string) *Sinks { return &Sinks{names: slices.Clone(def)} }

// String returns the sinks, comma-separated.
func (s *Sinks) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.names, ",")
}

// Set adds the comma-separated sinks of v (replacing the default).
func (s *Sinks) Set(v string) error {
	if !s.set {
		s.names, s.set = nil, true
	}
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			s.names = append(s.names, n)
		}
	}
	return nil
}

// Names returns the sinks given (or the default).
func (s *Sinks) Names() []string { return slices.Clone(s.names) }

// Check is a usage error naming the first sink not in known, or a sink
// named twice, or no sink at all.
func (s *Sinks) Check(flagName string, known []string) error {
	if len(s.names) == 0 {
		return usage.Errorf("-%s: name at least one sink: %s", flagName, strings.Join(known, ", "))
	}
	for i, n := range s.names {
		if !slices.Contains(known, n) {
			return usage.Errorf("-%s: unknown sink %q: the sinks are %s", flagName, n, strings.Join(known, ", "))
		}
		if slices.Contains(s.names[:i], n) {
			return usage.Errorf("-%s: %s is named twice", flagName, n)
		}
	}
	return nil
}

// Deprecated registers old as a deprecated spelling of the flag named to
// (already defined on fs): it still works, and each use prints a warning
// to warn naming the new spelling.
func Deprecated(fs *flag.FlagSet, old, to string, warn io.Writer) {
	target := fs.Lookup(to)
	if target == nil {
		panic("cliflag.Deprecated: no flag -" + to)
	}
	fs.Func(old, "deprecated: use -"+to, func(v string) error {
		fmt.Fprintf(warn, "warning: -%s is deprecated and will go: use -%s (same values)\n", old, to)
		return target.Value.Set(v)
	})
}

// List is a flag that may be repeated and takes comma-separated values
// (`-owner 1,2 -owner 3`); blanks around and between commas are dropped.
type List []string

// String implements flag.Value.
func (l *List) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value: it appends each comma-separated value.
func (l *List) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// WriteJSON is what a command's -json flag prints: v as one JSON document,
// indented by two spaces, every command alike.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
