// Package replay runs a Lambda event file through a real logfan handler,
// in process, the way the Lambda runtime does (lambda.NewHandler(...).Invoke),
// with no Docker and no AWS account for the stdout sink.
package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/logfan/logfan/internal/cli/cliflag"
	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/quarantine"
)

// Run is `logfan replay`: each event file in turn through one handler (a
// warm function), a summary per file on stderr. It fails when a file left
// events for Lambda to retry.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := config.Load(f.sink, f.getenv())
	if err != nil {
		// Flags and environment are the command's input: nothing ran yet.
		return usage.Wrap(err)
	}
	r, err := f.newReplayer(ctx, cfg, stdout, stderr)
	if err != nil {
		return err
	}
	var retries []string
	for _, file := range f.files {
		sum, err := r.replay(ctx, file)
		if err != nil {
			return err
		}
		if sum.RetryFrom != "" {
			retries = append(retries, fmt.Sprintf("%s: %d events not delivered; Lambda would retry from %s: %s", file, sum.RetryEvents, sum.RetryFrom, sum.Err))
		}
	}
	if len(retries) > 0 {
		return errors.New(strings.Join(retries, "\n"))
	}
	return nil
}

// flags are `logfan replay`'s flags, checked.
type flags struct {
	files           []string // the -event files, folders and globs, expanded
	sink            string
	timeout         time.Duration
	verbose, rebase bool
	routes          *cliflag.Routes // -routes, read; nil if not given
}

// replayUsage is what -h prints above the flags.
const replayUsage = `usage: logfan replay -event FILE|DIR|GLOB [-event ...] [-sink stdout|s3|firehose|logs] [-routes FILE|@FILE|JSON] [-rebase] [-timeout 60s] [-v]

Runs each event through one real handler, in process, as Lambda would (one warm function).
With -sink stdout, delivered events are printed to stdout as NDJSON and quarantined
records to stderr; other sinks read the same LOGFAN_* variables the functions read.
`

// parseFlags parses and checks the flags and reads -routes; a bad one is a
// usage error.
func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	fs := usage.NewFlagSet("replay", stderr, replayUsage)
	var events cliflag.Events
	fs.Var(&events, "event", cliflag.EventUsage)
	sinkName := fs.String("sink", config.SinkStdout, "sink: stdout, s3, firehose or logs (configured by LOGFAN_* variables, as in Lambda)")
	timeout := fs.Duration("timeout", 60*time.Second, "each invocation's deadline, like a function timeout")
	verbose := fs.Bool("v", false, "also print the handler's JSON log line and EMF metrics to stderr")
	routesArg := fs.String("routes", "", cliflag.RoutesUsage+"; overrides LOGFAN_ROUTES*: stdout lines then name their targets")
	rebase := fs.Bool("rebase", false, "shift event timestamps so the newest is now (CloudWatch Logs rejects events older than 14 days)")
	if err := cliflag.Parse(fs, args, &events); err != nil {
		return nil, err
	}
	if *timeout < config.MinFunctionTimeout {
		return nil, usage.Errorf("-timeout %v: want at least %v, like a function timeout", *timeout, config.MinFunctionTimeout)
	}
	files, err := events.Files(stderr)
	if err != nil {
		return nil, err
	}
	f := &flags{files: files, sink: *sinkName, timeout: *timeout, verbose: *verbose, rebase: *rebase}
	if *routesArg != "" {
		rt, err := cliflag.ReadRoutes(*routesArg)
		if err != nil {
			return nil, err
		}
		f.routes = &rt
	}
	return f, nil
}

// getenv is the environment the handler's configuration is read from: the
// process's, with -routes in place of LOGFAN_ROUTES*.
func (f *flags) getenv() func(string) string {
	rt := f.routes
	if rt == nil {
		return os.Getenv
	}
	// The flag wins over the environment: one table, read the way a function reads it.
	return func(k string) string {
		switch k {
		case config.EnvRoutes:
			if rt.File == "" {
				return string(rt.Text)
			}
			return ""
		case config.EnvRoutesFile:
			return rt.File
		}
		return os.Getenv(k)
	}
}

