package redrive

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/internal/ops/deployment"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/subscription"
)

// sinks are the sinks a deployed function delivers to.
var sinks = []string{config.SinkS3, config.SinkFirehose, config.SinkLogs}

// Run is `logfan redrive`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, os.Getenv, stdout, stderr)
}

// run is Run with the environment read through getenv (tests).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	// Every flag is checked before anything is read.
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	d, awsCfg, note, err := f.dep.Load(ctx)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(stderr, "logfan redrive: "+note)
	}
	if d != nil && d.Functions[f.sink] == nil {
		return fmt.Errorf("stack %s in %s deploys no %s function (it has: %s): pick one of those with -sink", d.Stack, d.Region, f.sink, strings.Join(d.Sinks(), ", "))
	}
	fnEnv, err := f.resolve(ctx, d, getenv)
	if err != nil {
		return err
	}
	o := Options{
		Sink: f.sink, S3: awsclient.S3(awsCfg), Bucket: f.bucket, QuarantinePrefix: f.root,
		Function: f.function, Sources: f.sources, Delete: f.del, DryRun: f.dry, Attempts: f.attempts, Timeout: f.timeout, Out: stdout,
		MaxDecompressed: subscription.DefaultMaxDecompressed,
	}
	if !f.dry {
		// Only a real redrive needs the sink's whole configuration.
		if err := f.withHandler(&o, d, awsCfg, fnEnv, stdout, stderr); err != nil {
			return err
		}
	}
	r, err := New(ctx, o)
	if err != nil {
		return err
	}
	_, err = r.Run(ctx)
	return err
}

// flags are `logfan redrive`'s flags, checked; bucket, root and function
// are completed from the deployment (resolve).
type flags struct {
	sink, bucket, function, root string
	sources                      []string
	del, dry, verbose            bool
	attempts                     int
	timeout                      time.Duration
	dep                          *deployment.Flags
}

// redriveUsage is what `logfan redrive -h` prints before the flags.
const redriveUsage = `usage: logfan redrive -sink s3|firehose|logs [-stack NAME] [-region R] [-from onfailure,quarantine] [-bucket B] [-function F] [-delete] [-dry-run]

Re-processes, through the real handler of one sink, the batches Lambda gave up on and the
quarantine's entries, once the cause is fixed. Safe to run again: what was redriven is skipped.
The sink's configuration (buckets, stream, route table) is the deployed function's, read from
the stack; LOGFAN_* variables set here override it (local emulators).
`

// parseFlags parses and checks the flags; a bad one is a usage error.
func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	fs := usage.NewFlagSet("redrive", stderr, redriveUsage)
	sinkName := fs.String("sink", "", "the sink to redrive through: s3, firehose or logs, configured as the stack's function of that sink is")
	from := fs.String("from", SourceOnFailure+","+SourceQuarantine, "sources: "+SourceOnFailure+" (Lambda's S3 on-failure records) and/or "+SourceQuarantine)
	bucket := fs.String("bucket", "", "bucket holding the on-failure records and the quarantine (default: $"+config.EnvQuarantineBucket+", else the stack's quarantine bucket)")
	function := fs.String("function", "", "redrive on-failure records of functions whose ARN contains this (default: the stack's function of -sink)")
	del := fs.Bool("delete", false, "delete each source once redriven (by default sources are kept and marked done under "+DonePrefix+"/<sink>/)")
	dry := fs.Bool("dry-run", false, "list what would be redriven, and what is still poison; change nothing")
	attempts := fs.Int("attempts", 3, "invocations per source while the sink keeps failing")
	timeout := fs.Duration("timeout", 120*time.Second, "each invocation's deadline, like the function timeout")
	verbose := fs.Bool("v", false, "print the handler's JSON log lines and EMF metrics to stderr")
	dep := deployment.AddFlags(fs)
	if err := usage.Parse(fs, args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, usage.Errorf("unexpected arguments %q", fs.Args())
	case *sinkName == "":
		return nil, usage.Errorf("-sink is required: %s", strings.Join(sinks, ", "))
	case !slices.Contains(sinks, *sinkName):
		return nil, usage.Errorf("-sink %q: want %s", *sinkName, strings.Join(sinks, ", "))
	case *attempts < 1:
		return nil, usage.Errorf("-attempts %d: want at least 1", *attempts)
	case *timeout < config.MinFunctionTimeout:
		return nil, usage.Errorf("-timeout %v: want at least %v, like a function timeout", *timeout, config.MinFunctionTimeout)
	}
	var sources []string
	for _, s := range strings.Split(*from, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if s != SourceOnFailure && s != SourceQuarantine {
			return nil, usage.Errorf("-from: unknown source %q (want %s and/or %s)", s, SourceOnFailure, SourceQuarantine)
		}
		sources = append(sources, s)
	}
	if len(sources) == 0 {
		return nil, usage.Errorf("-from names no source (want %s and/or %s)", SourceOnFailure, SourceQuarantine)
	}
	return &flags{
		sink: *sinkName, bucket: *bucket, function: *function, sources: sources,
		del: *del, dry: *dry, verbose: *verbose, attempts: *attempts, timeout: *timeout, dep: dep,
	}, nil
}

