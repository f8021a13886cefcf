// Package quarantine is `logfan quarantine list|show|delete`: what the
// consumers quarantined (undecodable records, events a sink refused), read
// from the deployed stack's quarantine bucket, each entry shown with its
// reason and content, and deleted once dealt with.
package quarantine

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/logfan/logfan/internal/cli/cliflag"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/ops/deployment"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/internal/ops/quarantined"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/subscription"
)

// sinks are the sinks whose functions quarantine.
var sinks = []string{config.SinkS3, config.SinkFirehose, config.SinkLogs}

// S3API is the S3 calls the command makes; *s3.Client implements it.
type S3API interface {
	quarantined.ReadAPI
	quarantined.DeleteObjectAPI
}

// Run is `logfan quarantine`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, os.Getenv, stdout, stderr)
}

func usageText(w io.Writer) {
	fmt.Fprintln(w, "usage: logfan quarantine list [-sink S] [-json] [flags]")
	fmt.Fprintln(w, "       logfan quarantine show [-json] [flags] KEY")
	fmt.Fprintln(w, "       logfan quarantine delete [flags] KEY... | -all [-sink S]")
	fmt.Fprintln(w, "\nWhat the consumers quarantined, in the deployed stack's quarantine bucket: undecodable records and")
	fmt.Fprintln(w, "events a sink refused, each with its reason. `logfan redrive -sink S` re-processes them once the")
	fmt.Fprintln(w, "cause is fixed; delete what you have dealt with otherwise. Flags go before keys.")
}

// run is Run with the environment read through getenv (tests).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		usageText(stderr)
		if len(args) == 0 {
			return usage.Errorf("a subcommand is required: list, show or delete")
		}
		return flag.ErrHelp
	}
	sub := args[0]
	if sub != "list" && sub != "show" && sub != "delete" {
		usageText(stderr)
		return usage.Errorf("unknown subcommand %q: want list, show or delete", sub)
	}
	f, err := parseFlags(sub, args[1:], stderr)
	if err != nil {
		return err
	}
	d, awsCfg, note, err := f.dep.Load(ctx)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(stderr, "logfan quarantine: "+note)
	}
	bucket, root, err := f.locate(d, getenv)
	if err != nil {
		return err
	}
	c := &cmd{s3: awsclient.S3(awsCfg), bucket: bucket, root: root, sink: f.sink, json: f.asJSON, out: stdout}
	switch sub {
	case "list":
		return c.list(ctx)
	case "show":
		return c.show(ctx, f.keys[0])
	default:
		return c.delete(ctx, f.keys, f.all)
	}
}

// flags are a subcommand's flags and keys, checked.
type flags struct {
	bucket, prefix, sink string
	asJSON, all          bool
	keys                 []string
	dep                  *deployment.Flags
}

