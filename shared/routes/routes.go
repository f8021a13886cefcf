// Package routes decides which sink targets receive each log event: an
// ordered table of routes, given as JSON, where the first route whose match
// a record satisfies names the targets (S3 prefixes, Firehose streams,
// CloudWatch Logs regions) its events go to. Every event of a subscription
// record shares its owner, log group and log stream (and the consumer
// splits a record whose events came from several sources, so its region
// too), so routing is decided once per record.
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
	// SharedGroup says, on a logs target whose group template has no
	// {owner}, that every sender is meant to write into the same log groups
	// (logs only); without it such a template is refused, because one sender
	// could then write into another sender's groups.
	SharedGroup bool `json:"sharedGroup,omitempty"`
}

// Name is the target's short, stable name in summaries and metrics: the
// sink, then its non-default settings, e.g. "s3", "s3:apps",
// "firehose:siem", "logs:eu-west-1:/security/{owner}/{logGroup}"
// (SharedGroup, a permission rather than a destination, is not part of it).
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
		return fmt.Errorf("a target is a sink name or an object with sink, prefix, stream, region, groupTemplate, streamTemplate, sharedGroup: %w", err)
	}
	*t = Target(p)
	return nil
}

// Match selects records; every given field must match, and within a field
// any pattern may. An empty Match matches everything.
type Match struct {
	// Owners are 12-digit AWS account IDs.
	Owners []string `json:"owners,omitempty"`
	// Regions are the regions the events were logged in, as their
	// "@aws.region" system field says; a record whose payload does not say
	// matches no region.
	Regions []string `json:"regions,omitempty"`
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

// Table is a parsed, validated route table, safe for concurrent use. Its
// last route, and no other, has no match, so every record matches a route.
type Table struct {
	routes   []Route
	compiled []compiled
	// targets are the distinct targets of each sink kind, in order of first appearance.
	targets map[string][]Target
	// routeTargets[kind][route] are indexes into targets[kind].
	routeTargets map[string][][]int
}

type compiled struct {
	owners, regions []string
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

// Defaults are what the settings a target leaves out resolve to: each
// sink's default target, as that sink's function (LOGFAN_S3_PREFIX,
// LOGFAN_FIREHOSE_STREAM, LOGFAN_LOGS_*) or the stack configures it. An
// empty field is not known where the table is parsed (a function knows only
// its own sink's defaults), and targets leaving it out are then compared as
// written.
type Defaults struct {
	// S3Prefix is the S3 sink's default key prefix.
	S3Prefix string
	// FirehoseStream is the Firehose sink's default stream name.
	FirehoseStream string
	// LogsRegion is the logs sink's default region.
	LogsRegion string
	// LogsGroupTemplate is the logs sink's default log-group template.
	LogsGroupTemplate string
	// LogsStreamTemplate is the logs sink's default log-stream template.
	LogsStreamTemplate string
}

// Resolve returns t with the settings it leaves out taken from d.
func (d Defaults) Resolve(t Target) Target {
	def := func(v *string, x string) {
		if *v == "" {
			*v = x
		}
	}
	switch t.Sink {
	case SinkS3:
		def(&t.Prefix, strings.Trim(d.S3Prefix, "/"))
	case SinkFirehose:
		def(&t.Stream, d.FirehoseStream)
	case SinkLogs:
		def(&t.Region, d.LogsRegion)
		def(&t.GroupTemplate, d.LogsGroupTemplate)
		def(&t.StreamTemplate, d.LogsStreamTemplate)
	}
	return t
}

// Options are what the parser checks beyond the table's own text.
type Options struct {
	// Defaults resolve targets before they are compared, so that two
	// targets spelled differently but writing to the same place (plain "s3"
	// and {"sink": "s3", "prefix": "logs"} when the default prefix is logs)
	// are refused.
	Defaults Defaults
	// CheckTarget, if set, reports what else is wrong with a target, given
	// as written and resolved with Defaults. It is called once per distinct
	// target; its error is reported with the first route naming the target.
	CheckTarget func(t, resolved Target) error
}

// Parse reads a route table and reports every problem in one error.
func Parse(data []byte) (*Table, error) { return ParseWith(data, Options{}) }

// ParseWith is Parse with the further checks of o.
func ParseWith(data []byte, o Options) (*Table, error) {
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
	return NewWith(rs, o)
}

// New validates routes and builds their Table; every problem is reported in one error.
func New(rs []Route) (*Table, error) { return NewWith(rs, Options{}) }

// firstUse is a target and the route that names it first.
type firstUse struct {
	route  int
	target Target
}

// NewWith is New with the further checks of o.
func NewWith(rs []Route, o Options) (*Table, error) {
	b := &tableBuilder{
		t:  &Table{routes: rs, targets: map[string][]Target{}, routeTargets: map[string][][]int{}},
		rs: rs, o: o, names: map[string]int{}, byName: map[string]firstUse{}, byDest: map[Target]firstUse{}, catchAll: -1,
	}
	for _, kind := range []string{SinkS3, SinkFirehose, SinkLogs} {
		b.t.routeTargets[kind] = make([][]int, len(rs))
	}
	for i := range rs {
		b.checkName(i)
		b.t.compiled = append(b.t.compiled, b.compileMatch(i))
		b.addTargets(i)
	}
	if b.catchAll < 0 {
		b.errs = append(b.errs, errors.New(missingCatchAll(rs)))
	}
	if len(b.errs) > 0 {
		return nil, fmt.Errorf("routes: %w", errors.Join(b.errs...))
	}
	return b.t, nil
}

// tableBuilder is one NewWith call's state: the table built route by
// route, and every problem found, each naming its route.
type tableBuilder struct {
	t    *Table
	rs   []Route
	o    Options
	errs []error
	// names maps each route name to its route's index.
	names map[string]int
	// byName holds every distinct target by name, byDest by where it
	// resolves to: two names for one destination are refused.
	byName map[string]firstUse
	byDest map[Target]firstUse
	// catchAll is the first route without a match (-1: none yet).
	catchAll int
}

// bad records a problem of route i.
func (b *tableBuilder) bad(i int, format string, a ...any) {
	b.errs = append(b.errs, fmt.Errorf("route %d (%q): %s", i+1, b.rs[i].Name, fmt.Sprintf(format, a...)))
}

// checkName checks route i's name, unique, and that an earlier route
// without a match does not take all its events.
func (b *tableBuilder) checkName(i int) {
	r := &b.rs[i]
	if !routeName.MatchString(r.Name) {
		b.bad(i, "name must be 1-64 letters, digits, '_', '-' or '.'")
	} else if j, dup := b.names[r.Name]; dup {
		b.bad(i, "same name as route %d", j+1)
	} else {
		b.names[r.Name] = i
	}
	if b.catchAll >= 0 {
		b.bad(i, "is never reached: route %d (%q) before it has no match and takes every event; give that route a match, or move it last",
			b.catchAll+1, b.rs[b.catchAll].Name)
	}
}

// compileMatch checks and compiles route i's match; a route without one
// is the catch-all.
func (b *tableBuilder) compileMatch(i int) compiled {
	var c compiled
	m := b.rs[i].Match
	if m == nil {
		if b.catchAll < 0 {
			b.catchAll = i
		}
		return c
	}
	if len(m.Owners)+len(m.Regions)+len(m.LogGroups)+len(m.LogStreams) == 0 {
		b.bad(i, "match has no owners, regions, logGroups or logStreams (leave match out to match everything)")
	}
	for _, o := range m.Owners {
		if !accountID.MatchString(o) {
			b.bad(i, "owner %q is not a 12-digit account ID", o)
		}
	}
	for _, r := range m.Regions {
		if err := awsregion.Check(r); err != nil {
			b.bad(i, "regions: %v", err)
		}
	}
	c.owners, c.regions = m.Owners, m.Regions
	c.groups = compilePatterns(m.LogGroups, checkGroupPattern, func(p string, err error) { b.bad(i, "logGroups pattern %q: %v", p, err) })
	c.streams = compilePatterns(m.LogStreams, checkStreamPattern, func(p string, err error) { b.bad(i, "logStreams pattern %q: %v", p, err) })
	return c
}

// addTargets checks route i's targets and adds them to the table: each
// once in the route, the same wherever it is named, and no two names for
// one destination.
func (b *tableBuilder) addTargets(i int) {
	r := &b.rs[i]
	seen := map[string]bool{}
	for k := range r.To {
		tg := &r.To[k]
		tg.Prefix = strings.Trim(tg.Prefix, "/")
		if err := checkTarget(tg); err != nil {
			b.bad(i, "target %d: %v", k+1, err)
			continue
		}
		name := tg.Name()
		if seen[name] {
			b.bad(i, "target %s is listed twice", name)
			continue
		}
		seen[name] = true
		if f, known := b.byName[name]; known {
			if f.target != *tg {
				b.bad(i, "target %s: sharedGroup is %t here but %t in route %d (%q): set it the same way in every route naming this target",
					name, tg.SharedGroup, f.target.SharedGroup, f.route+1, b.rs[f.route].Name)
				continue
			}
		} else if !b.recordTarget(i, name, tg) {
			continue
		}
		b.t.routeTargets[tg.Sink][i] = append(b.t.routeTargets[tg.Sink][i], b.t.targetIndex(*tg))
	}
}

// recordTarget records target tg, first named by route i, and reports whether
// it may be added: it passes Options.CheckTarget (a failure is reported,
// the target still added) and resolves to a destination no other name
// does.
func (b *tableBuilder) recordTarget(i int, name string, tg *Target) bool {
	b.byName[name] = firstUse{i, *tg}
	resolved := b.o.Defaults.Resolve(*tg)
	if b.o.CheckTarget != nil {
		if err := b.o.CheckTarget(*tg, resolved); err != nil {
			b.bad(i, "target %s: %v", name, err)
		}
	}
	resolved.SharedGroup = false
	if f, alias := b.byDest[resolved]; alias {
		b.bad(i, "%s", aliasProblem(b.rs, i, *tg, f, resolved, b.o.Defaults))
		return false
	}
	b.byDest[resolved] = firstUse{i, *tg}
	return true
}

// compilePatterns checks and compiles a match field's patterns, reporting
// each bad one to bad.
func compilePatterns(pats []string, check func(string) error, bad func(string, error)) []*glob {
	var out []*glob
	for _, p := range pats {
		err := check(p)
		var g *glob
		if err == nil {
			g, err = compileGlob(p)
		}
		if err != nil {
			bad(p, err)
			continue
		}
		out = append(out, g)
	}
	return out
}

// groupChars says what CloudWatch Logs allows in a log group name
// (CreateLogGroup's pattern [\.\-_/#A-Za-z0-9]+).
const groupChars = "a-z A-Z 0-9 _ - / . #"

func isGroupChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-/.#", c)
}

// checkGroupPattern refuses a log-group pattern that can never match a log
// group name: one with a character CloudWatch Logs does not allow in the
// names, such as glob syntax this matcher does not have.
func checkGroupPattern(p string) error {
	for _, c := range p {
		if c == '*' || isGroupChar(c) {
			continue
		}
		what, fix := fmt.Sprintf("%q", c), "; remove it"
		switch c {
		case '?':
			fix = "; '?' is not a wildcard here: use '*' (any characters within a '/'-separated segment)"
		case '{', '}', ',':
			fix = "; there is no {a,b} alternation here: list one pattern per alternative"
		case '[', ']':
			fix = "; there are no [...] character classes here: use '*', or one pattern per name"
		case ' ':
			what = "a space"
		}
		return fmt.Errorf("%s cannot be in a log group name (CloudWatch Logs allows %s), so the pattern would never match%s", what, groupChars, fix)
	}
	return nil
}

// checkStreamPattern refuses a log-stream pattern that can never match a
// log stream name: CloudWatch Logs allows any character but ':' and '*' in
// them ('*' is the wildcard here).
func checkStreamPattern(p string) error {
	if strings.ContainsRune(p, ':') {
		return errors.New("':' cannot be in a log stream name (CloudWatch Logs allows any character but ':' and '*'), so the pattern would never match; remove it")
	}
	return nil
}

// missingCatchAll is the error of a table that does not end with a route
// without match, with the line to add.
func missingCatchAll(rs []Route) string {
	name := "rest"
	for n := 2; slices.ContainsFunc(rs, func(r Route) bool { return r.Name == name }); n++ {
		name = fmt.Sprintf("rest-%d", n)
	}
	keep := SinkS3
	for _, r := range rs {
		if len(r.To) > 0 {
			keep = r.To[0].Sink
			break
		}
	}
	why := "the table is empty, so every event would be dropped without a word"
	if len(rs) > 0 {
		why = fmt.Sprintf("its last route, %d (%q), has a match, so an event no route matches would be dropped without a word", len(rs), rs[len(rs)-1].Name)
	}
	return fmt.Sprintf(`the table must end with a route without "match" (a catch-all): %s; add {"name": %q, "to": []} as the last route to drop the rest on purpose, or {"name": %q, "to": [%q]} to keep it`,
		why, name, name, keep)
}

// aliasProblem explains why target tg of route i, which resolves to where
// prev's target already goes, is refused, and what to write instead.
func aliasProblem(rs []Route, i int, tg Target, prev firstUse, dest Target, d Defaults) string {
	var where, twice, parallel string
	switch dest.Sink {
	case SinkS3:
		where = "write under S3 prefix " + dest.Prefix + "/"
		twice = "every event of the route would be written twice to the same object keys"
		parallel = "the two targets would write the same object keys in parallel and overwrite each other's objects"
	case SinkFirehose:
		where = "deliver to Firehose stream " + dest.Stream
		twice = "every event of the route would be delivered twice"
		parallel = "the same stream would be counted, retried and quarantined under two names"
	default:
		where = fmt.Sprintf("put into log groups %s, streams %s, in %s", dest.GroupTemplate, dest.StreamTemplate, dest.Region)
		twice = "every event of the route would be put twice into the same log streams"
		parallel = "the same log streams would be counted, retried and quarantined under two names"
	}
	var notes []string
	for _, t := range []Target{prev.target, tg} {
		if used := defaultsUsed(t, d); used != "" {
			notes = append(notes, t.Name()+" takes the default "+used)
		}
	}
	note := ""
	if len(notes) > 0 {
		note = " (" + strings.Join(notes, "; ") + ")"
	}
	if prev.route == i {
		return fmt.Sprintf("targets %s and %s both %s%s: %s; keep one of them", prev.target.Name(), tg.Name(), where, note, twice)
	}
	return fmt.Sprintf("target %s would %s, as target %s of route %d (%q) does%s: %s; write the target the same way in both routes",
		tg.Name(), where, prev.target.Name(), prev.route+1, rs[prev.route].Name, note, parallel)
}

// defaultsUsed names the settings t leaves out and their defaults in d.
func defaultsUsed(t Target, d Defaults) string {
	var used []string
	add := func(field, v, def string) {
		if v == "" && def != "" {
			used = append(used, field+" "+def)
		}
	}
	switch t.Sink {
	case SinkS3:
		add("prefix", t.Prefix, strings.Trim(d.S3Prefix, "/"))
	case SinkFirehose:
		add("stream", t.Stream, d.FirehoseStream)
	case SinkLogs:
		add("region", t.Region, d.LogsRegion)
		add("groupTemplate", t.GroupTemplate, d.LogsGroupTemplate)
		add("streamTemplate", t.StreamTemplate, d.LogsStreamTemplate)
	}
	return strings.Join(used, ", ")
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
	if t.SharedGroup && t.Sink != SinkLogs {
		errs = append(errs, fmt.Errorf("sharedGroup is a %s setting, not %s", SinkLogs, t.Sink))
	}
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

// Record is what a route matches a record by: its owner, the region its
// events were logged in ("" when the payload does not say), its log group
// and log stream.
type Record struct {
	Owner, Region, LogGroup, LogStream string
}

// Match returns the index of the first route matching a record. A table
// New accepted always has one (its last route matches everything); -1, no
// route, is left for a zero Table.
func (t *Table) Match(r Record) int {
	for i := range t.compiled {
		if t.compiled[i].match(&r) {
			return i
		}
	}
	return -1
}

func (c *compiled) match(r *Record) bool {
	owner, logGroup, logStream := r.Owner, r.LogGroup, r.LogStream
	if len(c.owners) > 0 && !slices.Contains(c.owners, owner) {
		return false
	}
	if len(c.regions) > 0 && !slices.Contains(c.regions, r.Region) {
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
