package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/logfan/logfan/internal/devkit/localenv"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/devkit/poller"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/internal/ops/quarantined"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/routes"
)

// RoutedLogsRegion is the second CloudWatch Logs region of the demo's routes.
const RoutedLogsRegion = "eu-central-1"

// Routes is the demo's route table (`logfan demo -routes`) for the
// resources named n. It exercises every case over the demo's sender
// groups: CloudTrail to six targets (two S3 prefixes, two Firehose streams,
// two Logs regions), flow logs dropped on purpose, the orders function's
// logs to a second S3 prefix and Firehose, the payments function's logs to
// the default Logs target, and the rest dropped on purpose by the catch-all.
func Routes(n localenv.Names) string {
	return fmt.Sprintf(`[
  {"name": "security", "match": {"logGroups": ["/demo/cloudtrail"]},
   "to": ["s3", {"sink": "s3", "prefix": "security"}, "firehose", {"sink": "firehose", "stream": %q},
          "logs", {"sink": "logs", "region": %q, "groupTemplate": "/security/{owner}/{logGroup}"}]},
  {"name": "flows", "match": {"logGroups": ["/demo/vpc/**"]}, "to": []},
  {"name": "orders", "match": {"logGroups": ["/aws/lambda/orders"], "logStreams": ["*/*/*/[$LATEST]*"]},
   "to": [{"sink": "s3", "prefix": "apps"}, "firehose"]},
  {"name": "payments", "match": {"logGroups": ["/aws/lambda/payments"]}, "to": ["logs"]},
  {"name": "rest", "to": []}
]`, SIEMStream(n), RoutedLogsRegion)
}

// RouteDefaults are the defaults the demo's functions resolve route
// targets against: every sink's, as Env sets them.
func RouteDefaults(n localenv.Names) routes.Defaults {
	s3, fh, logs := n.Env(config.SinkS3), n.Env(config.SinkFirehose), n.Env(config.SinkLogs)
	return routes.Defaults{
		S3Prefix:           s3[config.EnvS3Prefix],
		FirehoseStream:     fh[config.EnvFirehoseStream],
		LogsRegion:         logs[config.EnvLogsRegion],
		LogsGroupTemplate:  logs[config.EnvLogsGroupTemplate],
		LogsStreamTemplate: logs[config.EnvLogsStreamTemplate],
	}
}

// SIEMStream is the routes' second Firehose stream.
func SIEMStream(n localenv.Names) string { return n.FirehoseStream + "-siem" }

// routedFirehosePrefix is where a route's Firehose stream writes in the
// Firehose bucket: under its own name.
func routedFirehosePrefix(stream string) string { return stream }

// routed is the routed part of a demo run: the table and, per target, how
// to read back what landed.
type routed struct {
	text  string
	table *routes.Table
	// targets are the table's targets of the sinks run, in sink then table order.
	targets []routedTarget
}

type routedTarget struct {
	sink, name string
	readBack   func(ctx context.Context) ([]string, error)
	cfg        *config.Config // the target's sink configuration, for its quarantine
}

// setupRoutes parses the demo's table and creates what it needs beyond the
// default resources: each route's Firehose stream (S3 prefixes and Logs
// regions need nothing created ahead).
func setupRoutes(ctx context.Context, c *localenv.Clients, rec *localenv.Recipient, n localenv.Names) (*routed, error) {
	text := Routes(n)
	table, err := config.ParseRoutes([]byte(text), RouteDefaults(n))
	if err != nil {
		return nil, fmt.Errorf("the demo's routes: %w", err)
	}
	for _, t := range table.Targets(routes.SinkFirehose) {
		if t.Stream == "" {
			continue
		}
		if err := localenv.CreateFirehoseStream(ctx, c, rec.RoleARN, t.Stream, n.FirehoseBucket, routedFirehosePrefix(t.Stream)); err != nil {
			return nil, err
		}
	}
	return &routed{text: text, table: table}, nil
}

