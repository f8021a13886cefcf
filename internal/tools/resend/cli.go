package resend

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/internal/tools/anysink"
	"github.com/logfan/logfan/internal/tools/cliflag"
	"github.com/logfan/logfan/internal/tools/clitime"
	"github.com/logfan/logfan/internal/tools/sdkconfig"
	"github.com/logfan/logfan/internal/tools/usage"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/routes"
)

// list is a flag that may be repeated and takes comma-separated values.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

func (l *list) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// targets is -to: repeatable, not split on commas (templates may hold none,
// but a target is one value).
type targets []string

func (t *targets) String() string     { return strings.Join(*t, " ") }
func (t *targets) Set(v string) error { *t = append(*t, strings.TrimSpace(v)); return nil }

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// RoutesDeployed is the -routes value that would read the deployed route
// table; finding it needs the stack lookup, which does not exist yet.
const RoutesDeployed = "deployed"

// Run is `logfan resend`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("resend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var owners, regions list
	var to targets
	fs.Var(&owners, "owner", "sender account IDs to select, comma-separated or repeated (default: every owner)")
	group := fs.String("log-group", "", "log groups to select, a route table's glob: '*' within a segment, '**' across (default: every group)")
	since := fs.String("since", "", "select events from this time: "+clitime.Want+" (default: the archive's start)")
	until := fs.String("until", "", "select events before this time, same forms (default: no end)")
	fs.Var(&regions, "source-region", "select events whose record carries one of these regions (@aws.region, sent by filters with emitSystemFields); events without it are then left out")
	fs.Var(&to, "to", "a target in the route-target syntax, repeatable: s3:PREFIX, firehose:STREAM, logs:REGION[:GROUP_TEMPLATE[:STREAM_TEMPLATE]]")
	routesFile := fs.String("routes", "", "route the events by this "+cliflag.RoutesUsage+", instead of -to (each of its targets gets what its routes send it)")
	bucket := fs.String("bucket", os.Getenv(config.EnvS3Bucket), "the archive's bucket, which s3 targets write to as well (default $"+config.EnvS3Bucket+")")
	prefix := fs.String("prefix", envOr(config.EnvS3Prefix, config.DefaultS3Prefix), "the archive's key prefix (default $"+config.EnvS3Prefix+" or "+config.DefaultS3Prefix+")")
	progressURL := fs.String("progress", "", "where progress records go, s3://BUCKET/PREFIX (default s3://$"+config.EnvQuarantineBucket+"/"+DefaultProgressPrefix+")")
	dry := fs.Bool("dry-run", false, "read and count what would be sent (objects, events, bytes per target); send nothing")
	maxMBps := fs.Float64("max-mbps", 0, "cap the log message bytes sent, in MB/s over all targets (default: no cap)")
	parallel := fs.Int("parallel", 4, "objects worked on at once")
	attempts := fs.Int("attempts", 5, "attempts per batch while a target keeps failing, before the target is given up for the run")
	timeout := fs.Duration("timeout", 120*time.Second, "each delivery's deadline, like the function timeout")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	verbose := fs.Bool("v", false, "print the handlers' JSON log lines and EMF metrics to stderr, and with -dry-run each object")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: logfan resend (-to TARGET ... | -routes FILE|@FILE|JSON) [-owner ID] [-log-group GLOB] [-since T] [-until T] [-dry-run] [-max-mbps N]")
		fmt.Fprintln(stderr, "\nSends archived events (the S3 sink's objects, NDJSON or Parquet) again to route targets, through")
		fmt.Fprintln(stderr, "the real sinks. Safe to run again: what reached a target is not sent to it twice, and an")
		fmt.Fprintln(stderr, "interrupted run continues where it stopped. Targets are configured by the LOGFAN_* variables,")
		fmt.Fprintln(stderr, "as the functions are. (-stack and -routes deployed wait for the stack lookup.)")
		fs.PrintDefaults()
	}
	if err := usage.Parse(fs, args); err != nil {
		return err
	}
	now := time.Now()
	o, err := parse(parseInput{
		owners: owners, group: *group, since: *since, until: *until, regions: regions, to: to, routesFile: *routesFile,
		bucket: *bucket, prefix: *prefix, progress: *progressURL, maxMBps: *maxMBps, parallel: *parallel, attempts: *attempts,
		timeout: *timeout, args: fs.Args(), getenv: os.Getenv, now: now,
	})
	if err != nil {
		return usage.Wrap(err)
	}
	awsCfg, err := sdkconfig.Load(ctx, "")
	if err != nil {
		return err
	}
	logOut := io.Discard
	if *verbose {
		logOut = stderr
	}
	for _, t := range o.targets {
		t.bind(awsCfg, logOut)
	}
	opts := Options{
		S3: awsclient.S3(awsCfg), Bucket: *bucket, Prefix: *prefix, Selection: o.sel, Targets: o.list(),
		ProgressBucket: o.progressBucket, ProgressPrefix: o.progressPrefix, DryRun: *dry, MaxMBps: *maxMBps,
		Parallel: *parallel, Attempts: *attempts, Timeout: *timeout, Progress: stderr,
	}
	if *dry && *verbose {
		opts.Objects = stdout
	}
	rep, err := opts.Run(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		WriteTable(stdout, rep)
	}
	return rep.Problem()
}

