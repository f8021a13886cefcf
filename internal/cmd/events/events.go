// Package events is `logfan events`: it generates the sample Lambda events
// in events/ from the plain inputs in events/src, deterministically.
package events

import (
	"context"
	"fmt"
	"io"

	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/devkit/eventfiles"
)

// eventsUsage is what -h prints above the flags.
const eventsUsage = `usage: logfan events [-in dir] [-out dir] [-check] [-q]

Generates logfan's sample Lambda events from plain inputs, deterministically
(the same inputs give byte-identical files):

  OUT/*.json             Kinesis events (and a direct awslogs event) carrying
                         real gzip subscription payloads, poison records included
  OUT/generated/*.json   files too big to commit (the 6 MB batch, a gzip bomb)
  OUT/expected.json      per file: records, control messages, log events,
                         poison records with sequence numbers and expected errors
  OUT/README.md          what each file holds, rendered from IN/README.md.tmpl

IN/manifest.json lists each file and its records (sender account, log group,
stream, kind, count, template file or literal lines, poison kind).
Progress and a summary go to stderr.

flags:
`

// Run is `logfan events`: it writes the event files, expected.json and
// README.md generated from the manifest, or with -check compares them.
func Run(_ context.Context, args []string, _, stderr io.Writer) error {
	fs := usage.NewFlagSet("events", stderr, eventsUsage)
	in := fs.String("in", "events/src", "input `dir`: manifest.json, message templates, README.md.tmpl")
	out := fs.String("out", "events", "output `dir` for the event files, expected.json and README.md")
	check := fs.Bool("check", false, "write nothing; fail if the committed files (all but generated/) differ from what the inputs generate")
	quiet := fs.Bool("q", false, "print only errors")
	if err := usage.Parse(fs, args); err != nil {
		return err
	}
	if err := usage.NoArgs(fs); err != nil {
		return err
	}

	m, err := eventfiles.LoadManifest(*in)
	if err != nil {
		return err
	}
	set, err := eventfiles.Generate(m)
	if err != nil {
		return err
	}
	if *check {
		if err := set.Check(*out, *in); err != nil {
			return err
		}
		if !*quiet {
			fmt.Fprintf(stderr, "%s: all committed sample events match %s\n", *out, *in)
		}
		return nil
	}
	st, err := set.Write(*out)
	if err != nil {
		return err
	}
	if !*quiet {
		set.PrintSummary(stderr, *out, st)
	}
	return nil
}
