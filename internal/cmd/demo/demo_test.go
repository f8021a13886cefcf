package demo

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/devkit/localenv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/poller"
	"github.com/logfan/logfan/internal/ops/onfailure"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/subscription"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

var runCount atomic.Int32

// testOptions runs against the package's emulator with names of its own.
func testOptions(t *testing.T, events int) (Options, *bytes.Buffer) {
	t.Helper()
	out := &bytes.Buffer{}
	suffix := fmt.Sprintf("-t%d", runCount.Add(1))
	return Options{Events: events, Endpoint: srv.Endpoint, Names: localenv.DefaultNames().WithSuffix(suffix), Out: out, Seed: 7, ProgressEvery: 200 * time.Millisecond}, out
}

// TestDemoAllSinks is the demo itself, smaller: the three real sinks, each
// behind its own event source mapping, must each hold every event exactly once.
func TestDemoAllSinks(t *testing.T) {
	emutest.Require(t, srv)
	o, out := testOptions(t, 300)
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if len(rep.Sinks) != 3 {
		t.Fatalf("%d sinks reported, want 3\n%s", len(rep.Sinks), out)
	}
	for _, s := range rep.Sinks {
		if s.Lost != 0 || !s.ExactlyOnce() {
			t.Errorf("%s: %+v", s.Sink, s)
		}
	}
	want := "demo: sent 300 events; s3 300, firehose 300, logs 300; lost 0; senders 3 ok"
	if !strings.Contains(out.String(), want+"\n") {
		t.Fatalf("output lacks %q:\n%s", want, out)
	}
}

func TestDemoStdoutEndToEnd(t *testing.T) {
	emutest.Require(t, srv)
	o, out := testOptions(t, 1200)
	o.Targets = []Target{StdoutTarget()}
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	s := rep.Sinks[0]
	if s.Sent != 1200 || !s.ExactlyOnce() || s.Lost != 0 || rep.Shards < 2 {
		t.Fatalf("report %+v (shards %d)\n%s", s, rep.Shards, out)
	}
	if rep.Sent.Groups != len(localenv.SenderGroups())*len(rep.Sent.Accounts) || rep.Sent.Calls < 1200/MaxEventsPerCall {
		t.Fatalf("sent %+v", rep.Sent)
	}
	for _, want := range []string{"demo: senders: wrote 1200 events", "sink  sent  landed", "demo: sent 1200 events; stdout 1200; lost 0; senders 3 ok\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// flaky wraps a handler: it fails the first invocation of every shard, and
// fails every invocation holding the event numbered poison (when >= 0)
// until the poller gives its records up.
type flaky struct {
	h      poller.Invoker
	run    string
	poison int
	seen   sync.Map
	calls  atomic.Int32
}

func (f *flaky) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.calls.Add(1)
	inv, err := invocation.Parse(payload)
	if err != nil {
		return nil, err
	}
	if _, loaded := f.seen.LoadOrStore(inv.Records[0].ShardID(), true); !loaded {
		return nil, errors.New("cold start hiccup")
	}
	if f.poison >= 0 {
		key := []byte(eventKey(f.run, f.poison))
		for i, r := range inv.Records {
			if !containsGzipped(r.Data, key) {
				continue
			}
			// Process the records before the poison one for real, then
			// report the poison one, as a handler failing on it would.
			if i > 0 {
				var ev events.KinesisEvent
				if err := json.Unmarshal(payload, &ev); err != nil {
					return nil, err
				}
				ev.Records = ev.Records[:i]
				prefix, _ := json.Marshal(ev)
				resp, err := f.h.Invoke(ctx, prefix)
				if err != nil || !bytes.Contains(resp, []byte(`"batchItemFailures":[]`)) {
					return resp, err
				}
			}
			return []byte(fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, r.SequenceNumber)), nil
		}
	}
	return f.h.Invoke(ctx, payload)
}

