package invoke

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/internal/cmd/replay"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
)

var srv *emulator.Server

func TestMain(m *testing.M) {
	if os.Getenv(envFakeRIE) != "" {
		fakeRIE()
		return
	}
	os.Exit(emutest.RunTests(m, &srv))
}

// fixture is the recipient stack's template as `make synth` writes it from
// cdk.json (no senders), kept byte for byte equal to the stack by
// cdk/recipient's TestTemplatesUnchanged. These tests read it instead of
// synthesizing: synthesis takes minutes here, and `make test` runs go test
// before `make synth`. Its asset paths name cdk/recipient's placeholder
// binaries, so the tests bring their own builds (bootstrapFor).
const fixture = "../../../cdk/recipient/testdata/no-senders.template.json"

// sinks maps the stack's function logical IDs to their sink and package.
var sinks = map[string]string{"S3Function": config.SinkS3, "FirehoseFunction": config.SinkFirehose, "LogsFunction": config.SinkLogs}

// Bootstraps are built once per test run (go build's cache makes reruns quick).
var (
	buildMu    sync.Mutex
	bootstraps = map[string]string{}
	buildDir   string
)

func bootstrapFor(t *testing.T, sink string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := bootstraps[sink]; ok {
		return p
	}
	if buildDir == "" {
		buildDir = t.TempDir()
		// TempDir belongs to the first test; keep the builds for the whole run.
		d, err := os.MkdirTemp("", "logfan-invoke-build-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(buildDir, sink, "bootstrap")
	var log bytes.Buffer
	src := &Source{Package: "github.com/logfan/logfan/functions/" + sink, Tags: "lambda.norpc"}
	if err := Build(context.Background(), root, src, "arm64", out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	bootstraps[sink] = out
	return out
}

func rie(t *testing.T) string {
	t.Helper()
	p, err := FindRIE()
	if err != nil {
		t.Fatalf("these tests run the functions under the Lambda Runtime Interface Emulator: %v", err)
	}
	return p
}

// syncBuffer collects the runtime's logs from its reader goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// deployment is one function "deployed" locally: resources created on
// moto under names derived from stack, the RIE running its bootstrap.
type deployment struct {
	id, sink string
	names    localenv.Names
	env      map[string]string
	rt       *Runtime
	logs     *syncBuffer
}

// resolve loads the fixture as stack and resolves id's environment.
func resolve(t *testing.T, id, stack string, overrides map[string]string) (*Template, *Function, map[string]string, localenv.Names) {
	t.Helper()
	tpl, err := LoadTemplate(fixture)
	if err != nil {
		t.Fatal(err)
	}
	tpl.StackName = stack
	f, err := tpl.Function(id)
	if err != nil {
		t.Fatal(err)
	}
	if id == "LogsFunction" {
		// Target log groups are named by the sender's group, not by the
		// stack: give each run its own, as a SAM --env-vars file would.
		overrides = merge(map[string]string{config.EnvLogsGroupTemplate: "/" + stack + "/{owner}/{logGroup}"}, overrides)
	}
	if id == "FirehoseFunction" {
		// The stack fixes its Firehose stream's name (the delivery role
		// trusts that ARN): give each run its own stream the same way.
		overrides = merge(map[string]string{config.EnvFirehoseStream: stack + "-firehose"}, overrides)
	}
	env, refs, err := tpl.ResolveEnv(f, overrides)
	if err != nil {
		t.Fatal(err)
	}
	names := LocalNames(tpl, env, refs)
	if err := CreateResources(context.Background(), names); err != nil {
		t.Fatal(err)
	}
	return tpl, f, env, names
}

func deploy(t *testing.T, id, stack string, timeoutSeconds int, overrides map[string]string) *deployment {
	t.Helper()
	_, f, env, names := resolve(t, id, stack, overrides)
	fnEnv := map[string]string{}
	for _, kv := range srv.Env(emulator.Region) {
		k, v, _ := strings.Cut(kv, "=")
		fnEnv[k] = v
	}
	for k, v := range env {
		fnEnv[k] = v
	}
	if timeoutSeconds == 0 {
		timeoutSeconds = f.TimeoutSeconds
	}
	logs := &syncBuffer{}
	rt, err := StartRuntime(context.Background(), RuntimeConfig{
		RIE: rie(t), Bootstrap: bootstrapFor(t, sinks[id]), FunctionName: stack + "-" + id, Env: fnEnv,
		MemoryMB: f.MemoryMB, TimeoutSeconds: timeoutSeconds, Logs: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.Stop()
		if t.Failed() {
			t.Logf("runtime logs:\n%s", logs.String())
		}
	})
	return &deployment{id: id, sink: sinks[id], names: names, env: env, rt: rt, logs: logs}
}

func merge(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// sampleEvents are the sample events (events/expected.json lists them),
// rebased to now: CloudWatch Logs rejects events older than 14 days.
func sampleEvents(t *testing.T) map[string][]byte {
	t.Helper()
	raw, err := os.ReadFile("../../../events/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files []struct {
			File string `json:"file"`
		} `json:"files"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	now := time.Now()
	for _, f := range doc.Files {
		b, err := os.ReadFile(filepath.Join("../../../events", f.File))
		if err != nil {
			t.Fatal(err)
		}
		if out[f.File], err = eventgen.Rebase(b, now); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 5 {
		t.Fatalf("events/expected.json lists %d files", len(out))
	}
	return out
}

// landed is everything a run left on the emulator, with run-specific
// names (buckets, log group prefix) taken out so runs compare.
type landed struct {
	Objects    map[string][]string // S3 sink: key -> records
	Firehose   []string            // Firehose records (object keys carry arrival times)
	LogEvents  []string            // group|stream|timestamp|message
	Quarantine []string            // quarantine object keys
}

func (l landed) total() int {
	n := len(l.Firehose) + len(l.LogEvents)
	for _, recs := range l.Objects {
		n += len(recs)
	}
	return n
}

func readLanded(t *testing.T, d *deployment, stack string) landed {
	t.Helper()
	ctx := context.Background()
	cfg := emutest.Config(t, srv, emulator.Region)
	s3c := awsclient.S3(cfg)
	l := landed{Objects: map[string][]string{}}
	recLines := func(bucket, prefix string) map[string][]string {
		objs, err := readback.Objects(ctx, s3c, bucket, prefix)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, o := range objs {
			for _, r := range o.Records {
				b, _ := json.Marshal(r)
				out[o.Key] = append(out[o.Key], string(b))
			}
		}
		return out
	}
	switch d.sink {
	case config.SinkS3:
		l.Objects = recLines(d.names.DataBucket, d.env[config.EnvS3Prefix]+"/")
	case config.SinkFirehose:
		for _, recs := range recLines(d.names.FirehoseBucket, localenv.FirehosePrefix+"/") {
			l.Firehose = append(l.Firehose, recs...)
		}
		sort.Strings(l.Firehose)
	case config.SinkLogs:
		lc := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.Region = d.env[config.EnvLogsRegion] })
		groups, err := lc.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/" + stack + "/")})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups.LogGroups {
			streams, err := lc.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: g.LogGroupName})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range streams.LogStreams {
				evs, err := lc.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: g.LogGroupName, LogStreamName: s.LogStreamName, StartFromHead: aws.Bool(true)})
				if err != nil {
					t.Fatal(err)
				}
				group := strings.TrimPrefix(aws.ToString(g.LogGroupName), "/"+stack)
				for _, e := range evs.Events {
					l.LogEvents = append(l.LogEvents, fmt.Sprintf("%s|%s|%d|%s", group, aws.ToString(s.LogStreamName), aws.ToInt64(e.Timestamp), aws.ToString(e.Message)))
				}
			}
		}
		sort.Strings(l.LogEvents)
	}
	keys, err := readback.Keys(ctx, s3c, d.names.QuarantineBucket, d.env[config.EnvQuarantinePrefix]+"/")
	if err != nil {
		t.Fatal(err)
	}
	l.Quarantine = keys
	return l
}

// replayInProcess runs the same events through `logfan replay` (the
// in-process path) with the same function's environment under stack.
func replayInProcess(t *testing.T, id, stack string, events map[string][]byte, order []string) *deployment {
	t.Helper()
	_, _, env, names := resolve(t, id, stack, nil)
	for k, v := range env {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	for _, name := range order {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, events[name], 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		if err := replay.Run(context.Background(), []string{"-event", p, "-sink", sinks[id]}, &out, &errb); err != nil {
			t.Fatalf("in-process replay of %s: %v\n%s", name, err, errb.String())
		}
	}
	return &deployment{id: id, sink: sinks[id], names: names, env: env}
}

func TestSampleEventsUnderRIEMatchInProcessReplay(t *testing.T) {
	emutest.Require(t, srv)
	events := sampleEvents(t)
	order := make([]string, 0, len(events))
	for name := range events {
		order = append(order, name)
	}
	sort.Strings(order)
	for id := range sinks {
		t.Run(id, func(t *testing.T) {
			// GIVEN the function deployed locally from the template: its
			// environment, memory and timeout, its bootstrap under the RIE
			stack := "rie-" + strings.ToLower(id)
			d := deploy(t, id, stack, 0, nil)
			// WHEN every sample event is invoked on one warm runtime
			for _, name := range order {
				res, err := d.rt.Invoke(context.Background(), events[name])
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				// THEN each Kinesis response is an empty batchItemFailures (an
				// awslogs invocation answers with its summary), nothing failed
				kinesis := strings.HasPrefix(name, "kinesis-")
				if res.Failed() || kinesis && string(res.Response) != `{"batchItemFailures":[]}` {
					t.Errorf("%s: response %s (timed out %v, function error %v)", name, res.Response, res.TimedOut, res.FunctionError)
				}
			}
			// AND the runtime started once (one cold start, then warm) and
			// printed Lambda's REPORT line for every invocation
			if inits := d.rt.InitDurations(); len(inits) != 1 {
				t.Errorf("%d cold starts, want 1", len(inits))
			}
			if reports := d.rt.Reports(); len(reports) != len(order) || !strings.Contains(reports[0], "Init Duration") || strings.Contains(reports[1], "Init Duration") {
				t.Errorf("REPORT lines: %q", reports)
			}
			got := readLanded(t, d, stack)
			// AND what landed is exactly what the in-process replay delivers
			want := readLanded(t, replayInProcess(t, id, "replay-"+strings.ToLower(id), events, order), "replay-"+strings.ToLower(id))
			if !equalJSON(got, want) {
				t.Errorf("under the RIE:\n%s\nin process:\n%s", js(got), js(want))
			}
			// AND every event of the sample files landed, every poison
			// record is in the quarantine
			if wantEvents := 31 + 3 + 12 + 14 + 5; got.total() != wantEvents {
				t.Errorf("%d events landed, want %d", got.total(), wantEvents)
			}
			if len(got.Quarantine) != 7 {
				t.Errorf("%d quarantined, want the 7 poison records: %q", len(got.Quarantine), got.Quarantine)
			}
		})
	}
}

func equalJSON(a, b any) bool { return js(a) == js(b) }

func js(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestSinkOutageIsReportedThroughTheRuntime(t *testing.T) {
	emutest.Require(t, srv)
	events := sampleEvents(t)
	// A loopback port nothing listens on: the sink's endpoint is unreachable.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	_ = l.Close()
	for id := range sinks {
		t.Run(id, func(t *testing.T) {
			// GIVEN a function whose AWS endpoint is down (an --env-vars override)
			d := deploy(t, id, "outage-"+strings.ToLower(id), 0, map[string]string{
				"AWS_ENDPOINT_URL": dead, config.EnvDeliveryTimeout: "1s", // config.MinDeliveryTimeout
			})
			// WHEN a batch is invoked
			res, err := d.rt.Invoke(context.Background(), events["kinesis-data.json"])
			if err != nil {
				t.Fatal(err)
			}
			// THEN the runtime returns batch item failures naming the first
			// record (Lambda retries from there), not an error or a timeout
			var resp struct {
				BatchItemFailures []struct {
					ItemIdentifier string `json:"itemIdentifier"`
				} `json:"batchItemFailures"`
			}
			if err := json.Unmarshal(res.Response, &resp); err != nil || res.FunctionError || res.TimedOut {
				t.Fatalf("response %s: %v (function error %v, timed out %v)", res.Response, err, res.FunctionError, res.TimedOut)
			}
			first := firstSequence(t, events["kinesis-data.json"])
			if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != first {
				t.Errorf("batchItemFailures %+v, want the first record %s", resp.BatchItemFailures, first)
			}
		})
	}
}

func firstSequence(t *testing.T, event []byte) string {
	t.Helper()
	var ev struct {
		Records []struct {
			Kinesis struct {
				SequenceNumber string `json:"sequenceNumber"`
			} `json:"kinesis"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(event, &ev); err != nil || len(ev.Records) == 0 {
		t.Fatalf("not a Kinesis event: %v", err)
	}
	return ev.Records[0].Kinesis.SequenceNumber
}

func TestTimeoutIsReportedAndNothingIsLostOnRetry(t *testing.T) {
	emutest.Require(t, srv)
	events := sampleEvents(t)
	for id := range sinks {
		t.Run(id, func(t *testing.T) {
			// GIVEN a function with a short timeout (5 s: logfan keeps 3 s
			// before the deadline to report failures) on a warm runtime
			stack := "timeout-" + strings.ToLower(id)
			d := deploy(t, id, stack, 5, nil)
			if res, err := d.rt.Invoke(context.Background(), []byte(`{"Records":[]}`)); err != nil || res.Failed() {
				t.Fatalf("warm-up: %v %s", err, res.Response)
			}
			// WHEN the function hangs mid-invocation (its process frozen
			// while the batch is handed to it)
			pid := d.rt.BootstrapPID()
			if pid == 0 {
				t.Fatal("no bootstrap process after the warm-up")
			}
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := d.rt.Invoke(context.Background(), events["kinesis-data.json"])
			_ = syscall.Kill(pid, syscall.SIGCONT)
			if err != nil {
				t.Fatal(err)
			}
			// THEN the runtime reports the timeout as Lambda does, after the timeout
			if !res.TimedOut || !res.Failed() || !strings.Contains(string(res.Response), "Task timed out after 5.00 seconds") {
				t.Fatalf("response %q, timed out %v", res.Response, res.TimedOut)
			}
			if el := time.Since(start); el < 5*time.Second {
				t.Errorf("timed out after %s, before the 5 s timeout", el)
			}
			// WHEN Lambda retries the batch (a fresh runtime after the timeout)
			res, err = d.rt.Invoke(context.Background(), events["kinesis-data.json"])
			if err != nil {
				t.Fatal(err)
			}
			// THEN it succeeds and every event of the batch landed
			if res.Failed() {
				t.Fatalf("retry: %s", res.Response)
			}
			if got := readLanded(t, d, stack).total(); got != 31 {
				t.Errorf("%d events landed after the retry, want the batch's 31", got)
			}
			if n := len(d.rt.InitDurations()); n != 2 {
				t.Errorf("%d cold starts, want 2 (the runtime restarts after a timeout)", n)
			}
		})
	}
}
