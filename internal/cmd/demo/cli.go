package demo

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/logfan/logfan/internal/cli/cliflag"
	"github.com/logfan/logfan/internal/cli/usage"
)

// demoUsage is what -h prints above the flags.
const demoUsage = `usage: logfan demo [-events N] [-keep] [-endpoint URL] [-sink s3,firehose,logs] [-routes] [-silent] [-hub] [-soak] [-seed N] [-faults 0.3] [-v]

Runs the recipient side end to end on a local moto_server: sender log groups subscribed to the
stream, the real consumer handlers behind local event source mappings, and a reconciliation
of every event per sink, then the senders' health as the watchdog sees it. moto does not emulate
cross-account destinations: the emulator's own account subscribes to the stream itself, and the
demo's other sender accounts' records are written into the stream as CloudWatch Logs writes them.
`

// Run is `logfan demo`: it exits non-zero when an event was lost.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := usage.NewFlagSet("demo", stderr, demoUsage)
	events := fs.Int("events", DefaultEvents, "log events the senders write")
	keep := fs.Bool("keep", false, "leave moto running after the report (until Ctrl-C) and print its endpoint")
	endpoint := fs.String("endpoint", "", "use this emulator (moto_server or LocalStack URL) instead of starting moto")
	sinks := cliflag.NewSinks(DefaultSinks)
	fs.Var(sinks, "sink", "sinks to run, comma-separated or repeated: s3, firehose, logs (stdout: in memory, no AWS sink)")
	cliflag.Deprecated(fs, "sinks", "sink", stderr)
	seed := fs.Uint64("seed", 1, "seed of the generated log messages")
	routed := fs.Bool("routes", false, "run the sinks with a built-in route table (several targets, a drop, a second S3 prefix, Firehose stream and Logs region) and reconcile each route's targets")
	verbose := fs.Bool("v", false, "print the handlers' JSON log lines and EMF metrics to stderr")
	faultRate := fs.Float64("faults", 0, "share (0 to 1) of the handlers' AWS requests to fail on the way to the emulator: throttling, 5xx, timeouts")
	soak := fs.Bool("soak", false, "run the consumers while the senders write (5 s batching window), sample this process's memory, print events/s per sink and the memory curve, and fail on a duplicate or when the peak resident memory of the last quarter of the events delivered exceeds the second quarter's by more than 10% (make soak)")
	silent := fs.Bool("silent", false, "stop the last sender account halfway (its data and heartbeats): the watchdog must report it silent")
	hub := fs.Bool("hub", false, "run the recipient as a hub of logs CloudWatch Logs centralized: its own log groups carry two accounts' events from two regions, named by system fields; every event must land under its source account and region")
	// Every flag is checked here, before moto, the resources and the events.
	if err := usage.Parse(fs, args); err != nil {
		return err
	}
	if err := usage.NoArgs(fs); err != nil {
		return err
	}
	if *events < 1 {
		return usage.Errorf("-events %d: want at least 1", *events)
	}
	if *endpoint != "" {
		if u, err := url.Parse(*endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usage.Errorf("-endpoint %q: want the emulator's URL, such as http://127.0.0.1:5000", *endpoint)
		}
	}
	o := Options{Events: *events, Keep: *keep, Endpoint: *endpoint, Seed: *seed, Out: stdout, Routes: *routed, Faults: *faultRate, Silent: *silent, Soak: *soak, Hub: *hub, Sinks: sinks.Names()}
	if err := o.Validate(); err != nil {
		return usage.Wrap(err)
	}
	if *verbose {
		o.Log = stderr
	}
	rep, err := o.Run(ctx)
	if err != nil {
		return err
	}
	if lost := rep.Lost(); lost > 0 {
		return fmt.Errorf("%d events lost", lost)
	}
	if rep.Misrouted > 0 {
		return fmt.Errorf("%d events landed in a target their route does not name", rep.Misrouted)
	}
	if err := rep.SoakProblem(); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	if err := rep.HealthProblem(*silent); err != nil {
		return fmt.Errorf("sender health: %w", err)
	}
	if err := rep.hubProblem(); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}