func TestDemoRetriesAndOnFailureAreReconciled(t *testing.T) {
	emutest.Require(t, srv)
	o, out := testOptions(t, 600)
	o.RunID = "flaky1"
	o.RetryDelay = time.Millisecond
	base := StdoutTarget()
	var handlers []*flaky
	var mu sync.Mutex
	o.Targets = []Target{{
		Sink: "stdout",
		NewHandler: func(ctx context.Context, d app.Deps) (poller.Invoker, error) {
			h, err := base.NewHandler(ctx, d)
			f := &flaky{h: h, run: o.RunID, poison: 123}
			mu.Lock()
			handlers = append(handlers, f)
			mu.Unlock()
			return f, err
		},
		ReadBack: base.ReadBack,
	}}
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	s := rep.Sinks[0]
	if s.Lost != 0 || s.Missing == 0 || s.OnFailure != s.Missing || s.Duplicates != 0 || s.Retries == 0 {
		t.Fatalf("report %+v\n%s", s, out)
	}
	// The parked records are in the on-failure bucket, in Lambda's format.
	c := emutest.Clients(t, srv)
	objs, err := c.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(o.Names.OnFailureBucket), Prefix: aws.String(onfailure.KeyPrefix)})
	if err != nil || len(objs.Contents) != 1 {
		t.Fatalf("on-failure objects: %v, %v", objs, err)
	}
	if !strings.Contains(out.String(), "went to s3://"+o.Names.OnFailureBucket) {
		t.Fatalf("output does not report the on-failure hand-off:\n%s", out)
	}
}

// containsGzipped reports whether gzip data inflates to something containing sub.
func containsGzipped(data, sub []byte) bool {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return false
	}
	b, err := io.ReadAll(zr)
	return err == nil && bytes.Contains(b, sub)
}

func TestDemoStopsTheEmulatorItStarted(t *testing.T) {
	emutest.Require(t, srv)
	tests := []struct {
		name    string
		target  Target
		wantErr bool
	}{
		{"success", StdoutTarget(), false},
		{"failure", Target{Sink: "broken", NewHandler: func(context.Context, app.Deps) (poller.Invoker, error) {
			return nil, errors.New("cold start failed")
		}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := &bytes.Buffer{}
			before := os.Getenv("AWS_ENDPOINT_URL")
			o := Options{Events: 50, Out: out, Targets: []Target{tc.target}}
			_, err := o.Run(context.Background())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v\n%s", err, out)
			}
			endpoint := between(out.String(), "emulator at ", " ")
			if endpoint == "" || endpoint == srv.Endpoint {
				t.Fatalf("demo did not start its own emulator:\n%s", out)
			}
			if _, err := http.Get(endpoint + "/moto-api/"); err == nil {
				t.Fatalf("emulator %s still answers after the demo returned", endpoint)
			}
			if got := os.Getenv("AWS_ENDPOINT_URL"); got != before {
				t.Fatalf("AWS_ENDPOINT_URL left at %s, was %s", got, before)
			}
		})
	}
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}

func TestAWSTargetsConfigureAsTheStack(t *testing.T) {
	n := localenv.DefaultNames()
	ts, err := AWSTargets(&localenv.Clients{}, n, DefaultSinks)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 {
		t.Fatalf("%d targets", len(ts))
	}
	for _, s := range DefaultSinks {
		cfg, err := config.Load(s, func(k string) string { return n.Env(s)[k] })
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if cfg.Quarantine.Bucket != n.QuarantineBucket || cfg.Quarantine.Prefix != config.DefaultQuarantinePrefix {
			t.Errorf("%s quarantine %+v", s, cfg.Quarantine)
		}
	}
	if _, err := AWSTargets(&localenv.Clients{}, n, []string{"nope"}); err == nil {
		t.Fatal("unknown sink accepted")
	}
}