// sinkTargets builds the sinks' handlers with the routes in their
// environment, as the stack sets LOGFAN_ROUTES, and records a read-back for
// each of their route targets in rt.targets (a routed run reconciles
// targets, not sinks, so the sinks' own ReadBack is never called).
func (rt *routed) sinkTargets(ctx context.Context, c *localenv.Clients, n localenv.Names, sinks []string) ([]Target, error) {
	var out []Target
	for _, s := range sinks {
		if s != config.SinkS3 && s != config.SinkFirehose && s != config.SinkLogs {
			return nil, fmt.Errorf("-routes runs the AWS sinks (s3, firehose, logs), not %q", s)
		}
		env := n.Env(s)
		env[config.EnvRoutes] = rt.text
		cfg, err := config.Load(s, func(k string) string { return env[k] })
		if err != nil {
			return nil, err
		}
		out = append(out, Target{Sink: s, NewHandler: func(ctx context.Context, d app.Deps) (poller.Invoker, error) {
			return anysink.NewHandler(ctx, cfg, d, nil)
		}, ReadBack: func(context.Context) ([]string, error) { return nil, nil }})
		for _, t := range rt.table.Targets(s) {
			tc := cfg.ForTarget(t)
			target := routedTarget{sink: s, name: t.Name(), cfg: tc}
			switch s {
			case config.SinkS3:
				target.readBack = func(ctx context.Context) ([]string, error) {
					return s3Messages(ctx, c, tc.S3.Bucket, tc.S3.Prefix+"/")
				}
			case config.SinkFirehose:
				prefix := localenv.FirehosePrefix
				if t.Stream != "" {
					prefix = routedFirehosePrefix(t.Stream)
				}
				target.readBack = func(ctx context.Context) ([]string, error) {
					return s3Messages(ctx, c, n.FirehoseBucket, prefix+"/")
				}
			case config.SinkLogs:
				client := c.LogsTarget
				if tc.Logs.Region != localenv.LogsRegion {
					awsCfg, err := sdkconfig.Load(ctx, tc.Logs.Region)
					if err != nil {
						return nil, err
					}
					client = cloudwatchlogs.NewFromConfig(awsCfg)
				}
				prefix, _, _ := strings.Cut(tc.Logs.GroupTemplate, "{")
				target.readBack = func(ctx context.Context) ([]string, error) {
					evs, err := readback.LogEvents(ctx, client, prefix)
					if err != nil {
						return nil, fmt.Errorf("read back %s groups in %s: %w", prefix, tc.Logs.Region, err)
					}
					msgs := make([]string, len(evs))
					for i, e := range evs {
						msgs[i] = e.Message
					}
					return msgs, nil
				}
			}
			rt.targets = append(rt.targets, target)
		}
	}
	return out, nil
}

// RouteRow reconciles one route's events in one target: every event the
// route owes the target landed, is quarantined, parked in the on-failure
// destination, or lost.
type RouteRow struct {
	Route, Target string
	// Sink is the target's sink kind.
	Sink string
	// Owed counts the events of the route, each owed once to the target.
	Owed, Landed, Duplicates, Missing, Quarantined, OnFailure, Lost int
}

// reconcile reads back every target and compares it with what the table
// owes it of the sent events. parked holds, per sink, the events of records
// its mapping gave to the on-failure destination.
func (rt *routed) reconcile(ctx context.Context, c *localenv.Clients, rep *Report, owner string, parked map[string]map[int]bool) error {
	sent := rep.Sent
	route := make([]int, sent.Events) // each event's route, -1 for none
	for _, s := range sent.Sources {
		o := s.Owner
		if o == "" {
			o = owner
		}
		r := rt.table.Match(routes.Record{Owner: o, Region: s.Region, LogGroup: s.Group, LogStream: s.Stream})
		for k := s.First; k < s.First+s.N; k++ {
			route[k] = r
		}
	}
	rs := rt.table.Routes()
	for _, r := range route {
		if r < 0 || len(rs[r].To) == 0 {
			rep.Dropped++
		}
	}
	quarantinedBy, err := quarantinedByTarget(ctx, c, rt.targets, rep.Run, sent.Events)
	if err != nil {
		return err
	}
	for _, t := range rt.targets {
		landed, err := t.readBack(ctx)
		if err != nil {
			return err
		}
		seen := make([]int, sent.Events)
		rep.HeartbeatsDelivered += countHeartbeats(landed)
		for _, msg := range landed {
			if run, n, ok := parseKey(msg); ok && run == rep.Run && n >= 0 && n < sent.Events {
				seen[n]++
			}
		}
		rows := map[int]*RouteRow{}
		for n, r := range route {
			owed := r >= 0 && routeHas(rs[r], t.name)
			if !owed {
				if seen[n] > 0 {
					rep.Misrouted += seen[n]
				}
				continue
			}
			row := rows[r]
			if row == nil {
				row = &RouteRow{Route: rs[r].Name, Target: t.name, Sink: t.sink}
				rows[r] = row
			}
			row.Owed++
			switch {
			case seen[n] > 0:
				row.Landed++
				row.Duplicates += seen[n] - 1
			case quarantinedBy[t.name][n]:
				row.Missing++
				row.Quarantined++
			case parked[t.sink][n]:
				row.Missing++
				row.OnFailure++
			default:
				row.Missing++
				row.Lost++
			}
		}
		for r := range rs {
			if row := rows[r]; row != nil {
				rep.Routes = append(rep.Routes, *row)
			}
		}
	}
	return nil
}

