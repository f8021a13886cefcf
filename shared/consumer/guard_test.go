package consumer

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/subscription"
)

// panicAt is a test hook that panics at stage for record rec (-1: any).
func panicAt(stage string, rec int) func(string, int) {
	return func(s string, i int) {
		if s == stage && (rec < 0 || i == rec) {
			panic("injected " + stage + " bug")
		}
	}
}

// TestPanicDecodingQuarantinesTheRecord: a panic while decoding one record
// quarantines that record, with the panic as its reason; the others are
// delivered and the process lives on.
func TestPanicDecodingQuarantinesTheRecord(t *testing.T) {
	payload, ev := kinesisJSON(t, payloads(t, "DDD", 3))
	fs := &fakeSink{failAt: -1}
	q := &quarantine.Memory{}
	var logs bytes.Buffer
	var sum Summary
	h := New(Options{Sink: fs, Quarantine: q, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), OnSummary: func(s Summary) { sum = s }})
	h.testHook = panicAt(stageDecode, 1)
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batchItemFailures %+v", resp.BatchItemFailures)
	}
	es := q.Entries()
	if len(es) != 1 || es[0].Kind != quarantine.KindRecord || es[0].SequenceNumber != ev.Records[1].Kinesis.SequenceNumber ||
		!strings.Contains(es[0].Reason, "decoding the record panicked: injected decode bug") || !bytes.Equal(es[0].Data, ev.Records[1].Kinesis.Data) {
		t.Fatalf("quarantine %+v, want record 1 with the panic as its reason", es)
	}
	if len(fs.batches) != 1 || len(fs.batches[0].Records) != 2 || sum.Delivered != 6 || len(sum.Poison) != 1 {
		t.Fatalf("sink got %d batches, summary %+v", len(fs.batches), sum)
	}
	if !strings.Contains(logs.String(), `"msg":"panic"`) || !strings.Contains(logs.String(), "guard_test.go") {
		t.Errorf("no log line with the panic's stack: %s", logs.String())
	}
}