func TestQuarantinedMessagesReadsTheSinksEvents(t *testing.T) {
	emutest.Require(t, srv)
	o, _ := testOptions(t, 1)
	c := emutest.Clients(t, srv)
	emutest.Buckets(t, c.S3, o.Names.QuarantineBucket)
	env := o.Names.Env(config.SinkS3)
	cfg, err := config.Load(config.SinkS3, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	q := s3quarantine.New(c.S3, cfg.Quarantine)
	m := &subscription.Message{Owner: "1", LogGroup: "/g", LogStream: "s"}
	for i, sink := range []string{config.SinkS3, config.SinkLogs} {
		ev := &subscription.LogEvent{ID: fmt.Sprint(i), Timestamp: 1, Message: "too big" + eventKey("r", i)}
		if err := q.Put(context.Background(), quarantine.Entry{Kind: quarantine.KindEvent, Sink: sink, Shard: "shardId-000000000000", SequenceNumber: "1", EventID: ev.ID, Reason: "limit", Data: record.AppendLine(nil, m, ev)}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := quarantinedMessages(context.Background(), c, cfg)
	if err != nil || len(msgs) != 1 || msgs[0] != "too big"+eventKey("r", 0) {
		t.Fatalf("got %q, %v", msgs, err)
	}
}

// TestDemoSenderHealth is the demo's sender health: three accounts (the
// emulator's own through moto's subscription, two written as CloudWatch
// Logs writes them) with heartbeats; with Silent the last one stops
// halfway and the watchdog reports it silent. Its events sent before
// stopping are all delivered, and no heartbeat reaches a sink.
func TestDemoSenderHealth(t *testing.T) {
	emutest.Require(t, srv)
	for _, silent := range []bool{false, true} {
		o, out := testOptions(t, 900)
		o.Silent = silent
		o.Targets = []Target{StdoutTarget()}
		rep, err := o.Run(context.Background())
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, out)
		}
		if s := rep.Sinks[0]; s.Sent != 900 || !s.ExactlyOnce() || s.Heartbeats != 0 {
			t.Errorf("silent=%v: %+v", silent, s)
		}
		if err := rep.HealthProblem(silent); err != nil {
			t.Errorf("silent=%v: %v\n%s", silent, err, out)
		}
		want := "demo: sent 900 events; stdout 900; lost 0; senders 3 ok\n"
		if silent {
			want = "demo: sent 900 events; stdout 900; lost 0; senders 2 ok, 1 silent\n"
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
		if len(rep.Sent.Accounts) != 3 || rep.Sent.Heartbeats < 3*5 {
			t.Errorf("silent=%v: sent %+v", silent, rep.Sent)
		}
		// Every account sent data; the stopped one only in the first half.
		byOwner, groups := map[string]int{}, map[string]map[string]bool{}
		for _, s := range rep.Sent.Sources {
			byOwner[s.Owner] += s.N
			if groups[s.Owner] == nil {
				groups[s.Owner] = map[string]bool{}
			}
			groups[s.Owner][s.Group] = true
		}
		for _, a := range rep.Sent.Accounts {
			if byOwner[a] == 0 {
				t.Errorf("silent=%v: %s sent nothing", silent, a)
			}
		}
		// The watchdog counted each account's heartbeats and traffic: every
		// event, once. Several handlers (one per shard) add to the same
		// items at once, which takes the per-item atomicity moto lacks
		// (emulator.ItemLocks). Only a failed health write, which may have
		// landed all the same and is written again, allows more (a timeout
		// under load); nothing allows fewer.
		failed := rep.Sinks[0].HealthErrors
		for _, s := range rep.Health.Senders {
			sent := int64(byOwner[s.Account])
			if s.EventsToday < sent || s.EventsToday > sent && failed == 0 || s.ActiveLogGroups != len(groups[s.Account]) || s.LastHeartbeat.IsZero() {
				t.Errorf("silent=%v: %s: %d events today (sent %d; %d failed health flushes), %d log groups (sent to %d), last heartbeat %v", silent, s.Name(), s.EventsToday, sent, failed, s.ActiveLogGroups, len(groups[s.Account]), s.LastHeartbeat)
			}
		}
	}
}

// TestHealthProblem: the demo fails when sender health is not what the run did.
func TestHealthProblem(t *testing.T) {
	rep := &Report{Sent: &Sent{Accounts: []string{"1", "2"}}, Health: &health.Report{Senders: []health.SenderStatus{{Account: "1", State: health.StateOK}, {Account: "2", State: health.StateOK}}}}
	if err := rep.HealthProblem(false); err != nil {
		t.Error(err)
	}
	if err := rep.HealthProblem(true); err == nil {
		t.Error("-silent with every sender ok: want an error")
	}
	rep.Sinks = []SinkReport{{Sink: "s3", Heartbeats: 1}}
	if err := rep.HealthProblem(false); err == nil || !strings.Contains(err.Error(), "heartbeat") {
		t.Errorf("a delivered heartbeat: %v", err)
	}
}

// TestDemoHub: the hub's own log groups carry two accounts' events from
// two regions, some records mixing sources; every event lands once, filed
// under its source account and region, and sender health counts each
// source account in each region.
func TestDemoHub(t *testing.T) {
	emutest.Require(t, srv)
	o, out := testOptions(t, 1200)
	o.Hub = true
	o.Targets = []Target{StdoutTarget()}
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if s := rep.Sinks[0]; s.Sent != 1200 || !s.ExactlyOnce() || s.Heartbeats != 0 {
		t.Errorf("%+v", s)
	}
	if err := rep.HealthProblem(false); err != nil {
		t.Errorf("%v\n%s", err, out)
	}
	if err := rep.hubProblem(); err != nil {
		t.Errorf("%v\n%s", err, out)
	}
	// Four sources, each with events, all attributed; their counts add up.
	total := 0
	for _, h := range rep.Hub {
		if h.Sent == 0 || h.Landed != h.Sent || h.Misattributed != 0 || !h.RegionKept {
			t.Errorf("%+v", h)
		}
		total += h.Sent
	}
	if len(rep.Hub) != 4 || total != 1200 {
		t.Errorf("%d sources, %d events: %+v", len(rep.Hub), total, rep.Hub)
	}
	mixed := 0
	for _, s := range rep.Sent.Sources {
		if len(distinctOrigins(rep.Sent.Origins[s.First:s.First+s.N])) > 1 {
			mixed++
		}
	}
	if mixed == 0 {
		t.Error("no record mixed two sources")
	}
	// Sender health: each source account in each region, its events counted.
	if len(rep.Health.Senders) != 4 {
		t.Fatalf("senders %+v", rep.Health.Senders)
	}
	for _, s := range rep.Health.Senders {
		var sent int64
		for _, h := range rep.Hub {
			if h.Account == s.Account && h.Region == s.Region {
				sent = int64(h.Sent)
			}
		}
		if s.State != "ok" || s.EventsToday < sent || s.EventsToday > sent && rep.Sinks[0].HealthErrors == 0 {
			t.Errorf("%s: %s, %d events today, sent %d", s.Name(), s.State, s.EventsToday, sent)
		}
	}
	if want := "; 4 sources (accounts x regions) attributed, 0 misattributed; senders 4 ok\n"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

func distinctOrigins(os []Origin) map[Origin]bool {
	m := map[Origin]bool{}
	for _, o := range os {
		m[o] = true
	}
	return m
}

// TestReconcileHub counts an event filed under another account or region
// as misattributed, and a sink that keeps no region by account alone.
func TestReconcileHub(t *testing.T) {
	origins := []Origin{{"111111111111", "us-east-1"}, {"111111111111", "us-west-2"}, {"222222222222", "us-east-1"}}
	rows := reconcileHub("s3", origins, []Landed{
		{N: 0, Owner: "111111111111", Region: "us-east-1", RegionKept: true},
		{N: 1, Owner: "111111111111", Region: "us-east-1", RegionKept: true}, // wrong region
		{N: 2, Owner: "123456789012", Region: "us-east-1", RegionKept: true}, // the hub's, not the source's
		{N: 0, Owner: "111111111111", Region: "us-east-1", RegionKept: true}, // a duplicate
		{N: -1, Owner: "x"},
	})
	got := fmt.Sprint(rows)
	want := "[{s3 111111111111 us-east-1 1 1 0 true} {s3 111111111111 us-west-2 1 0 1 true} {s3 222222222222 us-east-1 1 0 1 true}]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	rows = reconcileHub("logs", origins[:2], []Landed{{N: 0, Owner: "111111111111"}, {N: 1, Owner: "111111111111"}})
	if rows[0].Landed != 1 || rows[1].Landed != 1 || rows[0].RegionKept {
		t.Errorf("by account: %+v", rows)
	}
}

// TestDemoReportsFaults: with -faults, each sink's row says how many of its
// handlers' AWS requests were failed, of which kind, and how many the
// retries absorbed (all of them, in a run that loses nothing), and the
// summary line says so: "0 retries" alone hid them.
func TestDemoReportsFaults(t *testing.T) {
	emutest.Require(t, srv)
	o, out := testOptions(t, 600)
	o.Faults = 0.3
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	total, retries := 0, 0
	for _, s := range rep.Sinks {
		if s.Lost != 0 || !s.ExactlyOnce() {
			t.Errorf("%s: %+v", s.Sink, s)
		}
		if s.Faults == 0 || s.Faults != s.Throttles+s.ServerErrors+s.Timeouts || s.Absorbed != s.Faults {
			t.Errorf("%s: %d faults (%d throttles, %d 5xx, %d timeouts), %d absorbed", s.Sink, s.Faults, s.Throttles, s.ServerErrors, s.Timeouts, s.Absorbed)
		}
		retries += s.RequestRetries
		total += s.Faults
	}
	// Faults are drawn at random per request: in a run this short, one
	// sink's faults may all be absorbed by batch retries (the poller's, as
	// Lambda's) rather than request retries; the run as a whole owes some.
	if retries == 0 {
		t.Errorf("no request retried under faults: %+v", rep.Sinks)
	}
	for _, want := range []string{
		"faults injected into the handlers' AWS requests, and absorbed",
		"injected  throttles  5xx  timeouts  absorbed  request retries  batch retries",
		fmt.Sprintf("lost 0; faults %d injected, %d absorbed; senders 3 ok\n", total, total),
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
