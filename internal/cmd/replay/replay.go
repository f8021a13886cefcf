// Package replay runs a Lambda event file through a real logfan handler,
// in process, the way the Lambda runtime does (lambda.NewHandler(...).Invoke),
// with no Docker and no AWS account for the stdout sink.
package replay

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var events cliflag.Events
	fs.Var(&events, "event", cliflag.EventUsage)
	sinkName := fs.String("sink", config.SinkStdout, "sink: stdout, s3, firehose or logs (configured by LOGFAN_* variables, as in Lambda)")
	timeout := fs.Duration("timeout", 60*time.Second, "each invocation's deadline, like a function timeout")
	verbose := fs.Bool("v", false, "also print the handler's JSON log line and EMF metrics to stderr")
	routesArg := fs.String("routes", "", cliflag.RoutesUsage+"; overrides LOGFAN_ROUTES*: stdout lines then name their targets")
	rebase := fs.Bool("rebase", false, "shift event timestamps so the newest is now (CloudWatch Logs rejects events older than 14 days)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: logfan replay -event FILE|DIR|GLOB [-event ...] [-sink stdout|s3|firehose|logs] [-routes FILE|@FILE|JSON] [-rebase] [-timeout 60s] [-v]")
		fmt.Fprintln(stderr, "\nRuns each event through one real handler, in process, as Lambda would (one warm function).")
		fmt.Fprintln(stderr, "With -sink stdout, delivered events are printed to stdout as NDJSON and quarantined")
		fmt.Fprintln(stderr, "records to stderr; other sinks read the same LOGFAN_* variables the functions read.")
		fs.PrintDefaults()
	}
	if err := cliflag.Parse(fs, args, &events); err != nil {
		return err
	}
	if *timeout < config.MinFunctionTimeout {
		return usage.Errorf("-timeout %v: want at least %v, like a function timeout", *timeout, config.MinFunctionTimeout)
	}
	files, err := events.Files(stderr)
	if err != nil {
		return err
	}
	getenv := os.Getenv
	if *routesArg != "" {
		rt, err := cliflag.ReadRoutes(*routesArg)
		if err != nil {
			return err
		}
		// The flag wins over the environment: one table, read the way a function reads it.
		getenv = func(k string) string {
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
	cfg, err := config.Load(*sinkName, getenv)
	if err != nil {
		// Flags and environment are the command's input: nothing ran yet.
		return usage.Wrap(err)
	}

	logOut := io.Discard
	if *verbose {
		logOut = stderr
	}
	var mem *quarantine.Memory
	var q quarantine.Quarantine
	if *sinkName == config.SinkStdout {
		mem = &quarantine.Memory{}
		q = mem
	}
	var sum consumer.Summary
	h, err := anysink.NewHandler(ctx, cfg, app.Deps{
		Logger:     slog.New(slog.NewJSONHandler(logOut, nil)),
		Metrics:    logOut,
		Quarantine: q,
		OnSummary:  func(s consumer.Summary) { sum = s },
	}, stdout)
	if err != nil {
		return err
	}
	invoker := lambda.NewHandler(h)
	var retries []string
	for _, file := range files {
		payload, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if *rebase {
			if payload, err = eventgen.Rebase(payload, time.Now()); err != nil {
				return fmt.Errorf("rebase %s: %w", file, err)
			}
		}
		sum = consumer.Summary{}
		seen := 0 // quarantine entries of the files before
		if mem != nil {
			seen = len(mem.Entries())
		}
		ictx, cancel := context.WithTimeout(ctx, *timeout)
		ictx = lambdacontext.NewContext(ictx, &lambdacontext.LambdaContext{AwsRequestID: "replay-" + time.Now().UTC().Format("20060102T150405Z")})
		resp, err := invoker.Invoke(ictx, payload)
		cancel()
		var entries []quarantine.Entry
		if mem != nil {
			entries = mem.Entries()[seen:]
		}
		printSummary(stderr, file, sum, entries)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		fmt.Fprintf(stderr, "response: %s\n", resp)
		if sum.RetryFrom != "" {
			retries = append(retries, fmt.Sprintf("%s: %d events not delivered; Lambda would retry from %s: %s", file, sum.RetryEvents, sum.RetryFrom, sum.Err))
		}
	}
	if len(retries) > 0 {
		return errors.New(strings.Join(retries, "\n"))
	}
	return nil
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