// resolve returns the sink function's environment (the deployed one's, d
// nil: getenv's, with -bucket as its quarantine bucket) and completes the
// quarantine bucket, its root and the function from it and the stack.
func (f *flags) resolve(ctx context.Context, d *deployment.Deployment, getenv func(string) string) (func(string) string, error) {
	// -bucket is the quarantine bucket, wherever the configuration comes
	// from (read when fnEnv is: the bucket completed below counts too).
	overlay := func(k string) string {
		if k == config.EnvQuarantineBucket && f.bucket != "" {
			return f.bucket
		}
		return getenv(k)
	}
	fnEnv, err := d.Getenv(ctx, f.sink, overlay)
	if err != nil {
		return nil, err
	}
	if f.bucket == "" {
		f.bucket = fnEnv(config.EnvQuarantineBucket)
	}
	if f.bucket == "" {
		f.bucket = d.Output(naming.OutputQuarantineBucket)
	}
	if f.bucket == "" {
		return nil, usage.Errorf("no quarantine bucket: pass -bucket, set %s, or name the deployed stack with -stack and -region", config.EnvQuarantineBucket)
	}
	// The quarantine's root: given here, it is the stack's quarantinePrefix
	// (each function writes under <root>/<sink>, which its own variable holds).
	f.root = getenv(config.EnvQuarantinePrefix)
	if f.root == "" {
		f.root = d.QuarantineRoot()
	}
	if f.function == "" && d != nil {
		f.function = d.Functions[f.sink].Name
	}
	return fnEnv, nil
}

// withHandler loads the sink's whole configuration from fnEnv and gives o
// the real handler of the sink to redrive through.
func (f *flags) withHandler(o *Options, d *deployment.Deployment, awsCfg aws.Config, fnEnv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(f.sink, fnEnv)
	if err != nil {
		if d == nil {
			return fmt.Errorf("%w\n(no deployed stack was read: name it with -stack and -region, or set the variables above)", err)
		}
		return fmt.Errorf("the %s function of stack %s: %w", f.sink, d.Stack, err)
	}
	o.MaxDecompressed = cfg.MaxDecompressed
	logOut := io.Discard
	if f.verbose {
		logOut = stderr
	}
	o.NewHandler = func(ctx context.Context, q quarantine.Quarantine, onSummary func(consumer.Summary)) (lambda.Handler, error) {
		return anysink.NewHandlerWith(cfg, awsCfg, app.Deps{
			Logger: slog.New(slog.NewJSONHandler(logOut, nil)), Metrics: logOut,
			Quarantine: q, OnSummary: onSummary,
		}, stdout)
	}
	return nil
}
