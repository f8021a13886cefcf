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

// redriveUsage is what `logfan redrive -h` prints before the flags.
const redriveUsage = `usage: logfan redrive -sink s3|firehose|logs [-stack NAME] [-region R] [-from onfailure,quarantine] [-bucket B] [-function F] [-delete] [-dry-run]

Re-processes, through the real handler of one sink, the batches Lambda gave up on and the
quarantine's entries, once the cause is fixed. Safe to run again: what was redriven is skipped.
The sink's configuration (buckets, stream, route table) is the deployed function's, read from
the stack; LOGFAN_* variables set here override it (local emulators).
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
		return err
	}
	// Every flag is checked before anything is read.
	switch {
	case fs.NArg() > 0:
		return usage.Errorf("unexpected arguments %q", fs.Args())
	case *sinkName == "":
		return usage.Errorf("-sink is required: %s", strings.Join(sinks, ", "))
	case !slices.Contains(sinks, *sinkName):
		return usage.Errorf("-sink %q: want %s", *sinkName, strings.Join(sinks, ", "))
	case *attempts < 1:
		return usage.Errorf("-attempts %d: want at least 1", *attempts)
	case *timeout < config.MinFunctionTimeout:
		return usage.Errorf("-timeout %v: want at least %v, like a function timeout", *timeout, config.MinFunctionTimeout)
	}
	var sources []string
	for _, s := range strings.Split(*from, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if s != SourceOnFailure && s != SourceQuarantine {
			return usage.Errorf("-from: unknown source %q (want %s and/or %s)", s, SourceOnFailure, SourceQuarantine)
		}
		sources = append(sources, s)
	}
	if len(sources) == 0 {
		return usage.Errorf("-from names no source (want %s and/or %s)", SourceOnFailure, SourceQuarantine)
	}

	d, awsCfg, note, err := dep.Load(ctx)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(stderr, "logfan redrive: "+note)
	}
	if d != nil && d.Functions[*sinkName] == nil {
		return fmt.Errorf("stack %s in %s deploys no %s function (it has: %s): pick one of those with -sink", d.Stack, d.Region, *sinkName, strings.Join(d.Sinks(), ", "))
	}
	// -bucket is the quarantine bucket, wherever the configuration comes from.
	overlay := func(k string) string {
		if k == config.EnvQuarantineBucket && *bucket != "" {
			return *bucket
		}
		return getenv(k)
	}
	fnEnv, err := d.Getenv(ctx, *sinkName, overlay)
	if err != nil {
		return err
	}
	if *bucket == "" {
		*bucket = fnEnv(config.EnvQuarantineBucket)
	}
	if *bucket == "" {
		*bucket = d.Output(naming.OutputQuarantineBucket)
	}
	if *bucket == "" {
		return usage.Errorf("no quarantine bucket: pass -bucket, set %s, or name the deployed stack with -stack and -region", config.EnvQuarantineBucket)
	}
	// The quarantine's root: given here, it is the stack's quarantinePrefix
	// (each function writes under <root>/<sink>, which its own variable holds).
	root := getenv(config.EnvQuarantinePrefix)
	if root == "" {
		root = d.QuarantineRoot()
	}
	if *function == "" && d != nil {
		*function = d.Functions[*sinkName].Name
	}
	o := Options{
		Sink: *sinkName, S3: awsclient.S3(awsCfg), Bucket: *bucket, QuarantinePrefix: root,
		Function: *function, Sources: sources, Delete: *del, DryRun: *dry, Attempts: *attempts, Timeout: *timeout, Out: stdout,
		MaxDecompressed: subscription.DefaultMaxDecompressed,
	}
	if !*dry {
		// Only a real redrive needs the sink's whole configuration.
		cfg, err := config.Load(*sinkName, fnEnv)
		if err != nil {
			if d == nil {
				return fmt.Errorf("%w\n(no deployed stack was read: name it with -stack and -region, or set the variables above)", err)
			}
			return fmt.Errorf("the %s function of stack %s: %w", *sinkName, d.Stack, err)
		}
		o.MaxDecompressed = cfg.MaxDecompressed
		logOut := io.Discard
		if *verbose {
			logOut = stderr
		}
		o.NewHandler = func(ctx context.Context, q quarantine.Quarantine, onSummary func(consumer.Summary)) (lambda.Handler, error) {
			return anysink.NewHandlerWith(cfg, awsCfg, app.Deps{
				Logger: slog.New(slog.NewJSONHandler(logOut, nil)), Metrics: logOut,
				Quarantine: q, OnSummary: onSummary,
			}, stdout)
		}
	}
	r, err := New(ctx, o)
	if err != nil {
		return err
	}
	_, err = r.Run(ctx)
	return err
}
