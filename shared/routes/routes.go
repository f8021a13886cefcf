// Package routes decides which sink targets receive each log event: an
// ordered table of routes, given as JSON, where the first route whose match
// a record satisfies names the targets (S3 prefixes, Firehose streams,
// CloudWatch Logs regions) its events go to. Every event of a subscription
// record shares its owner, log group and log stream, so routing is decided
// once per record.
package routes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/logfan/logfan/shared/awsregion"
)

// Sink kinds a target may name.
const (
	SinkS3       = "s3"
	SinkFirehose = "firehose"
	SinkLogs     = "logs"
)

// Target is one destination of a route: a sink and the settings that
// differ from that sink's defaults (empty means the default).
type Target struct {
	// Sink is SinkS3, SinkFirehose or SinkLogs.
	Sink string `json:"sink"`
	// Prefix is the S3 key prefix (s3 only).
	Prefix string `json:"prefix,omitempty"`
	// Stream is the Firehose stream name (firehose only).
	Stream string `json:"stream,omitempty"`
	// Region is the CloudWatch Logs region (logs only).
	Region string `json:"region,omitempty"`
	// GroupTemplate names the target log groups (logs only).
	GroupTemplate string `json:"groupTemplate,omitempty"`
	// StreamTemplate names the target log streams (logs only).
	StreamTemplate string `json:"streamTemplate,omitempty"`
}

// Name is the target's short, stable name in summaries and metrics: the
// sink, then its non-default settings, e.g. "s3", "s3:apps",
// "firehose:siem", "logs:eu-west-1:/security/{owner}/{logGroup}".
func (t Target) Name() string {
	parts := []string{t.Sink}
	for _, v := range []string{t.Prefix, t.Stream, t.Region, t.GroupTemplate, t.StreamTemplate} {
		if v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ":")
}

// UnmarshalJSON accepts a plain sink name ("s3") or an object.
func (t *Target) UnmarshalJSON(data []byte) error {
	var name string
	if err := json.Unmarshal(data, &name); err == nil {
		*t = Target{Sink: name}
		return nil
	}
	type plain Target
	var p plain
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("a target is a sink name or an object with sink, prefix, stream, region, groupTemplate, streamTemplate: %w", err)
	}
	*t = Target(p)
	return nil
}

// Match selects records; every given field must match, and within a field
// any pattern may. An empty Match matches everything.
type Match struct {
	// Owners are 12-digit AWS account IDs.
	Owners []string `json:"owners,omitempty"`
	// LogGroups are glob patterns on the sender's log group name.
	LogGroups []string `json:"logGroups,omitempty"`
	// LogStreams are glob patterns on the sender's log stream name.
	LogStreams []string `json:"logStreams,omitempty"`
}

// Route sends the records it matches to its targets; an empty To drops them.
type Route struct {
	// Name identifies the route in summaries, logs and metrics.
	Name string `json:"name"`
	// Match selects records; nil matches every record.
	Match *Match `json:"match,omitempty"`
	// To lists the targets; empty means drop on purpose.
	To []Target `json:"to"`
}

// Table is a parsed, validated route table, safe for concurrent use.
type Table struct {
	routes   []Route
	compiled []compiled
	// targets are the distinct targets of each sink kind, in order of first appearance.
	targets map[string][]Target
	// routeTargets[kind][route] are indexes into targets[kind].
	routeTargets map[string][][]int
}

type compiled struct {
	owners          []string
	groups, streams []*glob
}

var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	// streamName is Firehose's rule for delivery stream names.
	streamName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)
	// routeName keeps names usable as a metric dimension and in file names.
	routeName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	// prefixName keeps S3 prefixes to safe key characters, no empty segments.
	prefixName = regexp.MustCompile(`^[A-Za-z0-9_.!()'-]+(/[A-Za-z0-9_.!()'-]+)*$`)
)

// Parse reads a route table and reports every problem in one error.
func Parse(data []byte) (*Table, error) {
	var rs []Route
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("routes: want a JSON array of {name, match, to}: %w", err)
	}
	if dec.More() {
		return nil, errors.New("routes: text after the JSON array")
	}
	if rs == nil {
		return nil, errors.New("routes: want a JSON array of {name, match, to}, got null")
	}
	return New(rs)
}

