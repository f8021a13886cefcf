package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/smithy-go"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// fakeSink records what it is given and fails from failAt on, if set.
type fakeSink struct {
	batches  []*sink.Batch
	failAt   int
	deadline time.Time
}

func (f *fakeSink) Name() string { return "fake" }

func (f *fakeSink) Deliver(ctx context.Context, b *sink.Batch) sink.Result {
	f.batches = append(f.batches, b)
	f.deadline, _ = ctx.Deadline()
	res := sink.Result{FailedAt: -1}
	for i, r := range b.Records {
		if f.failAt >= 0 && i >= f.failAt {
			res.FailedAt, res.Err = i, errors.New("injected sink failure")
			break
		}
		res.Delivered += len(r.Message.LogEvents)
	}
	return res
}

// payloads builds a batch: data records (events each), a control message and poison records at chosen positions.
func payloads(t *testing.T, layout string, events int) [][]byte {
	t.Helper()
	g := eventgen.New(1)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var out [][]byte
	for i, c := range layout {
		switch c {
		case 'D':
			src := eventgen.Source{Owner: []string{"111111111111", "222222222222"}[i%2], LogGroup: "/app/g", LogStream: "s"}
			out = append(out, eventgen.MustPayload(g.Message(src, events, start, time.Second, 0)))
		case 'C':
			out = append(out, eventgen.MustPayload(eventgen.ControlMessage("arn:aws:logs:us-east-1:999999999999:destination:logfan")))
		case 'P':
			out = append(out, []byte("not gzip at all"))
		default:
			t.Fatalf("bad layout %q", layout)
		}
	}
	return out
}

func kinesisJSON(t *testing.T, datas [][]byte) ([]byte, events.KinesisEvent) {
	t.Helper()
	ev := invocation.NewKinesisEvent(invocation.Stream{}, datas)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b, ev
}

func invoke(t *testing.T, h *Handler, payload []byte) events.KinesisEventResponse {
	t.Helper()
	out, err := lambda.NewHandler(h).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp events.KinesisEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return resp
}

func TestInvoke(t *testing.T) {
	tests := []struct {
		name        string
		layout      string
		failAt      int   // sink fails from this batch record on (-1: never)
		qErr        error // quarantine failure
		wantRetry   int   // index of the invocation record Lambda retries from (-1: none)
		wantSunk    int   // records the sink was given
		wantPoison  int
		wantControl int
	}{
		{"all delivered", "DDD", -1, nil, -1, 3, 0, 0},
		{"control and poison skipped", "DCPDP", -1, nil, -1, 2, 2, 1},
		{"sink fails at second data record", "DCPDD", 1, nil, 3, 3, 1, 1},
		{"sink fails at first record", "PDD", 0, nil, 1, 2, 1, 0},
		{"quarantine down: retry from the poison record", "DDPD", -1, accessDenied, 2, 2, 0, 0},
		{"only poison", "PP", -1, nil, -1, 0, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			datas := payloads(t, tt.layout, 5)
			payload, ev := kinesisJSON(t, datas)
			fs := &fakeSink{failAt: tt.failAt}
			q := &quarantine.Memory{Err: tt.qErr}
			var sum Summary
			h := New(Options{Sink: fs, Quarantine: q, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})

			resp := invoke(t, h, payload)

			if tt.wantRetry < 0 {
				if len(resp.BatchItemFailures) != 0 {
					t.Fatalf("batchItemFailures = %+v, want none", resp.BatchItemFailures)
				}
			} else {
				want := ev.Records[tt.wantRetry].Kinesis.SequenceNumber
				if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != want {
					t.Fatalf("batchItemFailures = %+v, want [%s]", resp.BatchItemFailures, want)
				}
			}
			got := 0
			if len(fs.batches) == 1 {
				got = len(fs.batches[0].Records)
			}
			if got != tt.wantSunk {
				t.Errorf("sink got %d records, want %d", got, tt.wantSunk)
			}
			if len(sum.Poison) != tt.wantPoison || len(q.Entries()) != tt.wantPoison || sum.ControlMessages != tt.wantControl {
				t.Errorf("poison %d (quarantined %d), control %d; want %d poison, %d control", len(sum.Poison), len(q.Entries()), sum.ControlMessages, tt.wantPoison, tt.wantControl)
			}
			for _, e := range q.Entries() {
				if e.Kind != quarantine.KindRecord || string(e.Data) != "not gzip at all" || !strings.Contains(e.Reason, "not gzip") || e.Shard != "shardId-000000000000" {
					t.Errorf("quarantine entry %+v", e)
				}
			}
			// Nothing lost: every event is delivered or in a record Lambda will retry.
			events := 5 * strings.Count(tt.layout, "D")
			if sum.Delivered+sum.RetryEvents != events {
				t.Errorf("delivered %d + retry %d != %d events", sum.Delivered, sum.RetryEvents, events)
			}
		})
	}
}

