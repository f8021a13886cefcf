// Package routes is `logfan routes`: a dry run of a route table over the
// records of Lambda event files, printing where each log event would go
// before the table is deployed.
package routes

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/logfan/logfan/internal/cli/cliflag"
	"github.com/logfan/logfan/internal/cli/usage"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/jsonstr"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/subscription"
)

// Run is `logfan routes`: one NDJSON line per log event on stdout, then a
// summary table per route and target on stderr, and a warning per route
// that matched none of the events. It fails when the table is refused (as
// the functions and synth refuse it), when an event matches no route (which
// an accepted table, ending with a catch-all, rules out), and with -strict
// when a route other than the catch-all matched no event.
func Run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	c := NewCounts(f.table)
	c.hub = f.hub
	for _, file := range f.files {
		if err := c.check(out, stderr, file); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if err := c.WriteTable(stderr); err != nil {
		return err
	}
	return c.verdict(stderr, f.strict)
}

// flags are `logfan routes`' flags, checked, with the route table parsed.
type flags struct {
	table  *routes.Table
	files  []string // the -event files, folders and globs, expanded
	strict bool
	hub    string
}

// routesUsage is what -h prints above the flags.
const routesUsage = `usage: logfan routes -routes FILE|@FILE|JSON -event FILE|DIR|GLOB [-event ...] [-strict] [-s3-prefix P] [-firehose-stream S] [-logs-region R] ...

Prints, for each log event, its owner, log group, log stream, id, the route it
matches and that route's targets (NDJSON on stdout), then events per route and target,
and warns about each route that matches none of the events. Exits 1 when the table is
refused (as the functions and synth refuse it, targets resolved against the defaults
below) or an event matches no route; with -strict, also when a route matches no event.
`

// parseFlags parses the flags and the route table (its targets resolved
// against the defaults the flags give); a bad one is a usage error.
func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	fs := usage.NewFlagSet("routes", stderr, routesUsage)
	routesArg := fs.String("routes", "", cliflag.RoutesUsage)
	var events cliflag.Events
	fs.Var(&events, "event", cliflag.EventUsage)
	strict := fs.Bool("strict", false, "also fail when a route (other than the last, the catch-all) matches none of the events")
	hub := fs.String("hub-account", os.Getenv(config.EnvHubAccount), "the recipient's own account (the stack's; default $"+config.EnvHubAccount+"): its payloads' events are routed by the source account they name, as the functions do")
	var d routes.Defaults
	fs.StringVar(&d.S3Prefix, "s3-prefix", config.DefaultS3Prefix, "the S3 sink's default prefix (the stack's s3Prefix), which plain \"s3\" resolves to")
	fs.StringVar(&d.FirehoseStream, "firehose-stream", "", "the Firehose sink's default stream name, which plain \"firehose\" resolves to (unset: not compared)")
	fs.StringVar(&d.LogsRegion, "logs-region", "", "the logs sink's default region (the stack's logsRegion; unset: not compared)")
	fs.StringVar(&d.LogsGroupTemplate, "logs-group-template", config.DefaultLogsGroupTemplate, "the logs sink's default log-group template (the stack's logsGroupTemplate)")
	fs.StringVar(&d.LogsStreamTemplate, "logs-stream-template", config.DefaultLogsStreamTemplate, "the logs sink's default log-stream template (the stack's logsStreamTemplate)")
	if err := cliflag.Parse(fs, args, &events); err != nil {
		return nil, err
	}
	if *routesArg == "" {
		return nil, usage.Errorf("-routes is required: the %s", cliflag.RoutesUsage)
	}
	rt, err := cliflag.ReadRoutes(*routesArg)
	if err != nil {
		return nil, err
	}
	table, err := rt.Parse(d)
	if err != nil {
		return nil, err
	}
	files, err := events.Files(stderr)
	if err != nil {
		return nil, err
	}
	if *hub != "" {
		if err := config.CheckAccount(*hub); err != nil {
			return nil, usage.Errorf("-hub-account %q: %w", *hub, err)
		}
	}
	return &flags{table: table, files: files, strict: *strict, hub: *hub}, nil
}

// verdict warns about each route that matched none of the events, and
// fails when an event matched no route or, with strict, a route matched
// no event.
func (c *Counts) verdict(stderr io.Writer, strict bool) error {
	idle := c.Idle()
	total := c.Total()
	for _, r := range idle {
		fmt.Fprintf(stderr, "warning: route %d (%q) matches none of the %d log events given: check its match, or add events it should match\n",
			r+1, c.table.Routes()[r].Name, total)
	}
	if n := c.Events[len(c.Events)-1]; n > 0 {
		return fmt.Errorf("%d log events match no route and would be dropped without a word", n)
	}
	if strict && len(idle) > 0 {
		return fmt.Errorf("-strict: %d routes match none of the %d log events given", len(idle), total)
	}
	return nil
}