// parseFlags parses and checks subcommand sub's flags and keys; a bad one
// is a usage error.
func parseFlags(sub string, args []string, stderr io.Writer) (*flags, error) {
	fs := flag.NewFlagSet("quarantine "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	bucket := fs.String("bucket", "", "the quarantine bucket (default: $"+config.EnvQuarantineBucket+", else the stack's QuarantineBucketName)")
	prefix := fs.String("prefix", "", "the quarantine's root prefix (default: $"+config.EnvQuarantinePrefix+", else the stack's QuarantinePrefix)")
	sink := fs.String("sink", "", "only the entries of this sink's function (s3, firehose or logs), and those of the layout every sink shared before")
	asJSON := fs.Bool("json", false, "print JSON")
	all := fs.Bool("all", false, "delete: every entry listed (with -sink, that sink's)")
	dep := deployment.AddFlags(fs)
	fs.Usage = func() { usageText(stderr); fs.PrintDefaults() }
	if err := usage.Parse(fs, args); err != nil {
		return nil, err
	}
	keys := fs.Args()
	switch {
	case *sink != "" && !slices.Contains(sinks, *sink):
		return nil, usage.Errorf("-sink %q: want %s", *sink, strings.Join(sinks, ", "))
	case sub == "list" && len(keys) > 0:
		return nil, usage.Errorf("list takes no keys (got %q)", keys)
	case sub == "show" && len(keys) != 1:
		return nil, usage.Errorf("show takes one key (got %d)", len(keys))
	case sub == "delete" && len(keys) == 0 && !*all:
		return nil, usage.Errorf("delete takes the keys to delete, or -all")
	case sub == "delete" && len(keys) > 0 && *all:
		return nil, usage.Errorf("delete takes keys or -all, not both")
	case sub != "delete" && *all:
		return nil, usage.Errorf("-all is for delete")
	}
	return &flags{bucket: *bucket, prefix: *prefix, sink: *sink, asJSON: *asJSON, all: *all, keys: keys, dep: dep}, nil
}

// locate returns the quarantine's bucket and root prefix: the flags', else
// the environment's, else the deployed stack's (d, which may be nil).
func (f *flags) locate(d *deployment.Deployment, getenv func(string) string) (bucket, root string, err error) {
	bucket, prefix := f.bucket, f.prefix
	if bucket == "" {
		bucket = getenv(config.EnvQuarantineBucket)
	}
	if bucket == "" {
		bucket = d.Output(naming.OutputQuarantineBucket)
	}
	if bucket == "" {
		return "", "", usage.Errorf("no quarantine bucket: pass -bucket, set %s, or name the deployed stack with -stack and -region", config.EnvQuarantineBucket)
	}
	if prefix == "" {
		prefix = getenv(config.EnvQuarantinePrefix)
	}
	if prefix == "" {
		prefix = d.QuarantineRoot()
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// cmd is one run of a subcommand.
type cmd struct {
	s3           S3API
	bucket, root string
	sink         string
	json         bool
	out          io.Writer
}

// Entry is one quarantined entry as list and show print it.
type Entry struct {
	Key            string `json:"key"`
	Kind           string `json:"kind"`
	Sink           string `json:"sink,omitempty"`
	Target         string `json:"target,omitempty"`
	Shard          string `json:"shard"`
	SequenceNumber string `json:"sequenceNumber"`
	Event          int    `json:"event,omitempty"`
	EventID        string `json:"eventId,omitempty"`
	Reason         string `json:"reason"`
	// RedrivenBy lists the sinks whose redrive already delivered it (their marks).
	RedrivenBy []string `json:"redrivenBy,omitempty"`
	// Data is the raw record (kind record) or the event's NDJSON line (kind event); show only.
	Data []byte `json:"data,omitempty"`
}

// prefixes are the prefixes list reads: all of the root, or one sink's and the shared layout.
func (c *cmd) prefixes() []string {
	if c.sink == "" {
		return []string{c.root + "/"}
	}
	return []string{
		config.SinkQuarantinePrefix(c.root, c.sink) + "/",
		c.root + "/" + quarantine.KindRecord + "/", c.root + "/" + quarantine.KindEvent + "/",
	}
}

// entries lists the entries with their redrive marks.
func (c *cmd) entries(ctx context.Context) ([]Entry, error) {
	marks, err := readback.Keys(ctx, c.s3, c.bucket, naming.RedriveDonePrefix+"/")
	if err != nil {
		return nil, err
	}
	redriven := map[string][]string{}
	for _, m := range marks {
		sink, key, ok := strings.Cut(strings.TrimPrefix(m, naming.RedriveDonePrefix+"/"), "/")
		if ok {
			redriven[key] = append(redriven[key], sink)
		}
	}
	var out []Entry
	for _, p := range c.prefixes() {
		items, err := quarantined.List(ctx, c.s3, c.bucket, p)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if c.sink != "" && it.Entry.Kind == quarantine.KindEvent && it.Entry.Sink != c.sink {
				continue // another sink's refusal in the shared layout
			}
			e := entryOf(it)
			e.RedrivenBy = redriven[it.Key]
			out = append(out, e)
		}
	}
	return out, nil
}

func entryOf(it quarantined.Item) Entry {
	e := it.Entry
	return Entry{Key: it.Key, Kind: e.Kind, Sink: e.Sink, Target: e.Target, Shard: e.Shard, SequenceNumber: e.SequenceNumber,
		Event: e.Event, EventID: e.EventID, Reason: e.Reason}
}

func (c *cmd) list(ctx context.Context) error {
	entries, err := c.entries(ctx)
	if err != nil {
		return err
	}
	if c.json {
		if entries == nil {
			entries = []Entry{}
		}
		return cliflag.WriteJSON(c.out, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(c.out, "s3://%s/%s: nothing quarantined\n", c.bucket, strings.Join(c.prefixes(), ", "))
		return nil
	}
	tw := tabwriter.NewWriter(c.out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tKIND\tSINK\tSHARD\tSEQUENCE\tREDRIVEN BY\tREASON")
	counts := map[string]int{}
	for _, e := range entries {
		counts[e.Kind]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Key, e.Kind, dash(e.Sink), e.Shard, e.SequenceNumber, dash(strings.Join(e.RedrivenBy, ",")), short(e.Reason, 100))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%d entries in s3://%s (%d records, %d events): `logfan quarantine show KEY` shows one, `logfan redrive -sink S` re-processes them\n",
		len(entries), c.bucket, counts[quarantine.KindRecord], counts[quarantine.KindEvent])
	return nil
}

func (c *cmd) show(ctx context.Context, key string) error {
	if err := c.inRoot(key); err != nil {
		return err
	}
	it, err := quarantined.Get(ctx, c.s3, c.bucket, key)
	if err != nil {
		return err
	}
	e := entryOf(it)
	e.Data = it.Entry.Data
	for _, sink := range sinks {
		marks, err := readback.Keys(ctx, c.s3, c.bucket, naming.RedriveDonePrefix+"/"+sink+"/"+key)
		if err != nil {
			return err
		}
		if slices.Contains(marks, naming.RedriveDonePrefix+"/"+sink+"/"+key) {
			e.RedrivenBy = append(e.RedrivenBy, sink)
		}
	}
	if c.json {
		return cliflag.WriteJSON(c.out, e)
	}
	fmt.Fprintf(c.out, "key:       s3://%s/%s\nkind:      %s\n", c.bucket, key, e.Kind)
	if e.Sink != "" {
		fmt.Fprintf(c.out, "sink:      %s\n", e.Sink)
	}
	if e.Target != "" {
		fmt.Fprintf(c.out, "target:    %s\n", e.Target)
	}
	fmt.Fprintf(c.out, "shard:     %s\nsequence:  %s\n", e.Shard, e.SequenceNumber)
	if e.Kind == quarantine.KindEvent {
		fmt.Fprintf(c.out, "event:     %d (ID %q)\n", e.Event, e.EventID)
	}
	fmt.Fprintf(c.out, "reason:    %s\n", e.Reason)
	if len(e.RedrivenBy) > 0 {
		fmt.Fprintf(c.out, "redriven:  by %s (marked under %s/)\n", strings.Join(e.RedrivenBy, ", "), naming.RedriveDonePrefix)
	}
	switch e.Kind {
	case quarantine.KindEvent:
		fmt.Fprintf(c.out, "event line (%d bytes):\n%s\n", len(e.Data), strings.TrimRight(string(e.Data), "\n"))
	default:
		fmt.Fprintf(c.out, "record:    %d bytes\n", len(e.Data))
		m, err := subscription.NewDecoder(0).Decode(e.Data)
		if err != nil {
			n := min(len(e.Data), 64)
			fmt.Fprintf(c.out, "decoded:   no: %v\nfirst %d bytes:\n%s", err, n, hex.Dump(e.Data[:n]))
			return nil
		}
		fmt.Fprintf(c.out, "decoded:   %s from %s, %s / %s, %d events\n", m.MessageType, m.Owner, m.LogGroup, m.LogStream, len(m.LogEvents))
		for i, ev := range m.LogEvents {
			if i == 5 {
				fmt.Fprintf(c.out, "  ... %d more\n", len(m.LogEvents)-5)
				break
			}
			fmt.Fprintf(c.out, "  %d %s\n", ev.Timestamp, short(ev.Message, 200))
		}
	}
	return nil
}

func (c *cmd) delete(ctx context.Context, keys []string, all bool) error {
	if all {
		entries, err := c.entries(ctx)
		if err != nil {
			return err
		}
		for _, e := range entries {
			keys = append(keys, e.Key)
		}
	}
	for _, k := range keys {
		if err := c.inRoot(k); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if err := quarantined.Delete(ctx, c.s3, c.bucket, k); err != nil {
			return err
		}
		// Its redrive marks go with it (deleting a mark that does not exist is no error).
		for _, sink := range sinks {
			if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(naming.RedriveDonePrefix + "/" + sink + "/" + k)}); err != nil {
				return fmt.Errorf("delete the redrive mark of %s: %w", k, err)
			}
		}
		fmt.Fprintf(c.out, "deleted s3://%s/%s\n", c.bucket, k)
	}
	fmt.Fprintf(c.out, "%d entries deleted\n", len(keys))
	return nil
}

// inRoot refuses a key outside the quarantine, such as an on-failure
// record or a sink's data: this command deletes quarantine entries only.
func (c *cmd) inRoot(key string) error {
	if !strings.HasPrefix(key, c.root+"/") || strings.Contains("/"+key+"/", "/../") {
		return usage.Errorf("%q is not a quarantine entry: keys start with %s/ (as `logfan quarantine list` prints them)", key, c.root)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// short cuts s to n runes, on one line.
func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
