package logssink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/ops/readback"

	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// targetRegion is where the sink writes: deliberately not the emulator's
// default region (AWS_REGION), as in production.
const targetRegion = "eu-west-1"

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// recorder wraps a faults.Injector and keeps every request's operation and
// PutLogEvents body, so tests can count calls and check what was sent.
type recorder struct {
	inject faults.Injector

	mu   sync.Mutex
	ops  map[string]int
	puts []putBody
}

type putBody struct {
	Group  string `json:"logGroupName"`
	Stream string `json:"logStreamName"`
	Events []struct {
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	} `json:"logEvents"`
}

func (r *recorder) Inject(req *http.Request, body []byte, call int) (*http.Response, error) {
	op := faults.Target(req)
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	r.mu.Lock()
	if r.ops == nil {
		r.ops = map[string]int{}
	}
	r.ops[op]++
	if op == "PutLogEvents" {
		var p putBody
		if err := json.Unmarshal(body, &p); err == nil {
			r.puts = append(r.puts, p)
		}
	}
	inject := r.inject
	r.mu.Unlock()
	if inject != nil {
		return inject(req, body, call)
	}
	return nil, nil
}

// set replaces the injector (nil: forward everything).
func (r *recorder) set(inj faults.Injector) {
	r.mu.Lock()
	r.inject = inj
	r.mu.Unlock()
}

// reset forgets the counts and bodies seen so far.
func (r *recorder) reset() {
	r.mu.Lock()
	r.ops = map[string]int{}
	r.puts = nil
	r.mu.Unlock()
}

func (r *recorder) count(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ops[op]
}

func (r *recorder) bodies() []putBody {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]putBody(nil), r.puts...)
}

// newClient returns a CloudWatch Logs client for region on the emulator,
// with every request passing through a recorder. The SDK keeps its standard
// retryer, with a short backoff so fault tests stay quick.
func newClient(t testing.TB, region string) (*cloudwatchlogs.Client, *recorder) {
	t.Helper()
	cfg := emutest.Config(t, srv, region)
	rec := &recorder{}
	ft := &faults.Transport{Inject: rec.Inject}
	client := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
		o.HTTPClient = &http.Client{Transport: ft}
		o.Retryer = awsretry.NewStandard(func(so *awsretry.StandardOptions) { so.MaxBackoff = 20 * time.Millisecond })
	})
	return client, rec
}

// logsConfig returns a sink configuration whose groups live under a prefix
// unique to the test.
func logsConfig(t testing.TB) (config.Logs, string) {
	t.Helper()
	prefix := SanitizeGroup("/logfan-test/" + strings.ReplaceAll(t.Name(), "/", "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%1e9))
	return config.Logs{
		Region:         targetRegion,
		GroupTemplate:  prefix + "/{owner}/{logGroup}",
		StreamTemplate: config.DefaultLogsStreamTemplate,
		RetentionDays:  14,
	}, prefix
}

// fastRetry keeps retry waits short in tests.
var fastRetry = retry.Policy{BackoffBase: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond}

// fastOpts are sink options that keep retry waits short in tests.
func fastOpts(extra ...Option) []Option {
	return append([]Option{WithRetry(fastRetry)}, extra...)
}

// source is one simulated sender log stream.
type source struct {
	owner, group, stream string
}

// genBatch builds a batch of records from the sources in turn (record i
// from sources[i%len]), n events each, timestamps from start on, stepping
// step per event and shifting by shift per record (a negative shift makes
// later records older, so a stream's events arrive out of order).
func genBatch(seed uint64, sources []source, records, n int, start time.Time, step, shift time.Duration) *sink.Batch {
	g := eventgen.New(seed)
	b := &sink.Batch{ShardID: "shardId-000000000000"}
	for i := range records {
		src := sources[i%len(sources)]
		m := g.Message(eventgen.Source{Owner: src.owner, LogGroup: src.group, LogStream: src.stream}, n, start.Add(time.Duration(i)*shift), step, 0)
		b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: fmt.Sprintf("%056d", 1000+i), Message: m})
	}
	return b
}

// key identifies a stored event for exactly-once counting.
type key struct {
	Group, Stream string
	Timestamp     int64
	Message       string
}

func (k key) String() string {
	m := k.Message
	if len(m) > 40 {
		m = m[:40] + "..."
	}
	return fmt.Sprintf("%s:%s@%d %q", k.Group, k.Stream, k.Timestamp, m)
}