// lyingSink claims success but reports fewer events than it was given.
type lyingSink struct{ fakeSink }

func (l *lyingSink) Deliver(ctx context.Context, b *sink.Batch) sink.Result {
	res := l.fakeSink.Deliver(ctx, b)
	res.Delivered--
	return res
}

func TestSinkUnderReportingRetriesTheBatch(t *testing.T) {
	payload, ev := kinesisJSON(t, payloads(t, "DD", 3))
	var sum Summary
	h := New(Options{Sink: &lyingSink{fakeSink{failAt: -1}}, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
	resp := invoke(t, h, payload)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Kinesis.SequenceNumber {
		t.Fatalf("batchItemFailures = %+v, want a retry from the first record", resp.BatchItemFailures)
	}
	if !strings.Contains(sum.Err, "sink accounted for 5 of the 6 events") {
		t.Errorf("summary error %q", sum.Err)
	}
}

func TestDeliveryDeadlineLeavesMargin(t *testing.T) {
	fs := &fakeSink{failAt: -1}
	h := New(Options{Sink: fs, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler), DeadlineMargin: 2 * time.Second})
	payload, _ := kinesisJSON(t, payloads(t, "D", 1))
	deadline := time.Now().Add(10 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if _, err := h.Invoke(ctx, payload); err != nil {
		t.Fatal(err)
	}
	// The margin, then the quarantine reserve: 1s, at most a tenth of the 8s left.
	if got := deadline.Sub(fs.deadline); got < 2790*time.Millisecond || got > 2810*time.Millisecond {
		t.Fatalf("sink deadline %v before Lambda's, want 2s margin + 0.8s reserve", got)
	}
}

func TestAWSLogsEvent(t *testing.T) {
	data := payloads(t, "D", 4)[0]
	payload, err := invocation.AWSLogsEventJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeSink{failAt: -1}
	h := New(Options{Sink: fs, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler)})
	if _, err := lambda.NewHandler(h).Invoke(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	if len(fs.batches) != 1 || fs.batches[0].Events() != 4 {
		t.Fatalf("sink got %+v", fs.batches)
	}
	// A failed delivery must surface as an error, so Lambda's async retry redelivers.
	fs.failAt = 0
	if _, err := lambda.NewHandler(h).Invoke(context.Background(), payload); err == nil || !strings.Contains(err.Error(), "4 events not delivered") {
		t.Fatalf("err = %v, want a delivery failure", err)
	}
}

func TestMalformedEventIsAnError(t *testing.T) {
	h := New(Options{Sink: &fakeSink{failAt: -1}, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler)})
	for _, p := range []string{`{`, `{"foo":1}`, `[]`} {
		if _, err := h.Invoke(context.Background(), []byte(p)); err == nil {
			t.Errorf("Invoke(%s) succeeded", p)
		}
	}
}

func TestLogLineAndMetrics(t *testing.T) {
	var logs, metrics bytes.Buffer
	h := New(Options{Sink: &fakeSink{failAt: 1}, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: &metrics})
	payload, _ := kinesisJSON(t, payloads(t, "DDP", 3))
	if _, err := h.Invoke(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one log line per batch, got %d:\n%s", len(lines), logs.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float64{"records": 3, "events": 6, "delivered": 3, "poisonRecords": 1, "retryEvents": 3} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %v", k, line[k], want)
		}
	}
	if line["level"] != "WARN" || line["retryFrom"] == nil {
		t.Errorf("a batch with a retry should log at WARN with retryFrom: %v", line)
	}
	docs := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	if len(docs) != 3 { // two owners + the sink total
		t.Fatalf("want 3 EMF documents, got %d:\n%s", len(docs), metrics.String())
	}
	owners := map[string]float64{}
	for _, d := range docs {
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["_aws"]; !ok || m["sink"] != "fake" {
			t.Fatalf("not an EMF document for sink fake: %s", d)
		}
		if o, ok := m["owner"].(string); ok {
			owners[o] = m["Events"].(float64)
		} else if m["PoisonRecords"] != 1.0 || m["FailedRecords"] != 1.0 {
			t.Errorf("sink document: %s", d)
		}
	}
	if owners["111111111111"] != 3 || owners["222222222222"] != 3 {
		t.Errorf("per-owner events %v", owners)
	}
}