func envOr(k, def string) string {
	if v := strings.TrimSpace(os.Getenv(k)); v != "" {
		return v
	}
	return def
}

// parseInput is every flag, for parse.
type parseInput struct {
	owners, regions     []string
	to                  []string
	group, since, until string
	routesFile          string
	bucket, prefix      string
	progress            string
	maxMBps             float64
	parallel, attempts  int
	timeout             time.Duration
	args                []string
	getenv              func(string) string
	now                 time.Time
}

// parsed is what the flags ask for, checked.
type parsed struct {
	sel                            Selection
	targets                        []*cliTarget
	progressBucket, progressPrefix string
}

func (p *parsed) list() []*Target {
	out := make([]*Target, len(p.targets))
	for i, t := range p.targets {
		out[i] = &t.Target
	}
	return out
}

// cliTarget is a target with the configuration its handler is built from.
type cliTarget struct {
	Target
	cfg *config.Config
}

// bind sets the target's handler builder, the way a function's cold start builds it.
func (t *cliTarget) bind(awsCfg aws.Config, logOut io.Writer) {
	if logOut == nil {
		logOut = io.Discard
	}
	if t.Kind == routes.SinkFirehose {
		// A stream name is unique per account and region, and the
		// handler's client writes to the configuration's region.
		t.Destination = "firehose:" + awsCfg.Region + ":" + t.cfg.Firehose.Stream
	}
	t.NewHandler = func(ctx context.Context) (Handler, error) {
		build, err := anysink.Builder(t.cfg.Sink, nil)
		if err != nil {
			return nil, err
		}
		// No sender health: archived events are not a sign of life, and
		// the live function already counted them.
		return app.NewHandler(t.cfg, awsCfg, build, app.Deps{Logger: slog.New(slog.NewJSONHandler(logOut, nil)), Metrics: logOut, NoHealth: true})
	}
}

