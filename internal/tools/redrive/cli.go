package redrive

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/logfan/logfan/internal/devkit/poller"
	"github.com/logfan/logfan/internal/tools/anysink"
	"github.com/logfan/logfan/internal/tools/sdkconfig"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/quarantine"
)

// Run is `logfan redrive`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sinkName := fs.String("sink", "", "sink to redrive through: s3, firehose or logs (configured by the LOGFAN_* variables, as in Lambda)")
	from := fs.String("from", SourceOnFailure+","+SourceQuarantine, "sources: "+SourceOnFailure+" (Lambda's S3 on-failure records) and/or "+SourceQuarantine)
	bucket := fs.String("bucket", "", "bucket holding the on-failure records and the quarantine (default $"+config.EnvQuarantineBucket+")")
	function := fs.String("function", "", "redrive on-failure records of functions whose ARN contains this (default: the stack's function of -sink, e.g. S3Function)")
	del := fs.Bool("delete", false, "delete each source once redriven (by default sources are kept and marked done under "+DonePrefix+"/<sink>/)")
	dry := fs.Bool("dry-run", false, "list what would be redriven; change nothing")
	attempts := fs.Int("attempts", 3, "invocations per source while the sink keeps failing")
	timeout := fs.Duration("timeout", 120*time.Second, "each invocation's deadline, like the function timeout")
	verbose := fs.Bool("v", false, "print the handler's JSON log lines and EMF metrics to stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: logfan redrive -sink s3|firehose|logs [-from onfailure,quarantine] [-bucket B] [-function F] [-delete] [-dry-run]")
		fmt.Fprintln(stderr, "\nRe-processes, through the real handler of one sink, the batches Lambda gave up on and the")
		fmt.Fprintln(stderr, "quarantine's entries, once the cause is fixed. Safe to run again: what was redriven is skipped.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sinkName == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("-sink is required")
	}
	cfg, err := config.Load(*sinkName, os.Getenv)
	if err != nil {
		return err
	}
	if *bucket == "" {
		*bucket = cfg.Quarantine.Bucket
	}
	awsCfg, err := sdkconfig.Load(ctx, "")
	if err != nil {
		return err
	}
	logOut := io.Discard
	if *verbose {
		logOut = stderr
	}
	var sources []string
	for _, s := range strings.Split(*from, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sources = append(sources, s)
		}
	}
	r, err := New(ctx, Options{
		Sink: *sinkName, S3: awsclient.S3(awsCfg), Bucket: *bucket, QuarantinePrefix: cfg.Quarantine.Prefix,
		Function: *function, Sources: sources, Delete: *del, DryRun: *dry, Attempts: *attempts, Timeout: *timeout, Out: stdout,
		NewHandler: func(ctx context.Context, q quarantine.Quarantine, onSummary func(consumer.Summary)) (poller.Invoker, error) {
			return anysink.NewHandler(ctx, cfg, app.Deps{
				Logger: slog.New(slog.NewJSONHandler(logOut, nil)), Metrics: logOut,
				Quarantine: q, OnSummary: onSummary,
			}, stdout)
		},
	})
	if err != nil {
		return err
	}
	_, err = r.Run(ctx)
	return err
}