// New validates routes and builds their Table; every problem is reported in one error.
func New(rs []Route) (*Table, error) {
	t := &Table{routes: rs, targets: map[string][]Target{}, routeTargets: map[string][][]int{}}
	var errs []error
	bad := func(i int, r *Route, format string, a ...any) {
		errs = append(errs, fmt.Errorf("route %d (%q): %s", i+1, r.Name, fmt.Sprintf(format, a...)))
	}
	names := map[string]int{}
	for _, kind := range []string{SinkS3, SinkFirehose, SinkLogs} {
		t.routeTargets[kind] = make([][]int, len(rs))
	}
	for i := range rs {
		r := &rs[i]
		if !routeName.MatchString(r.Name) {
			bad(i, r, "name must be 1-64 letters, digits, '_', '-' or '.'")
		} else if j, dup := names[r.Name]; dup {
			bad(i, r, "same name as route %d", j+1)
		} else {
			names[r.Name] = i
		}
		var c compiled
		if m := r.Match; m != nil {
			if len(m.Owners)+len(m.LogGroups)+len(m.LogStreams) == 0 {
				bad(i, r, "match has no owners, logGroups or logStreams (leave match out to match everything)")
			}
			for _, o := range m.Owners {
				if !accountID.MatchString(o) {
					bad(i, r, "owner %q is not a 12-digit account ID", o)
				}
			}
			c.owners = m.Owners
			for field, pats := range map[string][]string{"logGroups": m.LogGroups, "logStreams": m.LogStreams} {
				for _, p := range pats {
					g, err := compileGlob(p)
					if err != nil {
						bad(i, r, "%s pattern %q: %v", field, p, err)
						continue
					}
					if field == "logGroups" {
						c.groups = append(c.groups, g)
					} else {
						c.streams = append(c.streams, g)
					}
				}
			}
		}
		t.compiled = append(t.compiled, c)
		seen := map[string]bool{}
		for k := range r.To {
			tg := &r.To[k]
			tg.Prefix = strings.Trim(tg.Prefix, "/")
			if err := checkTarget(tg); err != nil {
				bad(i, r, "target %d: %v", k+1, err)
				continue
			}
			if seen[tg.Name()] {
				bad(i, r, "target %s is listed twice", tg.Name())
				continue
			}
			seen[tg.Name()] = true
			t.routeTargets[tg.Sink][i] = append(t.routeTargets[tg.Sink][i], t.targetIndex(*tg))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("routes: %w", errors.Join(errs...))
	}
	return t, nil
}

// MaxPrefixLength bounds an S3 key prefix, leaving the rest of S3's
// 1,024-byte key to the partitions and object names that follow it.
const MaxPrefixLength = 256

// CheckPrefix is logfan's rule for an S3 key prefix, given without leading
// or trailing '/': segments of letters, digits and _ . ! ( ) ' -, none
// empty, "." or ".." (which tools that map keys to paths resolve elsewhere),
// at most MaxPrefixLength characters. The route parser, the functions'
// cold start (shared/config) and the stack's synth all check with it.
func CheckPrefix(prefix string) error {
	switch {
	case len(prefix) > MaxPrefixLength:
		return fmt.Errorf("prefix %q: at most %d characters", prefix, MaxPrefixLength)
	case !prefixName.MatchString(prefix):
		return fmt.Errorf("prefix %q: want segments of letters, digits and _ . ! ( ) ' - separated by '/'", prefix)
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("prefix %q: a segment %q is not a folder name", prefix, seg)
		}
	}
	return nil
}

// IsStreamName reports whether name follows Firehose's rule for stream names
// (the stack checks its firehoseStreams setting with it too).
func IsStreamName(name string) bool { return streamName.MatchString(name) }

func checkTarget(t *Target) error {
	var errs []error
	only := func(field, v, sink string) {
		if v != "" && t.Sink != sink {
			errs = append(errs, fmt.Errorf("%s is a %s setting, not %s", field, sink, t.Sink))
		}
	}
	switch t.Sink {
	case SinkS3, SinkFirehose, SinkLogs:
	default:
		return fmt.Errorf("unknown sink %q: want %s, %s or %s", t.Sink, SinkS3, SinkFirehose, SinkLogs)
	}
	only("prefix", t.Prefix, SinkS3)
	only("stream", t.Stream, SinkFirehose)
	only("region", t.Region, SinkLogs)
	only("groupTemplate", t.GroupTemplate, SinkLogs)
	only("streamTemplate", t.StreamTemplate, SinkLogs)
	if t.Prefix != "" {
		if err := CheckPrefix(t.Prefix); err != nil {
			errs = append(errs, err)
		}
	}
	if t.Stream != "" && !streamName.MatchString(t.Stream) {
		errs = append(errs, fmt.Errorf("stream %q is not a Firehose stream name (1-64 of a-z A-Z 0-9 _ . -)", t.Stream))
	}
	if t.Region != "" {
		if err := awsregion.Check(t.Region); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (t *Table) targetIndex(tg Target) int {
	for i, x := range t.targets[tg.Sink] {
		if x == tg {
			return i
		}
	}
	t.targets[tg.Sink] = append(t.targets[tg.Sink], tg)
	return len(t.targets[tg.Sink]) - 1
}

// Routes returns the table's routes, in order.
func (t *Table) Routes() []Route { return t.routes }

// Targets returns the distinct targets of one sink kind, in order of first appearance.
func (t *Table) Targets(sink string) []Target { return t.targets[sink] }

// RouteTargets returns the targets of one sink kind that route receives, as
// indexes into Targets(sink); nil when the route sends that sink nothing.
func (t *Table) RouteTargets(route int, sink string) []int {
	rt := t.routeTargets[sink]
	if route < 0 || route >= len(rt) {
		return nil
	}
	return rt[route]
}

// Match returns the index of the first route matching a record of owner,
// logGroup and logStream, or -1 when none does (the record is dropped).
func (t *Table) Match(owner, logGroup, logStream string) int {
	for i := range t.compiled {
		if t.compiled[i].match(owner, logGroup, logStream) {
			return i
		}
	}
	return -1
}

func (c *compiled) match(owner, logGroup, logStream string) bool {
	if len(c.owners) > 0 && !slices.Contains(c.owners, owner) {
		return false
	}
	if len(c.groups) > 0 && !anyGlob(c.groups, logGroup) {
		return false
	}
	if len(c.streams) > 0 && !anyGlob(c.streams, logStream) {
		return false
	}
	return true
}

func anyGlob(gs []*glob, s string) bool {
	for _, g := range gs {
		if g.match(s) {
			return true
		}
	}
	return false
}