// expected returns the multiset of events the batch's records[from:] should
// store, skipping the events skip reports (quarantined), with messages as
// the service stores them (invalid UTF-8 repaired).
func expected(s *Sink, b *sink.Batch, from int, skip func(m *subscription.Message, ev *subscription.LogEvent) bool) map[key]int {
	out := map[key]int{}
	for _, r := range b.Records[from:] {
		t := s.Target(r.Message.Owner, r.Message.LogGroup, r.Message.LogStream)
		for i := range r.Message.LogEvents {
			ev := &r.Message.LogEvents[i]
			if skip != nil && skip(r.Message, ev) {
				continue
			}
			msg, _ := repairUTF8(ev.Message)
			out[key{t.Group, t.Stream, ev.Timestamp, msg}]++
		}
	}
	return out
}

func addAll(dst, src map[key]int) {
	for k, n := range src {
		dst[k] += n
	}
}

// readBack reads every event under prefix in the target region.
func readBack(t testing.TB, client readback.LogsAPI, prefix string) map[key]int {
	t.Helper()
	evs, err := readback.LogEvents(context.Background(), client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	out := map[key]int{}
	for _, e := range evs {
		out[key(e)]++
	}
	return out
}

// diff reports how got differs from want, at most a few lines.
func diff(want, got map[key]int) string {
	var lines []string
	for k, n := range want {
		if got[k] != n {
			lines = append(lines, fmt.Sprintf("want %d got %d: %s", n, got[k], k))
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("unexpected %d: %s", n, k))
		}
	}
	sort.Strings(lines)
	if len(lines) > 8 {
		lines = append(lines[:8], fmt.Sprintf("... and %d more", len(lines)-8))
	}
	return strings.Join(lines, "\n")
}

// checkInvariant asserts the sink contract: every event is delivered,
// reported undeliverable (only events of records before FailedAt, each
// once, with a kind and a reason), or in a record at or after FailedAt.
func checkInvariant(t testing.TB, b *sink.Batch, res sink.Result) {
	t.Helper()
	all := b.Events()
	tail := 0
	if res.FailedAt >= 0 {
		tail = (&sink.Batch{Records: b.Records[res.FailedAt:]}).Events()
		if res.Err == nil {
			t.Errorf("FailedAt %d without Err", res.FailedAt)
		}
	} else if res.Err != nil {
		t.Errorf("Err %v without FailedAt", res.Err)
	}
	seen := map[[2]int]bool{}
	for _, u := range res.Undeliverable {
		if u.Record < 0 || u.Record >= len(b.Records) || u.Event < 0 || u.Event >= len(b.Records[u.Record].Message.LogEvents) {
			t.Fatalf("undeliverable %+v points outside the batch", u)
		}
		if res.FailedAt >= 0 && u.Record >= res.FailedAt {
			t.Fatalf("undeliverable %+v is in a record at or after FailedAt %d", u, res.FailedAt)
		}
		if u.Kind == "" || u.Reason == "" {
			t.Fatalf("undeliverable %+v without kind or reason", u)
		}
		if at := [2]int{u.Record, u.Event}; seen[at] {
			t.Fatalf("undeliverable %+v listed twice", u)
		} else {
			seen[at] = true
		}
	}
	und := len(res.Undeliverable)
	if res.Delivered+und > all || res.Delivered+und+tail < all {
		t.Fatalf("delivered %d + undeliverable %d + from FailedAt %d (%d) does not account for %d events",
			res.Delivered, und, res.FailedAt, tail, all)
	}
}

// undeliverable maps the event ID of each event res reports undeliverable to its report.
func undeliverable(b *sink.Batch, res sink.Result) map[string]sink.Undeliverable {
	out := map[string]sink.Undeliverable{}
	for _, u := range res.Undeliverable {
		out[b.Records[u.Record].Message.LogEvents[u.Event].ID] = u
	}
	return out
}

// kinds counts res.Undeliverable by kind.
func kinds(res sink.Result) map[string]int {
	out := map[string]int{}
	for _, u := range res.Undeliverable {
		out[u.Kind]++
	}
	return out
}

// deliver runs one Deliver with a deadline and checks the contract.
func deliver(t testing.TB, s *Sink, b *sink.Batch, timeout time.Duration) sink.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res := s.Deliver(ctx, b)
	checkInvariant(t, b, res)
	return res
}

// suffix is the batch Lambda would retry: records from i on.
func suffix(b *sink.Batch, i int) *sink.Batch {
	return &sink.Batch{ShardID: b.ShardID, Records: b.Records[i:]}
}
