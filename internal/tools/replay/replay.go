// Package replay runs a Lambda event file through a real logfan handler,
// in process, the way the Lambda runtime does (lambda.NewHandler(...).Invoke),
// with no Docker and no AWS account for the stdout sink.
package replay

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/logfan/logfan/internal/tools/anysink"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/quarantine"
)

// Run is `logfan replay`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	event := fs.String("event", "", "Lambda event JSON file to replay (Kinesis or awslogs event)")
	sinkName := fs.String("sink", config.SinkStdout, "sink: stdout, s3, firehose or logs (configured by LOGFAN_* variables, as in Lambda)")
	timeout := fs.Duration("timeout", 60*time.Second, "the invocation's deadline, like a function timeout")
	verbose := fs.Bool("v", false, "also print the handler's JSON log line and EMF metrics to stderr")
	routesFile := fs.String("routes", "", "route table JSON file (as LOGFAN_ROUTES_FILE; overrides LOGFAN_ROUTES*): stdout lines then name their targets")
	rebase := fs.Bool("rebase", false, "shift event timestamps so the newest is now (CloudWatch Logs rejects events older than 14 days)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: logfan replay -event FILE [-sink stdout|s3|firehose|logs] [-routes FILE] [-rebase] [-timeout 60s] [-v]")
		fmt.Fprintln(stderr, "\nWith -sink stdout, delivered events are printed to stdout as NDJSON and quarantined")
		fmt.Fprintln(stderr, "records to stderr; other sinks read the same LOGFAN_* variables the functions read.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *event == "" {
		fs.Usage()
		return fmt.Errorf("-event is required")
	}
	if *timeout < config.MinFunctionTimeout {
		return fmt.Errorf("-timeout %v: want at least %v, like a function timeout", *timeout, config.MinFunctionTimeout)
	}
	payload, err := os.ReadFile(*event)
	if err != nil {
		return err
	}
	if *rebase {
		if payload, err = Rebase(payload, time.Now()); err != nil {
			return fmt.Errorf("rebase %s: %w", *event, err)
		}
	}
	getenv := os.Getenv
	if *routesFile != "" {
		// The flag wins over the environment: one table, read the way a function reads it.
		getenv = func(k string) string {
			switch k {
			case config.EnvRoutes:
				return ""
			case config.EnvRoutesFile:
				return *routesFile
			}
			return os.Getenv(k)
		}
	}
	cfg, err := config.Load(*sinkName, getenv)
	if err != nil {
		return err
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

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "replay-" + time.Now().UTC().Format("20060102T150405Z")})
	resp, err := lambda.NewHandler(h).Invoke(ctx, payload)
	printSummary(stderr, *event, sum, mem)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "response: %s\n", resp)
	if sum.RetryFrom != "" {
		return fmt.Errorf("%d events not delivered; Lambda would retry from %s: %s", sum.RetryEvents, sum.RetryFrom, sum.Err)
	}
	return nil
}

func printSummary(w io.Writer, file string, s consumer.Summary, mem *quarantine.Memory) {
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
	if mem != nil {
		for _, e := range mem.Entries() {
			if e.Kind == quarantine.KindEvent {
				line, _ := json.Marshal(map[string]any{"sink": e.Sink, "sequenceNumber": e.SequenceNumber, "event": e.Event, "eventId": e.EventID, "reason": e.Reason})
				fmt.Fprintf(w, "  quarantined event %s\n", line)
			}
		}
	}
}