func routeHas(r routes.Route, target string) bool {
	for _, t := range r.To {
		if t.Name() == target {
			return true
		}
	}
	return false
}

// quarantinedByTarget reads the quarantine of each sink once and returns,
// per target name, the numbers of this run's events quarantined for it.
func quarantinedByTarget(ctx context.Context, c *localenv.Clients, targets []routedTarget, run string, sent int) (map[string]map[int]bool, error) {
	out := map[string]map[int]bool{}
	done := map[string]bool{}
	for _, t := range targets {
		loc := t.cfg.Quarantine.Bucket + "/" + t.cfg.Quarantine.Prefix
		if done[loc] {
			continue
		}
		done[loc] = true
		items, err := quarantined.List(ctx, c.S3, t.cfg.Quarantine.Bucket, t.cfg.Quarantine.Prefix+"/event/")
		if err != nil {
			return nil, fmt.Errorf("read back the quarantine: %w", err)
		}
		for _, it := range items {
			if it.Entry.Kind != quarantine.KindEvent {
				continue
			}
			r, err := readback.ParseLine(it.Entry.Data)
			if err != nil {
				return nil, fmt.Errorf("quarantined event %s: %w", it.Key, err)
			}
			if got, n, ok := parseKey(r.Message); ok && got == run && n >= 0 && n < sent {
				if out[it.Entry.Target] == nil {
					out[it.Entry.Target] = map[int]bool{}
				}
				out[it.Entry.Target][n] = true
			}
		}
	}
	return out, nil
}

// routedSummary is the routed demo's last line: `demo: sent N events; s3 A,
// firehose B, logs C; dropped D; lost L`, where a sink's count is the
// deliveries its routes owed it that landed (one per target).
func (r *Report) routedSummary() string {
	landed := map[string]int{}
	var order []string
	for _, row := range r.Routes {
		if _, ok := landed[row.Sink]; !ok {
			order = append(order, row.Sink)
		}
		landed[row.Sink] += row.Landed
	}
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = fmt.Sprintf("%s %d", s, landed[s])
	}
	sent := 0
	if r.Sent != nil {
		sent = r.Sent.Events
	}
	return fmt.Sprintf("demo: sent %d events; %s; dropped %d; lost %d", sent, strings.Join(parts, ", "), r.Dropped, r.Lost()) + r.faultsSummary() + r.sendersSummary()
}

// writeRoutedTable prints the reconciliation per route and target.
func (r *Report) writeRoutedTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "route\ttarget\towed\tlanded\tduplicates\tmissing\tquarantined\ton-failure\tlost\t")
	for _, s := range r.Routes {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s.Route, s.Target, s.Owed, s.Landed, s.Duplicates, s.Missing, s.Quarantined, s.OnFailure, s.Lost)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "dropped on purpose (no route, or a route to nothing): %d events\n", r.Dropped)
	if r.Misrouted > 0 {
		fmt.Fprintf(w, "MISROUTED: %d events landed in a target their route does not name\n", r.Misrouted)
	}
	for _, s := range r.Sinks {
		if s.PoisonRecords > 0 {
			fmt.Fprintf(w, "%s: %d undecodable records were quarantined (their events count as lost here)\n", s.Sink, s.PoisonRecords)
		}
	}
	r.writeFaults(w)
}

// routedLost totals the lost events over the routes' targets.
func (r *Report) routedLost() int {
	n := 0
	for _, row := range r.Routes {
		n += row.Lost
	}
	return n
}
