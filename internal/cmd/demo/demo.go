// Package demo runs logfan's main job end to end on a local emulator, with
// no AWS account: it starts moto_server, creates the recipient's resources
// as the stack names and configures them, creates sender log groups
// subscribed to the stream, writes log events, runs the three real consumer
// handlers through local event source mappings (package poller), reads back
// what landed in S3, Firehose's bucket and the other region's log groups,
// and reconciles every event per sink.
//
// moto delivers real gzip subscription payloads to a Kinesis stream of the
// same account; it does not emulate cross-account destinations, so the
// demo's senders subscribe to the stream itself (the destination is created
// all the same).
package demo

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logfan/logfan/internal/devkit/localenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/google/uuid"

	"github.com/logfan/logfan/internal/cli/cliflag"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/internal/devkit/poller"
	"github.com/logfan/logfan/internal/ops/healthreport"
	"github.com/logfan/logfan/internal/ops/onfailure"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/subscription"
)

// DefaultEvents is how many events `logfan demo` sends.
const DefaultEvents = 5000

// DefaultSinks are the sinks the demo runs.
var DefaultSinks = []string{config.SinkS3, config.SinkFirehose, config.SinkLogs}

// Options configure a demo run.
type Options struct {
	// Events is how many log events the senders write (DefaultEvents if 0).
	Events int
	// Seed makes the messages deterministic.
	Seed uint64
	// Endpoint, if set, is an emulator to use (moto or LocalStack) instead of starting moto.
	Endpoint string
	// Keep leaves the emulator running after the report until ctx is done.
	Keep bool
	// Names are the resource names (DefaultNames() if zero).
	Names localenv.Names
	// Sinks names the sinks to run (DefaultSinks if empty); ignored when Targets is set.
	Sinks []string
	// Targets overrides Sinks with custom targets (tests).
	Targets []Target
	// Out receives progress and the report.
	Out io.Writer
	// Log, if set, receives the handlers' JSON log lines and EMF metrics.
	Log io.Writer
	// PollInterval is the pollers' idle poll interval (default 100 ms: quicker than Lambda's second).
	PollInterval time.Duration
	// ProgressEvery is how often progress is printed (default 1 s).
	ProgressEvery time.Duration
	// RetryDelay is the pollers' first pause before a retry (default 200 ms).
	RetryDelay time.Duration
	// RunID tags this run's messages (default: derived from the start time).
	RunID string
	// Routes runs the sinks with the demo's route table (Routes) and
	// reconciles each route's targets instead of each sink.
	Routes bool
	// Faults is the share of the handlers' AWS requests (sinks, quarantine,
	// ledger) failed on the way to the emulator: throttling, 5xx, timeouts.
	Faults float64
	// Silent stops the last sender halfway (its heartbeats and its data):
	// the watchdog must then report it silent.
	Silent bool
	// Hub runs the recipient as a hub of centralized logs: its own log
	// groups carry the events of DemoAccounts in two regions, named by
	// their system fields (HubSenders), and every event must land under
	// its source account and region (Report.Hub).
	Hub bool
	// Soak samples the process's memory while the consumers run, every
	// SampleEvery (default 250 ms), and measures each sink's events per
	// second (Report.Soak).
	Soak        bool
	SampleEvery time.Duration

	// writersDone turns true once the senders wrote everything: a
	// mapping started before (a soak's) ends only after that.
	writersDone *atomic.Bool
}

// Validate checks the options that a caller chooses (events, sinks, fault
// share), so that a bad one is refused before the emulator, the resources
// and the events are set up.
func (o Options) Validate() error {
	if o.Events < 0 {
		return fmt.Errorf("-events %d: want at least 1", o.Events)
	}
	if o.Faults < 0 || o.Faults >= 1 {
		return fmt.Errorf("-faults %v: want a share from 0 to below 1", o.Faults)
	}
	if o.Hub && (o.Routes || o.Silent || o.Soak) {
		return errors.New("-hub runs alone: not with -routes, -silent or -soak")
	}
	if len(o.Targets) > 0 {
		return nil
	}
	known := []string{config.SinkS3, config.SinkFirehose, config.SinkLogs, config.SinkStdout}
	if o.Routes {
		known = DefaultSinks // the route table names AWS targets only
	}
	sinks := cliflag.NewSinks(DefaultSinks)
	if len(o.Sinks) > 0 {
		if err := sinks.Set(strings.Join(o.Sinks, ",")); err != nil {
			return err
		}
	}
	if err := sinks.Check("sink", known); err != nil {
		if o.Routes {
			return fmt.Errorf("%w (-routes runs the AWS sinks)", err)
		}
		return err
	}
	return nil
}

