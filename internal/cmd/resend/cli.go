package resend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/internal/cli/cliflag"
	"github.com/logfan/logfan/internal/cli/clitime"
	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/internal/ops/deployment"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/routes"
)

// targets is -to: repeatable, not split on commas (templates may hold none,
// but a target is one value).
type targets []string

func (t *targets) String() string     { return strings.Join(*t, " ") }
func (t *targets) Set(v string) error { *t = append(*t, strings.TrimSpace(v)); return nil }

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// RoutesDeployed is the -routes value that routes by the deployed
// functions' route tables, read from the stack (-stack, -region).
const RoutesDeployed = "deployed"

// resendUsage is what `logfan resend -h` prints before the flags.
const resendUsage = `usage: logfan resend (-to TARGET ... | -routes FILE|@FILE|JSON|deployed) [-stack NAME] [-region R] [-owner ID] [-log-group GLOB] [-since T] [-until T] [-dry-run] [-max-mbps N]

Sends archived events (the S3 sink's objects, NDJSON or Parquet) again to route targets, through
the real sinks. Safe to run again: what reached a target is not sent to it twice, and an
interrupted run continues where it stopped. The archive, the progress location and each target's
sink settings are the deployed stack's (its outputs and its functions' environments); LOGFAN_*
variables set here override them (local emulators).
`

// Run is `logfan resend`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := usage.NewFlagSet("resend", stderr, resendUsage)
	var owners, regions cliflag.List
	var to targets
	fs.Var(&owners, "owner", "sender account IDs to select, comma-separated or repeated (default: every owner)")
	group := fs.String("log-group", "", "log groups to select, a route table's glob: '*' within a segment, '**' across (default: every group)")
	since := fs.String("since", "", "select events from this time: "+clitime.Want+" (default: the archive's start)")
	until := fs.String("until", "", "select events before this time, same forms (default: no end)")
	fs.Var(&regions, "source-region", "select events whose record carries one of these regions (@aws.region, sent by filters with emitSystemFields); events without it are then left out")
	fs.Var(&to, "to", "a target in the route-target syntax, repeatable: s3:PREFIX, firehose:STREAM, logs:REGION[:GROUP_TEMPLATE[:STREAM_TEMPLATE]]")
	routesFile := fs.String("routes", "", "route the events by this "+cliflag.RoutesUsage+", or by the deployed functions' tables with '"+RoutesDeployed+"', instead of -to (each of its targets gets what its routes send it)")
	bucket := fs.String("bucket", "", "the archive's bucket, which s3 targets write to as well (default $"+config.EnvS3Bucket+", else the stack's S3 function's bucket)")
	prefix := fs.String("prefix", "", "the archive's key prefix (default $"+config.EnvS3Prefix+", else the stack's S3 function's, else "+config.DefaultS3Prefix+")")
	progressURL := fs.String("progress", "", "where progress records go, s3://BUCKET/PREFIX (default s3://QUARANTINE_BUCKET/"+DefaultProgressPrefix+": $"+config.EnvQuarantineBucket+", else the stack's)")
	dry := fs.Bool("dry-run", false, "read and count what would be sent (objects, events, bytes per target); send nothing")
	maxMBps := fs.Float64("max-mbps", 0, "cap the log message bytes sent, in MB/s over all targets (default: no cap)")
	parallel := fs.Int("parallel", 4, "objects worked on at once")
	attempts := fs.Int("attempts", 5, "attempts per batch while a target keeps failing, before the target is given up for the run")
	timeout := fs.Duration("timeout", 120*time.Second, "each delivery's deadline, like the function timeout")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	verbose := fs.Bool("v", false, "print the handlers' JSON log lines and EMF metrics to stderr, and with -dry-run each object")
	dep := deployment.AddFlags(fs)
	if err := usage.Parse(fs, args); err != nil {
		return err
	}
	now := time.Now()
	in := parseInput{
		owners: owners, group: *group, since: *since, until: *until, regions: regions, to: to, routesFile: *routesFile,
		bucket: *bucket, prefix: *prefix, progress: *progressURL, maxMBps: *maxMBps, parallel: *parallel, attempts: *attempts,
		timeout: *timeout, args: fs.Args(), getenv: os.Getenv, now: now,
	}
	// Every flag is checked before the stack is read; what the stack may
	// give (buckets, the targets' settings) is checked once it is read.
	early := in
	early.early = true
	if _, err := parse(early); err != nil {
		return usage.Wrap(err)
	}
	d, awsCfg, note, err := dep.Load(ctx)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(stderr, "logfan resend: "+note)
	}
	if err := in.fromDeployment(ctx, d); err != nil {
		return err
	}
	o, err := parse(in)
	if err != nil {
		if d == nil {
			return usage.Wrap(fmt.Errorf("%w\n(no deployed stack was read: name it with -stack and -region, or give the flags and variables above)", err))
		}
		return usage.Wrap(fmt.Errorf("stack %s in %s: %w", d.Stack, d.Region, err))
	}
	for _, n := range o.notes {
		fmt.Fprintln(stderr, "logfan resend: "+n)
	}
	*bucket, *prefix = in.bucket, in.prefix
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
		if err := cliflag.WriteJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		WriteTable(stdout, rep)
	}
	return rep.Problem()
}