// TestPanicRoutingQuarantinesTheRecord: a panic while routing one record
// quarantines it whole; the others are routed and delivered as usual.
func TestPanicRoutingQuarantinesTheRecord(t *testing.T) {
	tbl, err := routes.Parse([]byte(routeTable))
	if err != nil {
		t.Fatal(err)
	}
	f, targets := s3Fanout(t, tbl, nil)
	q := &quarantine.Memory{}
	var sum Summary
	h := New(Options{Sink: f, Routes: tbl, Quarantine: q, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
	h.testHook = panicAt(stageRoute, 2) // the apps record, 4 events
	if resp := invoke(t, h, routedPayload(t)); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batchItemFailures %+v", resp.BatchItemFailures)
	}
	for name, want := range map[string]int{"s3": 5, "s3:audit": 5, "s3:apps": 0} {
		if got := eventsOf(targets[name]); got != want {
			t.Errorf("target %s got %d events, want %d", name, got, want)
		}
	}
	es := q.Entries()
	if len(es) != 1 || es[0].Kind != quarantine.KindRecord || !strings.Contains(es[0].Reason, "routing the record panicked") {
		t.Fatalf("quarantine %+v", es)
	}
	if sum.Events != 23-4 || sum.Delivered != 10 || len(sum.Poison) != 1 {
		t.Errorf("summary %+v", sum)
	}
}

// TestPanicInTheAccountingCheckRetriesTheBatch: the check cannot vouch for
// the sink's result, so the whole batch is retried; the next invocation works.
func TestPanicInTheAccountingCheckRetriesTheBatch(t *testing.T) {
	payload, ev := kinesisJSON(t, payloads(t, "DD", 2))
	var sum Summary
	h := New(Options{Sink: &refusingSink{refuse: [][2]int{{1, 0}}}, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
	h.testHook = panicAt(stageCheck, -1)
	resp := invoke(t, h, payload)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Kinesis.SequenceNumber {
		t.Fatalf("batchItemFailures %+v, want the whole batch", resp.BatchItemFailures)
	}
	if sum.Quarantined != 0 || !strings.Contains(sum.Err, "accounting check panicked") {
		t.Errorf("summary %+v: nothing may be quarantined on an unchecked result", sum)
	}
	h.testHook = nil
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 || sum.Quarantined != 1 {
		t.Fatalf("retry: batchItemFailures %+v, summary %+v", resp.BatchItemFailures, sum)
	}
}

// panicQuarantine panics in Put, as a buggy quarantine would.
type panicQuarantine struct{ calls int }

func (p *panicQuarantine) Put(context.Context, quarantine.Entry) error {
	p.calls++
	panic("quarantine bug")
}

// TestPanicInAQuarantineWriteRetriesItsRecord: a quarantine write that
// panics (for an undeliverable event, in a goroutine of its own, or for an
// undecodable record) is a failed write, made once: the record is retried.
func TestPanicInAQuarantineWriteRetriesItsRecord(t *testing.T) {
	for _, tc := range []struct {
		name    string
		layout  string
		refuse  [][2]int
		wantRec int
	}{
		{"undeliverable event", "DDD", [][2]int{{1, 2}}, 1},
		{"undecodable record", "DPD", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload, ev := kinesisJSON(t, payloads(t, tc.layout, 3))
			pq := &panicQuarantine{}
			var sum Summary
			h := New(Options{Sink: &refusingSink{refuse: tc.refuse}, Quarantine: pq, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
			resp := invoke(t, h, payload)
			if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[tc.wantRec].Kinesis.SequenceNumber {
				t.Fatalf("batchItemFailures %+v, want a retry from record %d", resp.BatchItemFailures, tc.wantRec)
			}
			if pq.calls != 1 || !strings.Contains(sum.Err, "quarantine write panicked: quarantine bug") {
				t.Errorf("%d Put calls (want 1: a panic is not repeated), summary %+v", pq.calls, sum)
			}
		})
	}
}

// panicLedger is a ledger.Memory whose Get or Put panics.
type panicLedger struct {
	ledger.Memory
	get, put bool
}

func (p *panicLedger) Get(ctx context.Context, key string) (ledger.Entry, error) {
	if p.get {
		panic("ledger read bug")
	}
	return p.Memory.Get(ctx, key)
}

func (p *panicLedger) Put(ctx context.Context, key string, e ledger.Entry) error {
	if p.put {
		panic("ledger write bug")
	}
	return p.Memory.Put(ctx, key, e)
}

// TestPanicInTheLedgerIsALedgerError: a ledger call that panics (the read
// runs in a goroutine of its own) counts as the ledger being unreachable:
// the batch is delivered at least once.
func TestPanicInTheLedgerIsALedgerError(t *testing.T) {
	for _, tc := range []struct {
		name      string
		l         *panicLedger
		wantRetry bool
		want      string
	}{
		{"read", &panicLedger{get: true}, false, "ledger read panicked: ledger read bug"},
		{"write", &panicLedger{put: true}, true, "ledger write panicked: ledger write bug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload, ev := kinesisJSON(t, payloads(t, "DDD", 2))
			// With the write test, record 1 fails and record 2 lands: an entry to write.
			fs := &flakySink{fail: map[string]bool{ev.Records[1].Kinesis.SequenceNumber: true}, failing: tc.wantRetry, landed: map[string]int{}}
			var sum Summary
			h := New(Options{Sink: fs, Quarantine: &quarantine.Memory{}, Ledger: tc.l, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
			resp := invoke(t, h, payload)
			if got := len(resp.BatchItemFailures) == 1 && resp.BatchItemFailures[0].ItemIdentifier == ev.Records[1].Kinesis.SequenceNumber; got != tc.wantRetry {
				t.Fatalf("batchItemFailures %+v", resp.BatchItemFailures)
			}
			if !strings.Contains(sum.LedgerErr, tc.want) {
				t.Errorf("ledger error %q, want %q", sum.LedgerErr, tc.want)
			}
		})
	}
}

// panicWriter panics on Write: a metrics destination with a bug.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("metrics bug") }

// TestPanicElsewhereRetriesTheBatch: a panic outside any narrower guard
// (here writing the metrics, after delivery) reports the whole batch for
// retry instead of ending the process.
func TestPanicElsewhereRetriesTheBatch(t *testing.T) {
	payload, ev := kinesisJSON(t, payloads(t, "DD", 2))
	var logs bytes.Buffer
	h := New(Options{Sink: &fakeSink{failAt: -1}, Quarantine: &quarantine.Memory{}, Metrics: panicWriter{},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	resp := invoke(t, h, payload)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Kinesis.SequenceNumber {
		t.Fatalf("batchItemFailures %+v, want the whole batch", resp.BatchItemFailures)
	}
	if !strings.Contains(logs.String(), "metrics bug") {
		t.Errorf("the panic is not logged: %s", logs.String())
	}
	// The awslogs path reports it as an error for Lambda's asynchronous retry.
	data := payloads(t, "D", 2)[0]
	if _, err := h.HandleAWSLogs(context.Background(), data); err == nil || !strings.Contains(err.Error(), "the handler panicked: metrics bug") {
		t.Errorf("HandleAWSLogs: %v", err)
	}
	// A panic before the batch is even parsed is an error too.
	h.testHook = panicAt(stageParse, -1)
	if _, err := h.Invoke(context.Background(), payload); err == nil || !strings.Contains(err.Error(), "injected parse bug") {
		t.Errorf("Invoke: %v", err)
	}
}

// panicHealth is a Health whose Flush panics.
type panicHealth struct{}

func (panicHealth) IsHeartbeat(string) bool                                     { return false }
func (panicHealth) Heartbeat(*subscription.Message, time.Time)                  {}
func (panicHealth) Traffic(*subscription.Message, int, int64, int64, time.Time) {}
func (panicHealth) Flush(context.Context, time.Time) (health.FlushResult, error) {
	panic("health bug")
}
func (panicHealth) Close(context.Context, time.Time) (health.FlushResult, error) {
	return health.FlushResult{}, nil
}

// TestPanicInSenderHealthCostsNoEvent: a panic writing sender health is a
// health error, like any failure of its table: the batch stands.
func TestPanicInSenderHealthCostsNoEvent(t *testing.T) {
	payload, _ := kinesisJSON(t, payloads(t, "DD", 2))
	var sum Summary
	h := New(Options{Sink: &fakeSink{failAt: -1}, Quarantine: &quarantine.Memory{}, Health: panicHealth{}, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batchItemFailures %+v", resp.BatchItemFailures)
	}
	if sum.Delivered != 4 || !strings.Contains(sum.HealthErr, "sender health panicked: health bug") {
		t.Errorf("summary %+v", sum)
	}
}