// Run performs the demo and returns its report; the error is about the run
// itself (the emulator, a resource, a handler that could not start), not
// about lost events: check Report.Lost.
func (o Options) Run(ctx context.Context) (*Report, error) {
	start := time.Now()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.defaults()
	rep, err := o.newReport(start)
	if err != nil {
		return nil, err
	}
	d := &demoRun{o: &o, rep: rep}
	stopEmulator, err := d.startEmulator(ctx)
	defer stopEmulator()
	if err != nil {
		return nil, err
	}
	if err := d.setUp(ctx); err != nil {
		return nil, err
	}
	if err := d.newSinkRuns(ctx); err != nil {
		return rep, err
	}

	cs := d.newConsumers(ctx)
	defer cs.cancel()
	// A soak runs the consumers while the senders write, as a deployment
	// does: many invocations of warm handlers, each batch gathered over the
	// mappings' batching window. Otherwise they start once all is written.
	if o.Soak {
		cs.start()
	}
	if err := d.writeEvents(ctx); err != nil {
		if o.Soak {
			cs.abort()
		}
		return rep, err
	}
	if !o.Soak {
		cs.start()
	}
	if err := d.drain(ctx, cs); err != nil {
		return rep, err
	}

	if err := d.reconcile(ctx); err != nil {
		return rep, err
	}
	if o.Names.HealthTable != "" {
		if rep.Health, err = o.watchdog(ctx, d.c, d.senders); err != nil {
			return rep, err
		}
	}
	if err := d.register(ctx); err != nil {
		return rep, err
	}
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	if err := d.writeReport(); err != nil {
		return rep, err
	}
	if o.Keep && o.Endpoint == "" {
		d.keep(ctx)
	}
	return rep, nil
}

// demoRun is one Run's state, which its phases share.
type demoRun struct {
	o   *Options
	rep *Report

	endpoint string
	c        *localenv.Clients
	rec      *localenv.Recipient
	rt       *routed // nil without -routes
	groups   []localenv.SenderGroup
	senders  []Sender
	targets  []Target
	runs     []*sinkRun
	sent     *Sent
}

// newReport starts the run's report under its run ID, which tags the
// run's messages (derived from the start time unless o.RunID is set).
func (o *Options) newReport(start time.Time) (*Report, error) {
	rep := &Report{Run: o.RunID}
	if rep.Run == "" {
		rep.Run = fmt.Sprintf("%x", sha256.Sum256([]byte(start.String())))[:8]
	}
	if strings.Contains(rep.Run, ":") {
		return nil, fmt.Errorf("run ID %q: no colons", rep.Run)
	}
	return rep, nil
}

// startEmulator starts moto_server on a free loopback port, unless
// o.Endpoint names an emulator, and points the process's AWS environment
// at it (the handlers build their SDK clients from it, as in Lambda). The
// func it returns, also on error, undoes what was done: Run defers it, so
// moto stops on every path, success, failure or interrupt (the CLI's
// context is cancelled on SIGINT/SIGTERM, which unwinds to Run).
func (d *demoRun) startEmulator(ctx context.Context) (stop func(), err error) {
	stop = func() {}
	srv := &emulator.Server{Endpoint: d.o.Endpoint}
	if srv.Endpoint == "" {
		d.o.printf("starting moto_server on a free loopback port...")
		if srv, err = emulator.Start(ctx); err != nil {
			return stop, err
		}
		stop = srv.Stop
	}
	d.endpoint, d.rep.Endpoint = srv.Endpoint, srv.Endpoint
	restore, err := setenv(srv.Env(localenv.Region))
	if err != nil {
		return stop, err
	}
	stopServer := stop
	d.o.printf("emulator at %s (run %s)", d.endpoint, d.rep.Run)
	return func() { restore(); stopServer() }, nil
}