// fromDeployment fills what the flags and variables leave out from the
// deployed stack d (nil: nothing to fill): the archive's bucket and prefix
// from the S3 function's environment (else the DataBucketName output), the
// quarantine bucket, and each sink's settings from its function's
// environment, LOGFAN_* variables set here overriding them.
func (in *parseInput) fromDeployment(ctx context.Context, d *deployment.Deployment) error {
	process := in.getenv
	if d == nil {
		if in.bucket == "" {
			in.bucket = strings.TrimSpace(process(config.EnvS3Bucket))
		}
		if in.prefix == "" {
			in.prefix = strings.TrimSpace(process(config.EnvS3Prefix))
		}
		if in.prefix == "" {
			in.prefix = config.DefaultS3Prefix
		}
		return nil
	}
	deployedRoutes := in.routesFile == RoutesDeployed
	envs := map[string]func(string) string{}
	for _, sink := range d.Sinks() {
		overlay := process
		if !deployedRoutes {
			// -to and -routes FILE give their own table: a deployed one (maybe
			// in a layer) is neither read nor used (targetEnv drops it).
			overlay = func(k string) string {
				if k == config.EnvRoutes {
					return "[]"
				}
				return process(k)
			}
		}
		env, err := d.Getenv(ctx, sink, overlay)
		if err != nil {
			return fmt.Errorf("stack %s: %w", d.Stack, err)
		}
		envs[sink] = env
	}
	// shared are the settings every function has alike (the quarantine),
	// for a sink the stack does not deploy and for the progress location.
	shared := func(k string) string {
		if v := process(k); v != "" {
			return v
		}
		for _, sink := range d.Sinks() {
			if v := envs[sink](k); v != "" && k != config.EnvQuarantinePrefix {
				return v
			}
		}
		switch k {
		case config.EnvQuarantineBucket:
			return d.Output(naming.OutputQuarantineBucket)
		case config.EnvQuarantinePrefix:
			return d.QuarantineRoot()
		}
		return ""
	}
	s3env := envs[config.SinkS3]
	if s3env == nil {
		s3env = shared
	}
	if in.bucket == "" {
		in.bucket = s3env(config.EnvS3Bucket)
	}
	if in.bucket == "" {
		in.bucket = d.Output(naming.OutputDataBucket)
	}
	if in.prefix == "" {
		in.prefix = s3env(config.EnvS3Prefix)
	}
	if in.prefix == "" {
		in.prefix = config.DefaultS3Prefix
	}
	in.getenv = shared
	in.sinkEnv = func(sink string) (func(string) string, bool) {
		if env := envs[sink]; env != nil {
			// The function's own quarantine prefix already ends in its sink,
			// unless this process gives the root.
			return env, process(config.EnvQuarantinePrefix) == ""
		}
		return shared, false
	}
	in.deployedSinks = d.Sinks()
	in.deployed = true
	return nil
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
	// sinkEnv, when set, is the environment of sink's deployed function
	// (with the process's overrides), and whether its quarantine prefix is
	// already the sink's own; nil: getenv for every sink.
	sinkEnv func(sink string) (env func(string) string, sinkPrefix bool)
	// deployedSinks are the sinks whose function the stack deploys; deployed
	// says a stack was read.
	deployedSinks []string
	deployed      bool
	// early checks only what needs no deployment: before the stack is read.
	early bool
}

// envFor is the environment sink's configuration is loaded from.
func (in parseInput) envFor(sink string) (func(string) string, bool) {
	if in.sinkEnv != nil {
		return in.sinkEnv(sink)
	}
	return in.getenv, false
}