// accessDenied is an error the retry policy does not repeat.
var accessDenied = &smithy.GenericAPIError{Code: "AccessDenied", Message: "injected"}

// refusingSink delivers every event but the ones listed, which it reports undeliverable.
type refusingSink struct {
	refuse [][2]int // record, event
}

func (r *refusingSink) Name() string { return "refusing" }

func (r *refusingSink) Deliver(_ context.Context, b *sink.Batch) sink.Result {
	res := sink.Result{FailedAt: -1, Delivered: b.Events() - len(r.refuse)}
	for _, u := range r.refuse {
		res.Undeliverable = append(res.Undeliverable, sink.Undeliverable{Record: u[0], Event: u[1], Kind: "tooLarge", Reason: fmt.Sprintf("refused %d/%d", u[0], u[1])})
	}
	return res
}

func TestUndeliverableEventsAreQuarantined(t *testing.T) {
	payload, ev := kinesisJSON(t, payloads(t, "DDD", 4))
	q := &quarantine.Memory{}
	var sum Summary
	h := New(Options{Sink: &refusingSink{refuse: [][2]int{{0, 1}, {2, 3}}}, Quarantine: q, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batchItemFailures %+v", resp.BatchItemFailures)
	}
	if sum.Delivered != 10 || sum.Quarantined != 2 || sum.RetryEvents != 0 {
		t.Fatalf("summary %+v, want 10 delivered and 2 quarantined", sum)
	}
	got := map[string]quarantine.Entry{}
	for _, e := range q.Entries() {
		got[e.SequenceNumber+"/"+e.EventID] = e
	}
	for _, u := range [][2]int{{0, 1}, {2, 3}} {
		seq := ev.Records[u[0]].Kinesis.SequenceNumber
		var m map[string]any
		for _, e := range got {
			if e.SequenceNumber != seq {
				continue
			}
			if e.Kind != quarantine.KindEvent || e.Sink != "refusing" || e.Reason != fmt.Sprintf("refused %d/%d", u[0], u[1]) || json.Unmarshal(e.Data, &m) != nil {
				t.Errorf("entry %+v for %v", e, u)
			}
			if m["id"] != e.EventID {
				t.Errorf("entry data %s does not hold event %s", e.Data, e.EventID)
			}
		}
		if m == nil {
			t.Errorf("no entry for record %d", u[0])
		}
	}
}

func TestQuarantineFailureRetriesFromItsRecord(t *testing.T) {
	payload, ev := kinesisJSON(t, payloads(t, "DDD", 4))
	var sum Summary
	h := New(Options{Sink: &refusingSink{refuse: [][2]int{{2, 0}, {1, 3}}}, Quarantine: &quarantine.Memory{Err: accessDenied},
		Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
	resp := invoke(t, h, payload)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[1].Kinesis.SequenceNumber {
		t.Fatalf("batchItemFailures %+v, want a retry from record 1", resp.BatchItemFailures)
	}
	if !strings.Contains(sum.Err, "quarantine event") || !strings.Contains(sum.Err, "AccessDenied") {
		t.Errorf("summary error %q", sum.Err)
	}
}

// panicSink panics on its first delivery, directly or in a goroutine of its own.
type panicSink struct {
	fakeSink
	inGoroutine bool
	panicked    bool
}

func (p *panicSink) Deliver(ctx context.Context, b *sink.Batch) sink.Result {
	if !p.panicked {
		p.panicked = true
		if !p.inGoroutine {
			panic("sink bug")
		}
		var g sink.Group
		g.Go(func() { panic("sink bug") })
		g.Wait()
	}
	return p.fakeSink.Deliver(ctx, b)
}

func TestSinkPanicRetriesTheBatch(t *testing.T) {
	for _, inGoroutine := range []bool{false, true} {
		t.Run(fmt.Sprint("goroutine=", inGoroutine), func(t *testing.T) {
			payload, ev := kinesisJSON(t, payloads(t, "DPD", 3))
			var logs bytes.Buffer
			var sum Summary
			ps := &panicSink{fakeSink: fakeSink{failAt: -1}, inGoroutine: inGoroutine}
			h := New(Options{Sink: ps, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), OnSummary: func(s Summary) { sum = s }})
			resp := invoke(t, h, payload)
			if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Kinesis.SequenceNumber {
				t.Fatalf("batchItemFailures %+v, want the whole batch retried", resp.BatchItemFailures)
			}
			if sum.Delivered != 0 || sum.RetryEvents != 6 || !strings.Contains(sum.Err, "panicked: sink bug") {
				t.Errorf("summary %+v", sum)
			}
			if !strings.Contains(logs.String(), "sink panicked") || !strings.Contains(logs.String(), "panicSink") {
				t.Errorf("no log line with the panic's stack: %s", logs.String())
			}
			// The process lives on: Lambda's retry delivers everything.
			if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 || sum.Delivered != 6 {
				t.Fatalf("retry: batchItemFailures %+v, summary %+v", resp.BatchItemFailures, sum)
			}
		})
	}
}

// TestBatchOverTheDecompressionCapIsSplit: the decoded payloads of one
// invocation are held until delivery, so their sum is bounded by the same
// cap as one payload's (the function's memory decides it): past it, the
// rest of the batch is left for Lambda's next invocation, undecoded, and
// retrying from the cutoff as Lambda does delivers every event, each once.
func TestBatchOverTheDecompressionCapIsSplit(t *testing.T) {
	datas := payloads(t, "DDDDD", 200)
	dec := subscription.NewDecoder(0)
	if _, err := dec.Decode(datas[0]); err != nil {
		t.Fatal(err)
	}
	size := dec.Inflated()
	fs := &fakeSink{failAt: -1}
	var sum Summary
	h := New(Options{Sink: fs, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler), MaxDecompressed: size * 5 / 2, OnSummary: func(s Summary) { sum = s }})
	_, ev := kinesisJSON(t, datas)
	recs := ev.Records
	var invocations []int
	delivered := 0
	for len(recs) > 0 && len(invocations) < 10 {
		b, err := json.Marshal(events.KinesisEvent{Records: recs})
		if err != nil {
			t.Fatal(err)
		}
		resp := invoke(t, h, b)
		invocations = append(invocations, len(fs.batches[len(fs.batches)-1].Records))
		delivered += sum.Delivered
		if len(resp.BatchItemFailures) == 0 {
			break
		}
		// Lambda retries from the reported record.
		from := resp.BatchItemFailures[0].ItemIdentifier
		for i := range recs {
			if recs[i].Kinesis.SequenceNumber == from {
				recs = recs[i:]
				break
			}
		}
		if !strings.Contains(sum.Err, "left for Lambda's next invocation") {
			t.Errorf("summary error %q does not say why the batch was cut", sum.Err)
		}
	}
	if fmt.Sprint(invocations) != "[2 2 1]" {
		t.Errorf("records per invocation %v, want [2 2 1] (two payloads of %d bytes within the %d-byte cap)", invocations, size, size*5/2)
	}
	if delivered != 5*200 {
		t.Errorf("%d events delivered over the invocations, want %d", delivered, 5*200)
	}
}