// replayer is one warm handler of cfg's sink, invoked as the Lambda
// runtime does; with the stdout sink it quarantines in memory, to print
// what each file quarantined.
type replayer struct {
	f       *flags
	invoker lambda.Handler
	mem     *quarantine.Memory
	sum     consumer.Summary // the last invocation's
	stderr  io.Writer
}

// newReplayer builds the handler.
func (f *flags) newReplayer(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) (*replayer, error) {
	logOut := io.Discard
	if f.verbose {
		logOut = stderr
	}
	r := &replayer{f: f, stderr: stderr}
	var q quarantine.Quarantine
	if f.sink == config.SinkStdout {
		r.mem = &quarantine.Memory{}
		q = r.mem
	}
	h, err := anysink.NewHandler(ctx, cfg, app.Deps{
		Logger:     slog.New(slog.NewJSONHandler(logOut, nil)),
		Metrics:    logOut,
		Quarantine: q,
		OnSummary:  func(s consumer.Summary) { r.sum = s },
	}, stdout)
	if err != nil {
		return nil, err
	}
	r.invoker = lambda.NewHandler(h)
	return r, nil
}

// replay invokes the handler with one event file (rebased if asked),
// prints its summary and response, and returns the summary.
func (r *replayer) replay(ctx context.Context, file string) (consumer.Summary, error) {
	payload, err := os.ReadFile(file)
	if err != nil {
		return consumer.Summary{}, err
	}
	if r.f.rebase {
		if payload, err = eventgen.Rebase(payload, time.Now()); err != nil {
			return consumer.Summary{}, fmt.Errorf("rebase %s: %w", file, err)
		}
	}
	r.sum = consumer.Summary{}
	seen := 0 // quarantine entries of the files before
	if r.mem != nil {
		seen = len(r.mem.Entries())
	}
	ictx, cancel := context.WithTimeout(ctx, r.f.timeout)
	ictx = lambdacontext.NewContext(ictx, &lambdacontext.LambdaContext{AwsRequestID: "replay-" + time.Now().UTC().Format("20060102T150405Z")})
	resp, err := r.invoker.Invoke(ictx, payload)
	cancel()
	var entries []quarantine.Entry
	if r.mem != nil {
		entries = r.mem.Entries()[seen:]
	}
	printSummary(r.stderr, file, r.sum, entries)
	if err != nil {
		return r.sum, fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintf(r.stderr, "response: %s\n", resp)
	return r.sum, nil
}

func printSummary(w io.Writer, file string, s consumer.Summary, quarantined []quarantine.Entry) {
	fmt.Fprintf(w, "replay %s: %d records, %d control messages, %d events, %d delivered, %d quarantined events, %d rejected, %d poison records\n",
		file, s.Records, s.ControlMessages, s.Events, s.Delivered, s.Quarantined, s.Rejected, len(s.Poison))
	if len(s.Routes) > 0 || s.Dropped > 0 || s.OtherSinks > 0 {
		fmt.Fprintf(w, "  routes: %d events dropped (no route or to: []), %d left to other sinks\n", s.Dropped, s.OtherSinks)
		for _, rc := range s.Routes {
			fmt.Fprintf(w, "  route %s: %d events, %d deliveries to %s\n", rc.Route, rc.Events, rc.Deliveries, strings.Join(rc.Targets, ", "))
		}
	}
	for _, p := range s.Poison {
		fmt.Fprintf(w, "  poison record %s: %s\n", p.SequenceNumber, p.Reason)
	}
	for _, e := range quarantined {
		if e.Kind == quarantine.KindEvent {
			line, _ := json.Marshal(map[string]any{"sink": e.Sink, "sequenceNumber": e.SequenceNumber, "event": e.Event, "eventId": e.EventID, "reason": e.Reason})
			fmt.Fprintf(w, "  quarantined event %s\n", line)
		}
	}
}