// setUp creates the recipient's resources (with -routes, the route
// table's too) and the senders' subscribed log groups, and chooses the
// senders: the demo's accounts, or with -hub the hub's sources.
func (d *demoRun) setUp(ctx context.Context) error {
	o := d.o
	var err error
	if d.c, err = localenv.NewClients(ctx); err != nil {
		return err
	}
	if d.rec, err = localenv.SetupRecipient(ctx, d.c, o.Names); err != nil {
		return err
	}
	d.rep.Shards = d.rec.Shards
	if o.Routes {
		if d.rt, err = setupRoutes(ctx, d.c, d.rec, o.Names); err != nil {
			return err
		}
	}
	d.groups = localenv.SenderGroups()
	if err := localenv.SetupSenders(ctx, d.c, d.rec, append(d.groups, localenv.HeartbeatGroup())); err != nil {
		return err
	}
	d.senders = DemoSenders(localenv.AccountOf(d.rec.StreamARN))
	if o.Hub {
		// The stack's hub mode: the functions trust the recipient's own
		// payloads to name their events' source account.
		o.Names.HubAccount = localenv.AccountOf(d.rec.StreamARN)
		d.senders = HubSenders(o.Names.HubAccount)
	}
	o.printf("recipient: stream %s (%d shards), destination %s, buckets %s (S3 sink) %s (Firehose) %s (quarantine, on-failure), Firehose stream %s, logs sink to %s",
		o.Names.Stream, d.rec.Shards, localenv.DestinationName, o.Names.DataBucket, o.Names.FirehoseBucket, o.Names.QuarantineBucket, o.Names.FirehoseStream, localenv.LogsRegion)
	return nil
}

// newSinkRuns chooses the targets (the routes', the tests', or the
// sinks') and builds each one's run: its handlers and its event source
// mapping (poller).
func (d *demoRun) newSinkRuns(ctx context.Context) error {
	o := d.o
	d.targets = o.Targets
	var err error
	switch {
	case d.rt != nil:
		if d.targets, err = d.rt.sinkTargets(ctx, d.c, o.Names, o.Sinks); err != nil {
			return err
		}
	case len(d.targets) == 0:
		if d.targets, err = AWSTargets(d.c, o.Names, o.Sinks); err != nil {
			return err
		}
	}
	if o.Hub {
		for _, t := range d.targets {
			if t.SetHubAccount != nil {
				t.SetHubAccount(o.Names.HubAccount)
			}
		}
	}
	o.writersDone = &atomic.Bool{}
	d.runs = make([]*sinkRun, len(d.targets))
	for i, t := range d.targets {
		// One function writes sender health, as in the stack: the first.
		healthTable := ""
		if i == 0 {
			healthTable = o.Names.HealthTable
		}
		if d.runs[i], err = o.newSinkRun(ctx, d.c, d.rec, t, healthTable); err != nil {
			return err
		}
	}
	return nil
}

// consumerStatus is every consumer's progress on one line.
func (d *demoRun) consumerStatus() string {
	parts := make([]string, len(d.runs))
	for i, r := range d.runs {
		parts[i] = r.status()
	}
	return "consumers: " + strings.Join(parts, " | ")
}

// consumers runs the sinks' event source mappings (pollers) all at once,
// with their progress line and, in a soak, the memory sampler.
type consumers struct {
	d      *demoRun
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   []error
	// drained is how long after start each mapping took to drain the stream.
	drained      []time.Duration
	sampler      *memSampler
	stopProgress func()
}

// newConsumers returns the consumers of d's runs, not started; cancel
// stops them.
func (d *demoRun) newConsumers(ctx context.Context) *consumers {
	cs := &consumers{d: d, errs: make([]error, len(d.runs)), drained: make([]time.Duration, len(d.runs))}
	cs.ctx, cs.cancel = context.WithCancel(ctx)
	return cs
}