// check prints the route of every log event of one event file.
func (c *Counts) check(out *bufio.Writer, stderr io.Writer, file string) error {
	payload, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	inv, err := invocation.Parse(payload)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	datas := [][]byte{inv.AWSLogsData}
	names := []string{"awslogs.data"}
	if !inv.IsAWSLogs {
		datas, names = datas[:0], names[:0]
		for i := range inv.Records {
			datas = append(datas, inv.Records[i].Data)
			names = append(names, "record "+inv.Records[i].SequenceNumber)
		}
	}
	dec := subscription.NewDecoder(0)
	var line []byte
	for i, d := range datas {
		m, err := dec.Decode(d)
		if err != nil {
			// The handler would quarantine it: say so, and go on.
			c.Poison++
			fmt.Fprintf(stderr, "%s: %s: undecodable, the handler would quarantine it: %v\n", file, names[i], err)
			continue
		}
		if m.IsControl() {
			c.ControlMessages++
			continue
		}
		// Split and attributed as the handler does.
		parts := subscription.Split(m)
		if parts == nil {
			parts = []subscription.Part{{Message: m}}
		}
		for _, p := range parts {
			pm := p.Message
			subscription.Attribute(pm, c.hub)
			route := c.Add(routes.Record{Owner: pm.Owner, Region: pm.Region, LogGroup: pm.LogGroup, LogStream: pm.LogStream}, len(pm.LogEvents))
			for j := range pm.LogEvents {
				line = c.appendLine(line[:0], pm, &pm.LogEvents[j], route)
				if _, err := out.Write(line); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// appendLine appends the NDJSON line of one event routed to route.
func (c *Counts) appendLine(dst []byte, m *subscription.Message, ev *subscription.LogEvent, route int) []byte {
	str := func(s string) { dst = jsonstr.Append(dst, s, jsonstr.Valid) }
	dst = append(dst, `{"owner":`...)
	str(m.Owner)
	dst = append(dst, `,"logGroup":`...)
	str(m.LogGroup)
	dst = append(dst, `,"logStream":`...)
	str(m.LogStream)
	if m.Region != "" {
		dst = append(dst, `,"region":`...)
		str(m.Region)
	}
	dst = append(dst, `,"id":`...)
	str(ev.ID)
	dst = append(dst, `,"route":`...)
	str(c.RouteName(route))
	dst = append(dst, `,"targets":[`...)
	if route >= 0 {
		for k, t := range c.table.Routes()[route].To {
			if k > 0 {
				dst = append(dst, ',')
			}
			str(t.Name())
		}
	}
	return append(dst, "]}\n"...)
}

// Counts tallies log events per route of a table, and what each target is owed.
type Counts struct {
	table *routes.Table
	hub   string // the account whose payloads name their events' source (subscription.Attribute)
	// Events counts events per route; the last slot counts the unmatched.
	Events []int
	// Poison and ControlMessages count records that carry no routable events.
	Poison, ControlMessages int
}

// NewCounts returns empty counts for table.
func NewCounts(table *routes.Table) *Counts {
	return &Counts{table: table, Events: make([]int, len(table.Routes())+1)}
}

// Add counts n events of one record and returns the route they match (-1: none).
func (c *Counts) Add(rec routes.Record, n int) int {
	r := c.table.Match(rec)
	c.Events[c.slot(r)] += n
	return r
}

func (c *Counts) slot(route int) int {
	if route < 0 {
		return len(c.Events) - 1
	}
	return route
}

// RouteName names route, or consumer.Unmatched for -1.
func (c *Counts) RouteName(route int) string {
	if route < 0 {
		return consumer.Unmatched
	}
	return c.table.Routes()[route].Name
}

// Row is one line of the summary: a route's events owed to one target, or
// the events it drops (Target "").
type Row struct {
	Route, Target string
	// Sink is the target's sink kind ("" for drops).
	Sink   string
	Events int
}

// Rows lists, in table order, each route's events per target, and the
// events dropped by routes without targets and (if any) by no route at all.
func (c *Counts) Rows() []Row {
	var rows []Row
	rs := c.table.Routes()
	for r := range c.Events {
		n := c.Events[r]
		if r == len(rs) {
			if n > 0 { // an accepted table ends with a catch-all: never, but say so if it happens
				rows = append(rows, Row{Route: consumer.Unmatched, Events: n})
			}
			continue
		}
		if len(rs[r].To) == 0 {
			rows = append(rows, Row{Route: rs[r].Name, Events: n})
			continue
		}
		for _, t := range rs[r].To {
			rows = append(rows, Row{Route: rs[r].Name, Target: t.Name(), Sink: t.Sink, Events: n})
		}
	}
	return rows
}

// Owed sums the deliveries each sink kind is owed (events × targets of that kind).
func (c *Counts) Owed() map[string]int {
	owed := map[string]int{}
	for _, r := range c.Rows() {
		if r.Sink != "" {
			owed[r.Sink] += r.Events
		}
	}
	return owed
}

// Dropped counts the events no target gets: routes with `to: []` and no match.
func (c *Counts) Dropped() int {
	n := 0
	for _, r := range c.Rows() {
		if r.Target == "" {
			n += r.Events
		}
	}
	return n
}

// Total counts the log events of every route, and of none.
func (c *Counts) Total() int {
	n := 0
	for _, e := range c.Events {
		n += e
	}
	return n
}

// Idle lists the routes that matched no event, but the last: the catch-all
// matching nothing only means the routes above it took every event.
func (c *Counts) Idle() []int {
	var idle []int
	for r := 0; r < len(c.table.Routes())-1; r++ {
		if c.Events[r] == 0 {
			idle = append(idle, r)
		}
	}
	return idle
}

// WriteTable writes the summary: events per route and target, then totals.
func (c *Counts) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tTARGET\tEVENTS")
	total, deliveries := c.Total(), 0
	for _, r := range c.Rows() {
		target := r.Target
		if target == "" {
			target = "(dropped)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", r.Route, target, r.Events)
	}
	for _, n := range c.Owed() {
		deliveries += n
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "routes: %d events, %d deliveries, %d dropped, %d undecodable records, %d control messages\n",
		total, deliveries, c.Dropped(), c.Poison, c.ControlMessages)
	return err
}