// parse checks every flag before any work, reporting every problem in one error.
func parse(in parseInput) (*parsed, error) {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	out := &parsed{}
	if len(in.args) > 0 {
		bad("unexpected arguments %q: every setting is a flag", in.args)
	}
	for _, o := range in.owners {
		if !accountID.MatchString(o) {
			bad("-owner %q is not a 12-digit account ID", o)
		}
	}
	out.sel.Owners = in.owners
	if in.group != "" {
		p, err := routes.CompileLogGroupPattern(in.group)
		if err != nil {
			bad("-log-group: %v", err)
		}
		out.sel.LogGroup = p
	}
	r, err := clitime.ParseRange(in.since, in.until, in.now)
	if err != nil {
		bad("%v", err)
	}
	out.sel.Since, out.sel.Until = r.Since, r.Until
	out.sel.SourceRegions = in.regions
	if in.bucket == "" {
		bad("-bucket is required: the archive's bucket (or set $%s)", config.EnvS3Bucket)
	}
	in.prefix = strings.Trim(in.prefix, "/")
	if in.maxMBps < 0 {
		bad("-max-mbps %g: want 0 (no cap) or more", in.maxMBps)
	}
	if in.parallel < 1 || in.parallel > 64 {
		bad("-parallel %d: want 1 to 64", in.parallel)
	}
	if in.attempts < 1 {
		bad("-attempts %d: want 1 or more", in.attempts)
	}
	if in.timeout < time.Second {
		bad("-timeout %s: want at least 1s", in.timeout)
	}
	switch {
	case in.progress != "":
		b, p, _ := strings.Cut(strings.TrimPrefix(in.progress, "s3://"), "/")
		if !strings.HasPrefix(in.progress, "s3://") || b == "" {
			bad("-progress %q: want s3://BUCKET/PREFIX", in.progress)
		}
		out.progressBucket, out.progressPrefix = b, strings.Trim(p, "/")
		if out.progressPrefix == "" {
			out.progressPrefix = DefaultProgressPrefix
		}
	case in.getenv(config.EnvQuarantineBucket) != "":
		out.progressBucket, out.progressPrefix = in.getenv(config.EnvQuarantineBucket), DefaultProgressPrefix
	default:
		bad("-progress is required when $%s is not set: where progress records go, s3://BUCKET/PREFIX", config.EnvQuarantineBucket)
	}
	switch {
	case len(in.to) > 0 && in.routesFile != "":
		bad("give -to or -routes, not both")
	case len(in.to) == 0 && in.routesFile == "":
		bad("-to or -routes is required: where to send the events (e.g. -to firehose:siem)")
	case in.routesFile == RoutesDeployed:
		bad("-routes %s needs the stack lookup (issue 23), which logfan does not have yet: pass the table's file instead (the stack's routesFile, or $%s's value saved to a file)", RoutesDeployed, config.EnvRoutes)
	case in.routesFile != "":
		ts, err := routesTargets(in)
		if err != nil {
			bad("%v", err)
		}
		out.targets = ts
	default:
		seen := map[string]string{}
		for _, s := range in.to {
			t, err := toTarget(in, s)
			if err != nil {
				bad("-to %v", err)
				continue
			}
			if prev, dup := seen[t.Destination]; dup {
				bad("-to %s and -to %s deliver to the same place (%s): give it once", prev, s, t.Destination)
				continue
			}
			seen[t.Destination] = s
			out.targets = append(out.targets, t)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

// targetEnv returns the environment a target's configuration is loaded from:
// the operator's LOGFAN_* variables, with the archive bucket as the S3
// sink's bucket, the target's stream or region standing in for a missing
// default, and no route table (resend gives its own).
func targetEnv(in parseInput, t routes.Target) func(string) string {
	return func(k string) string {
		switch k {
		case config.EnvRoutes, config.EnvRoutesFile:
			return ""
		case config.EnvS3Bucket:
			return in.bucket
		case config.EnvFirehoseStream:
			if t.Stream != "" && in.getenv(k) == "" {
				return t.Stream
			}
		case config.EnvLogsRegion:
			if t.Region != "" && in.getenv(k) == "" {
				return t.Region
			}
		}
		return in.getenv(k)
	}
}

// load is config.Load for a target's sink, with the quarantine prefix the
// stack gives that sink's function, so redrive finds what resend quarantines.
func load(in parseInput, t routes.Target) (*config.Config, error) {
	cfg, err := config.Load(t.Sink, targetEnv(in, t))
	if err != nil {
		return nil, err
	}
	cfg.Quarantine.Prefix = config.SinkQuarantinePrefix(cfg.Quarantine.Prefix, t.Sink)
	return cfg, nil
}

// toTarget builds the target of one -to value: a route table of one route to it.
func toTarget(in parseInput, s string) (*cliTarget, error) {
	t, err := routes.ParseTarget(s)
	if err != nil {
		return nil, err
	}
	cfg, err := load(in, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	table, err := json.Marshal([]routes.Route{{Name: "resend", To: []routes.Target{t}}})
	if err != nil {
		return nil, err
	}
	if cfg.Routes, err = config.ParseRoutes(table, cfg.RouteDefaults()); err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	return newCLITarget(in, s, t, cfg)
}

// newCLITarget checks the resolved destination and names it.
func newCLITarget(in parseInput, name string, t routes.Target, cfg *config.Config) (*cliTarget, error) {
	d := cfg.RouteDefaults().Resolve(t)
	var dest string
	switch t.Sink {
	case routes.SinkS3:
		if d.Prefix == strings.Trim(in.prefix, "/") {
			return nil, fmt.Errorf("%s would write into the archive it reads (s3://%s/%s/): name another prefix, e.g. s3:replayed", name, in.bucket, d.Prefix)
		}
		dest = "s3://" + in.bucket + "/" + d.Prefix + "/"
	case routes.SinkFirehose:
		dest = "firehose:" + d.Stream // the region is added once the SDK configuration is loaded (bind)
	case routes.SinkLogs:
		dest = "logs:" + d.Region + ":" + d.GroupTemplate + ":" + d.StreamTemplate
	}
	return &cliTarget{Target: Target{Name: name, Destination: dest, Kind: t.Sink, Routes: cfg.Routes}, cfg: cfg}, nil
}

// routesTargets reads a route table file and makes a target of each of its
// targets, each routing by the table with every other target left out.
func routesTargets(in parseInput) ([]*cliTarget, error) {
	rt, err := cliflag.ReadRoutes(in.routesFile)
	if err != nil {
		return nil, err
	}
	data := rt.Text
	var out []*cliTarget
	// The defaults every sink's function has, from the same variables: a
	// target that leaves a setting out resolves to them (and needs them set).
	get := func(k, def string) string {
		if v := strings.TrimSpace(in.getenv(k)); v != "" {
			return v
		}
		return def
	}
	d := routes.Defaults{
		S3Prefix: get(config.EnvS3Prefix, config.DefaultS3Prefix), FirehoseStream: get(config.EnvFirehoseStream, ""),
		LogsRegion: get(config.EnvLogsRegion, ""), LogsGroupTemplate: get(config.EnvLogsGroupTemplate, config.DefaultLogsGroupTemplate),
		LogsStreamTemplate: get(config.EnvLogsStreamTemplate, config.DefaultLogsStreamTemplate),
	}
	table, err := config.ParseRoutes(data, d)
	if err != nil {
		return nil, fmt.Errorf("-routes %s: %w", rt.Source(), err)
	}
	for _, kind := range []string{routes.SinkS3, routes.SinkFirehose, routes.SinkLogs} {
		for _, t := range table.Targets(kind) {
			only, err := onlyTarget(table, t)
			if err != nil {
				return nil, fmt.Errorf("-routes %s: %w", rt.Source(), err)
			}
			cfg, err := load(in, t)
			if err != nil {
				return nil, fmt.Errorf("-routes %s: target %s: %w", rt.Source(), t.Name(), err)
			}
			cfg.Routes = only
			ct, err := newCLITarget(in, t.Name(), t, cfg)
			if err != nil {
				return nil, fmt.Errorf("-routes %s: %w", rt.Source(), err)
			}
			out = append(out, ct)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-routes %s sends nothing anywhere: every route drops its events", rt.Source())
	}
	return out, nil
}

// onlyTarget is table with every target but t removed from its routes:
// the events its routes send t, and nothing else, are t's to resend.
func onlyTarget(table *routes.Table, t routes.Target) (*routes.Table, error) {
	var rs []routes.Route
	for _, r := range table.Routes() {
		c := routes.Route{Name: r.Name, Match: r.Match, To: []routes.Target{}}
		for _, x := range r.To {
			if x == t {
				c.To = append(c.To, x)
			}
		}
		rs = append(rs, c)
	}
	return routes.New(rs)
}

// WriteTable prints the report's summary, one line per target.
func WriteTable(w io.Writer, rep *Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	if rep.DryRun {
		fmt.Fprintln(tw, "TARGET\tOBJECTS\tEVENTS\tMB\tALREADY SENT\tNOT ROUTED\t")
		for _, t := range rep.Targets {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%d\t%d\t\n", t.Target, t.Objects, t.Events, float64(t.Bytes)/1e6, t.AlreadySent, t.NotRouted)
		}
	} else {
		fmt.Fprintln(tw, "TARGET\tOBJECTS\tEVENTS\tMB\tDELIVERED\tQUARANTINED\tFAILED\tALREADY SENT\tNOT ROUTED\t")
		for _, t := range rep.Targets {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%d\t%d\t%d\t%d\t%d\t\n", t.Target, t.Objects, t.Events, float64(t.Bytes)/1e6, t.Delivered, t.Quarantined, t.Failed, t.AlreadySent, t.NotRouted)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d objects in the selected partitions, %d read (%.2f MB), %d events, %d selected, %.1fs\n",
		rep.Objects, rep.Read, float64(rep.Bytes)/1e6, rep.Events, rep.Selected, rep.Seconds)
}