// start starts the progress line, the soak's sampler and every mapping.
func (cs *consumers) start() {
	o, runs := cs.d.o, cs.d.runs
	cs.stopProgress = o.progress(cs.d.consumerStatus)
	if o.Soak {
		cs.sampler = startSampler(o.SampleEvery, func() float64 { return deliveredShare(runs, o.Events) })
	}
	started := time.Now()
	for i, r := range runs {
		cs.wg.Add(1)
		go func() {
			defer cs.wg.Done()
			r.stats, cs.errs[i] = r.poller.Run(cs.ctx)
			cs.drained[i] = time.Since(started)
		}()
	}
}

// abort stops the mappings of a soak whose senders failed and waits for them.
func (cs *consumers) abort() {
	cs.cancel()
	cs.wg.Wait()
	cs.stopProgress()
}

// writeEvents has the senders write every event and their heartbeats,
// with a progress line, and says what they wrote.
func (d *demoRun) writeEvents(ctx context.Context) error {
	o := d.o
	var sentSoFar int
	var mu sync.Mutex
	stopProgress := o.progress(func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("senders: %d/%d events written", sentSoFar, o.Events)
	})
	sent, err := WriteEvents(ctx, d.c, Plan{
		Groups: d.groups, Senders: d.senders, Stream: o.Names.Stream, Run: d.rep.Run, Events: o.Events, Seed: o.Seed, StopLast: o.Silent,
		Progress: func(n int) { mu.Lock(); sentSoFar = n; mu.Unlock() },
	})
	stopProgress()
	o.writersDone.Store(true)
	d.rep.Sent, d.sent = sent, sent
	if err != nil {
		return err
	}
	senders := d.senders
	if o.Hub {
		o.printf("hub: wrote %d events in %d records to %d streams of the hub account %s's log groups, centralized from %s in %s and %s (system fields @aws.account, @aws.region; every fifth record mixes two sources), and %d heartbeats over %s of senders' time",
			sent.Events, sent.Calls, sent.Streams, o.Names.HubAccount, strings.Join(localenv.DemoAccounts, " and "), localenv.Region, HubRegion, sent.Heartbeats, SimulatedWindow)
	} else {
		o.printf("senders: wrote %d events in %d records to %d streams of %d log groups in %d accounts (%s through moto's subscription, filter %q; the others as CloudWatch Logs writes them), and %d heartbeats over %s of senders' time",
			sent.Events, sent.Calls, sent.Streams, sent.Groups, len(senders), senders[0].Account, localenv.SubscriptionFilterName, sent.Heartbeats, SimulatedWindow)
	}
	if o.Silent {
		o.printf("senders: %s stopped halfway (-silent): no data and no heartbeat for its last %s", senders[len(senders)-1].Account, SimulatedWindow/2)
	}
	return nil
}

// drain waits for every mapping to drain the stream, reports the soak's
// samples and rates and where each mapping ended, and shuts the handlers
// down.
func (d *demoRun) drain(ctx context.Context, cs *consumers) error {
	cs.wg.Wait()
	if cs.sampler != nil {
		d.rep.Soak = &SoakReport{Samples: cs.sampler.stop()}
		for i, r := range d.runs {
			r.mu.Lock()
			d.rep.Soak.EventsPerSecond = append(d.rep.Soak.EventsPerSecond, SinkRate{Sink: r.target.Sink, Events: r.sum.Delivered, Duration: cs.drained[i],
				Busy: r.busy, Invocations: r.poller.Stats().Invocations})
			r.mu.Unlock()
		}
	}
	cs.stopProgress()
	// The ticks above are snapshots taken while the mappings ran: a sink
	// still finishing its invocations and idle polls after the last tick
	// would be left showing undrained shards (or none delivered). Say where
	// every mapping ended.
	d.o.printf("%s", d.consumerStatus())
	if err := errors.Join(cs.errs...); err != nil {
		return err
	}
	// Lambda ends idle instances with SIGTERM, on which app.Main writes the
	// sender health still in memory: the same here.
	for _, r := range d.runs {
		if err := r.shutdown(ctx); err != nil {
			return err
		}
	}
	return nil
}