// parsed is what the flags ask for, checked.
type parsed struct {
	sel                            Selection
	targets                        []*cliTarget
	progressBucket, progressPrefix string
	// notes are said to the operator before the run (targets left out).
	notes []string
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
	if in.bucket == "" && !in.early {
		bad("-bucket is required: the archive's bucket (or set $%s, or name the deployed stack with -stack and -region)", config.EnvS3Bucket)
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
	case in.early:
	default:
		bad("-progress is required when $%s is not set and no stack names a quarantine bucket: where progress records go, s3://BUCKET/PREFIX", config.EnvQuarantineBucket)
	}
	switch {
	case len(in.to) > 0 && in.routesFile != "":
		bad("give -to or -routes, not both")
	case len(in.to) == 0 && in.routesFile == "":
		bad("-to or -routes is required: where to send the events (e.g. -to firehose:siem)")
	case in.early:
		// Only the targets' syntax: their settings may come from the stack.
		for _, s := range in.to {
			if _, err := routes.ParseTarget(s); err != nil {
				bad("-to %v", err)
			}
		}
	case in.routesFile == RoutesDeployed:
		ts, notes, err := deployedTargets(in)
		if err != nil {
			bad("%v", err)
		}
		out.targets, out.notes = ts, notes
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
	getenv, _ := in.envFor(t.Sink)
	return func(k string) string {
		switch k {
		case config.EnvRoutes, config.EnvRoutesFile:
			return ""
		case config.EnvS3Bucket:
			return in.bucket
		case config.EnvFirehoseStream:
			if t.Stream != "" && getenv(k) == "" {
				return t.Stream
			}
		case config.EnvLogsRegion:
			if t.Region != "" && getenv(k) == "" {
				return t.Region
			}
		}
		return getenv(k)
	}
}

// load is config.Load for a target's sink, with the quarantine prefix the
// stack gives that sink's function, so redrive finds what resend quarantines.
func load(in parseInput, t routes.Target) (*config.Config, error) {
	cfg, err := config.Load(t.Sink, targetEnv(in, t))
	if err != nil {
		return nil, err
	}
	if _, own := in.envFor(t.Sink); !own {
		// A root (the variable, or the stack's QuarantinePrefix): the
		// function writes under <root>/<sink>.
		cfg.Quarantine.Prefix = config.SinkQuarantinePrefix(cfg.Quarantine.Prefix, t.Sink)
	}
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
	var out []*cliTarget
	// The defaults every sink's function has, from the same variables: a
	// target that leaves a setting out resolves to them (and needs them set).
	// Each sink's from its own function's environment when a stack was read.
	get := func(sink, k, def string) string {
		env, _ := in.envFor(sink)
		if v := strings.TrimSpace(env(k)); v != "" {
			return v
		}
		return def
	}
	d := routes.Defaults{
		S3Prefix: get(routes.SinkS3, config.EnvS3Prefix, config.DefaultS3Prefix), FirehoseStream: get(routes.SinkFirehose, config.EnvFirehoseStream, ""),
		LogsRegion:         get(routes.SinkLogs, config.EnvLogsRegion, ""),
		LogsGroupTemplate:  get(routes.SinkLogs, config.EnvLogsGroupTemplate, config.DefaultLogsGroupTemplate),
		LogsStreamTemplate: get(routes.SinkLogs, config.EnvLogsStreamTemplate, config.DefaultLogsStreamTemplate),
	}
	table, err := rt.Parse(d)
	if err != nil {
		return nil, err
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

// deployedTargets makes a target of each target of the deployed
// functions' route tables (each function delivers its own sink's targets,
// by its own table), each routing by its function's table with every
// other target left out. The archive itself is left out with a note: its
// events are already there.
func deployedTargets(in parseInput) ([]*cliTarget, []string, error) {
	if !in.deployed {
		return nil, nil, fmt.Errorf("-routes %s needs the deployed stack, which was not read: name it with -stack and -region, or pass the route table's file", RoutesDeployed)
	}
	var out []*cliTarget
	var notes []string
	for _, sink := range in.deployedSinks {
		env, _ := in.envFor(sink)
		cfg, err := config.Load(sink, env)
		if err != nil {
			return nil, nil, fmt.Errorf("-routes %s: the %s function's configuration: %w", RoutesDeployed, sink, err)
		}
		if cfg.Routes == nil {
			// No table: the function delivers everything to its sink's default target.
			table, _ := json.Marshal([]routes.Route{{Name: "default", To: []routes.Target{{Sink: sink}}}})
			if cfg.Routes, err = config.ParseRoutes(table, cfg.RouteDefaults()); err != nil {
				return nil, nil, fmt.Errorf("-routes %s: the %s function's default target: %w", RoutesDeployed, sink, err)
			}
		}
		for _, t := range cfg.Routes.Targets(sink) {
			if t.Sink == routes.SinkS3 && cfg.RouteDefaults().Resolve(t).Prefix == strings.Trim(in.prefix, "/") {
				notes = append(notes, fmt.Sprintf("-routes %s: target %s is the archive read (s3://%s/%s/): left out", RoutesDeployed, t.Name(), in.bucket, in.prefix))
				continue
			}
			only, err := onlyTarget(cfg.Routes, t)
			if err != nil {
				return nil, nil, fmt.Errorf("-routes %s: the %s function's table: %w", RoutesDeployed, sink, err)
			}
			tcfg, err := load(in, t)
			if err != nil {
				return nil, nil, fmt.Errorf("-routes %s: target %s: %w", RoutesDeployed, t.Name(), err)
			}
			tcfg.Routes = only
			ct, err := newCLITarget(in, t.Name(), t, tcfg)
			if err != nil {
				return nil, nil, fmt.Errorf("-routes %s: %w", RoutesDeployed, err)
			}
			out = append(out, ct)
		}
	}
	if len(out) == 0 {
		return nil, notes, fmt.Errorf("-routes %s: the stack's functions (%s) route nothing anywhere but the archive read", RoutesDeployed, strings.Join(in.deployedSinks, ", "))
	}
	return out, notes, nil
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