// reconcile reads back what each sink (with -routes, each route's
// targets) landed and reconciles it with what was sent, into the report.
func (d *demoRun) reconcile(ctx context.Context) error {
	if d.rt != nil {
		return d.reconcileRoutes(ctx)
	}
	for _, r := range d.runs {
		if err := d.reconcileSink(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// reconcileRoutes reports each sink's counters and reconciles every
// route's targets (routed.reconcile).
func (d *demoRun) reconcileRoutes(ctx context.Context) error {
	parked := map[string]map[int]bool{}
	for _, r := range d.runs {
		r.mu.Lock()
		parked[r.target.Sink] = r.parked
		sr := SinkReport{Sink: r.target.Sink, PoisonRecords: r.sum.poison, Invocations: r.stats.Invocations, Retries: r.stats.Retries, HealthErrors: r.sum.healthErrors}
		r.faultReport(&sr)
		d.rep.Sinks = append(d.rep.Sinks, sr)
		r.mu.Unlock()
	}
	return d.rt.reconcile(ctx, d.c, d.rep, localenv.AccountOf(d.rec.StreamARN), parked)
}

// reconcileSink reads back what r's sink landed and quarantined and
// reconciles it with what was sent; with -hub, also each event's source
// account and region.
func (d *demoRun) reconcileSink(ctx context.Context, r *sinkRun) error {
	landed, err := r.target.ReadBack(ctx)
	if err != nil {
		return err
	}
	q, err := d.quarantined(ctx, r)
	if err != nil {
		return err
	}
	r.mu.Lock()
	sr := reconcile(r.target.Sink, d.rep.Run, d.sent.Events, landed, q, r.sum.poison, r.parked)
	sr.HealthErrors = r.sum.healthErrors
	r.mu.Unlock()
	sr.Invocations, sr.Retries = r.stats.Invocations, r.stats.Retries
	r.mu.Lock()
	r.faultReport(&sr)
	r.mu.Unlock()
	d.rep.Sinks = append(d.rep.Sinks, sr)
	if d.o.Hub {
		landed, err := readLanded(ctx, r.target, d.rep.Run)
		if err != nil {
			return err
		}
		d.rep.Hub = append(d.rep.Hub, reconcileHub(r.target.Sink, d.sent.Origins, landed)...)
	}
	return nil
}

// quarantined counts what r's sink quarantined and, where the target can
// read its quarantine, which of this run's events it holds.
func (d *demoRun) quarantined(ctx context.Context, r *sinkRun) (quarantineTally, error) {
	r.mu.Lock()
	q := quarantineTally{count: r.sum.Quarantined}
	r.mu.Unlock()
	if r.target.Quarantined == nil {
		return q, nil
	}
	msgs, err := r.target.Quarantined(ctx)
	if err != nil {
		return q, err
	}
	q.keys = map[int]bool{}
	for _, m := range msgs {
		if run, n, ok := parseKey(m); ok && run == d.rep.Run && n >= 0 && n < d.sent.Events {
			q.keys[n] = true
		}
	}
	return q, nil
}

// register registers the stack on the emulator as the stack would show it
// to the operator commands (see RegisterDeployment), now that the records
// are consumed.
func (d *demoRun) register(ctx context.Context) error {
	o := d.o
	var sinks []string
	for _, t := range d.targets {
		sinks = append(sinks, t.Sink)
	}
	routesText := ""
	if d.rt != nil {
		routesText = d.rt.text
	}
	reg, err := RegisterDeployment(ctx, d.c, d.rec, o.Names, sinks, routesText)
	if err != nil {
		return err
	}
	o.printf("registered stack %s on the emulator: its outputs, %d functions with their environments, %d event source mappings (what `logfan doctor` reads)",
		o.Names.Stack, len(reg.FunctionARNs), len(reg.MappingUUIDs))
	return nil
}

// writeReport prints the report: the reconciliation table, the senders'
// health, the soak's figures and the summary.
func (d *demoRun) writeReport() error {
	out, rep := d.o.Out, d.rep
	fmt.Fprintln(out)
	rep.WriteTable(out)
	if rep.Health != nil {
		// The senders as `logfan senders` lists them (without -log-groups).
		table := *rep.Health
		table.Senders = slices.Clone(table.Senders)
		for i := range table.Senders {
			table.Senders[i].LogGroups = nil
		}
		fmt.Fprintln(out)
		if err := healthreport.Write(out, &table); err != nil {
			return err
		}
	}
	if rep.Soak != nil {
		rep.Soak.Write(out)
	}
	fmt.Fprintf(out, "\ndemo: %d events through %d shards in %s\n", d.sent.Events, d.rec.Shards, rep.Elapsed)
	fmt.Fprintln(out, rep.Summary())
	return nil
}

// keep leaves moto up (-keep) until ctx is done, and shows how to look
// around in it.
func (d *demoRun) keep(ctx context.Context) {
	o, endpoint := d.o, d.endpoint
	o.printf("-keep: moto stays up at %s until you press Ctrl-C; for example:", endpoint)
	fmt.Fprintf(o.Out, "  export AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=%s\n", endpoint, localenv.Region)
	fmt.Fprintf(o.Out, "  aws --endpoint-url %s s3 ls s3://%s/%s/ --recursive\n", endpoint, o.Names.DataBucket, config.DefaultS3Prefix)
	fmt.Fprintf(o.Out, "  aws --endpoint-url %s --region %s logs describe-log-groups --log-group-name-prefix /logfan/\n", endpoint, localenv.LogsRegion)
	fmt.Fprintf(o.Out, "  logfan demo -endpoint %s      # another run on the same emulator\n", endpoint)
	fmt.Fprintf(o.Out, "  logfan doctor -stack %s                # checks the deployment the demo registered\n", o.Names.Stack)
	fmt.Fprintf(o.Out, "  logfan quarantine list -stack %s\n", o.Names.Stack)
	fmt.Fprintf(o.Out, "  logfan redrive -stack %s -sink s3 -dry-run\n", o.Names.Stack)
	fmt.Fprintf(o.Out, "  logfan senders -stack %s\n", o.Names.Stack)
	<-ctx.Done()
}

func (o *Options) defaults() {
	if o.Events <= 0 {
		o.Events = DefaultEvents
	}
	if o.Names == (localenv.Names{}) {
		o.Names = localenv.DefaultNames()
	}
	if len(o.Sinks) == 0 {
		o.Sinks = DefaultSinks
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 200 * time.Millisecond
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = 250 * time.Millisecond
	}
	if o.Soak && o.PollInterval == 100*time.Millisecond {
		// Polling as often as Lambda does (once a second per idle shard):
		// quicker would only load the emulator the senders write to.
		o.PollInterval = poller.DefaultPollInterval
	}
}

func (o *Options) printf(format string, args ...any) {
	fmt.Fprintf(o.Out, "demo: "+format+"\n", args...)
}

// progress prints status() every ProgressEvery until the returned func is called.
func (o *Options) progress(status func() string) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(o.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				o.printf("%s", status())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// sinkRun is one sink's handler, poller and counters.
type sinkRun struct {
	target Target
	poller *poller.Poller
	stats  poller.Stats

	mu       sync.Mutex
	sum      totals
	busy     time.Duration // the handlers' invocations, summed over shards
	parked   map[int]bool  // events of records given to the on-failure destination
	handlers []poller.Invoker

	// faults and chaos fail a share of the handlers' AWS requests (-faults).
	faults *faults.Transport
	chaos  *faults.Chaos
}

// faultReport fills in what -faults did to this sink's requests.
func (r *sinkRun) faultReport(sr *SinkReport) {
	sr.RequestRetries = r.sum.Retried
	if r.faults == nil {
		return
	}
	sr.Faults, sr.Absorbed = r.faults.Faults()
	kinds := r.chaos.Injected()
	sr.Throttles, sr.ServerErrors, sr.Timeouts = kinds["throttle"], kinds["5xx"], kinds["hang"]
}

// shutdown ends every handler of the run as Lambda ends an instance. With
// -faults a write may fail: unlike Lambda, which gives an instance one
// chance, the demo tries again (only what is left is written again).
func (r *sinkRun) shutdown(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.handlers {
		s, ok := h.(interface{ Shutdown(context.Context) error })
		if !ok {
			continue
		}
		var err error
		for range 10 {
			if err = s.Shutdown(ctx); err == nil {
				break
			}
			r.sum.healthErrors++
		}
		if err != nil {
			return fmt.Errorf("%s: sender health at shutdown: %w", r.target.Sink, err)
		}
	}
	return nil
}

// stopWhenIdle lets a soak's mappings, started before the senders, end
// only once everything is written; the others end when drained.
func (o *Options) stopWhenIdle() func() bool {
	if !o.Soak {
		return nil
	}
	return o.writersDone.Load
}

// batchWindow is the soak's batching window (the stack's): the others read
// a stream written in full, where batches are full anyway.
func (o *Options) batchWindow() time.Duration {
	if !o.Soak {
		return 0
	}
	return localenv.BatchWindow
}

// deliveredShare is the share of the sent events the runs delivered so far, over all sinks.
func deliveredShare(runs []*sinkRun, sent int) float64 {
	if sent == 0 || len(runs) == 0 {
		return 0
	}
	n := 0
	for _, r := range runs {
		r.mu.Lock()
		n += r.sum.Delivered
		r.mu.Unlock()
	}
	return float64(n) / float64(sent*len(runs))
}

// timedInvoker adds the time each invocation of h takes to r.busy.
type timedInvoker struct {
	h poller.Invoker
	r *sinkRun
}

// Invoke implements poller.Invoker.
func (t *timedInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	out, err := t.h.Invoke(ctx, payload)
	t.r.mu.Lock()
	t.r.busy += time.Since(start)
	t.r.mu.Unlock()
	return out, err
}

// totals adds up the handler's per-invocation summaries.
type totals struct {
	consumer.Summary
	poison int
	// healthErrors counts failed sender-health flushes: invocations' and shutdown attempts'.
	healthErrors int
}

// status is one sink's progress. The handler counts its events while it
// runs and the poller its invocations once it returns, so mid-run the two
// halves may be an invocation apart; after Run they agree.
func (r *sinkRun) status() string {
	st := r.poller.Stats()
	r.mu.Lock()
	defer r.mu.Unlock()
	done := 0
	for _, s := range st.Shards {
		if s.Done {
			done++
		}
	}
	return fmt.Sprintf("%s %d events delivered (%d/%d shards drained, %d invocations, %d retries)",
		r.target.Sink, r.sum.Delivered, done, len(st.Shards), st.Invocations, st.Retries)
}

// newSinkRun builds t's run: its handlers, as Lambda's execution
// environments would run them, and its event source mapping (poller) on
// the stream, which parks what it gives up on in the on-failure bucket.
func (o *Options) newSinkRun(ctx context.Context, c *localenv.Clients, rec *localenv.Recipient, t Target, healthTable string) (*sinkRun, error) {
	r := &sinkRun{target: t, parked: map[int]bool{}}
	deps := o.handlerDeps(r, healthTable)
	// Fail fast on a sink that cannot start, before any shard is read.
	if _, err := t.NewHandler(ctx, deps); err != nil {
		return nil, fmt.Errorf("%s handler: %w", t.Sink, err)
	}
	// Then one handler per shard, like Lambda's execution environments: a
	// handler instance is never invoked concurrently.
	newHandler := func(string) (poller.Invoker, error) {
		h, err := t.NewHandler(ctx, deps)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.handlers = append(r.handlers, h)
		r.mu.Unlock()
		return &timedInvoker{h: h, r: r}, nil
	}
	account := localenv.AccountOf(rec.StreamARN)
	fn := o.Names.FunctionName(t.Sink)
	dst := &onfailure.Destination{Client: c.S3, Bucket: o.Names.OnFailureBucket, MappingUUID: mappingUUID(rec.StreamARN, fn)}
	var err error
	r.poller, err = poller.NewPerShard(c.Kinesis, newHandler, poller.Options{
		StreamARN: rec.StreamARN, Name: t.Sink, BatchSize: localenv.BatchSize, MaxRetryAttempts: localenv.RetryAttempts, BisectOnFunctionError: true,
		Timeout: localenv.FunctionTimeout, PollInterval: o.PollInterval, RetryDelay: o.RetryDelay,
		StopWhenIdle: o.stopWhenIdle(), BatchWindow: o.batchWindow(),
		FunctionARN: "arn:aws:lambda:" + localenv.Region + ":" + account + ":function:" + fn,
		RoleARN:     "arn:aws:iam::" + account + ":role/" + fn,
		OnFailure:   o.onFailure(r, dst),
	})
	return r, err
}

// handlerDeps are the dependencies of r's handlers: their log lines and
// metrics, the summaries r adds up, sender health (healthTable, if set)
// and an HTTP client with DynamoDB's per-item atomicity and, with
// -faults, failures injected.
func (o *Options) handlerDeps(r *sinkRun, healthTable string) app.Deps {
	t := r.target
	logOut := io.Discard
	if o.Log != nil {
		logOut = o.Log
	}
	deps := app.Deps{
		Logger:  slog.New(slog.NewJSONHandler(logOut, nil)).With("function", o.Names.FunctionName(t.Sink)),
		Metrics: logOut,
		OnSummary: func(s consumer.Summary) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.sum.Records += s.Records
			r.sum.Events += s.Events
			r.sum.Delivered += s.Delivered
			r.sum.Quarantined += s.Quarantined
			r.sum.Rejected += s.Rejected
			r.sum.poison += len(s.Poison)
			r.sum.Heartbeats += s.Heartbeats
			r.sum.Retried += s.Retried
			if s.HealthErr != "" {
				r.sum.healthErrors++
			}
		},
		HealthTable: healthTable,
	}
	// The handlers stand for separate Lambda instances writing the same
	// DynamoDB items at once (sender health: every shard's instance adds
	// to the same log-group and sender items). moto applies each such
	// write as an unlocked read-modify-write and loses concurrent ones;
	// emulator.ItemLocks gives it DynamoDB's per-item atomicity.
	var transport http.RoundTripper = awshttp.NewBuildableClient().GetTransport()
	if o.Faults > 0 {
		r.chaos = faults.NewChaos(o.Seed, uint64(len(t.Sink)), o.Faults)
		r.chaos.NoHang = true // a hang would only wait out the 30 s attempt timeout
		r.faults = &faults.Transport{Base: transport, Inject: r.chaos.Inject}
		transport = r.faults
	}
	deps.HTTPClient = &http.Client{Transport: &emulator.ItemLocks{Base: transport}}
	return deps
}

// onFailure is r's mapping's on-failure destination: it parks a batch the
// mapping gave up on in dst, as Lambda does, and remembers which events
// are parked there, for reconciliation.
func (o *Options) onFailure(r *sinkRun, dst *onfailure.Destination) func(context.Context, onfailure.Discarded) error {
	dec := subscription.NewDecoder(0)
	return func(ctx context.Context, d onfailure.Discarded) error {
		if err := dst.Put(ctx, d); err != nil {
			return err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, kr := range d.Records {
			m, err := dec.Decode(kr.Data)
			if err != nil {
				continue
			}
			for _, e := range m.LogEvents {
				if _, n, ok := parseKey(e.Message); ok {
					r.parked[n] = true
				}
			}
		}
		o.printf("%s: %d records from %s on %s went to s3://%s after %d attempts: %s",
			r.target.Sink, len(d.Records), aws.ToString(d.Records[0].SequenceNumber), d.ShardID, dst.Bucket, d.InvokeCount, d.Reason)
		return nil
	}
}

// mappingUUID derives a stable UUID-shaped ID for an emulated event source
// mapping, used in on-failure object keys as Lambda uses the real one.
func mappingUUID(streamARN, function string) string {
	h := sha256.Sum256([]byte(streamARN + "\x00" + function))
	return uuid.UUID(h[:16]).String()
}

// setenv applies KEY=VALUE pairs to the process environment (the handlers
// build their SDK clients from it, as in Lambda) and returns a func that
// restores the previous values.
func setenv(kvs []string) (func(), error) {
	type old struct {
		v  string
		ok bool
	}
	prev := map[string]old{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		if _, seen := prev[k]; !seen {
			pv, ok := os.LookupEnv(k)
			prev[k] = old{pv, ok}
		}
		if err := os.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("set %s: %w", k, err)
		}
	}
	return func() {
		for k, p := range prev {
			if p.ok {
				_ = os.Setenv(k, p.v)
			} else {
				_ = os.Unsetenv(k)
			}
		}
	}, nil
}
