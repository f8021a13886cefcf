package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/sink"
)

// flakySink lands every event except those of records whose sequence number
// is in fail (while failing is on), the way a sink with parallel calls
// partly fails: later records land while an earlier one does not. It counts
// every landing per event, so duplicates show.
type flakySink struct {
	fail    map[string]bool
	failing bool
	// crashAt, when set, makes the next Deliver land the events of the
	// records before it and then panic: what a crash or timeout in the middle
	// of delivery leaves behind (the consumer's guard turns the panic into
	// a retry of the whole batch, as Lambda does after a crash).
	crashAt int
	landed  map[string]int // event ID -> times landed
	calls   int
}

func (f *flakySink) Name() string { return "flaky" }

func (f *flakySink) Deliver(_ context.Context, b *sink.Batch) sink.Result {
	f.calls++
	if f.crashAt > 0 {
		for k := range min(f.crashAt, len(b.Records)) {
			for _, ev := range b.Records[k].Message.LogEvents {
				f.landed[ev.ID]++
			}
		}
		f.crashAt = 0
		panic("crash in the middle of delivery")
	}
	res := sink.Result{FailedAt: -1}
	var landedAt [][2]int
	for k, r := range b.Records {
		if f.failing && f.fail[r.SequenceNumber] {
			if res.FailedAt < 0 {
				res.FailedAt, res.Err = k, errors.New("injected")
			}
			continue
		}
		for e := range r.Message.LogEvents {
			f.landed[r.Message.LogEvents[e].ID]++
			landedAt = append(landedAt, [2]int{k, e})
		}
	}
	if res.FailedAt < 0 {
		res.Delivered = b.Events()
		return res
	}
	l := sink.NewLanding(b, res.FailedAt)
	for _, a := range landedAt {
		if a[0] < res.FailedAt {
			res.Delivered++
		}
		l.Add(b, a[0], a[1])
	}
	res.Landed = l.Units(b)
	return res
}

// retryUntilDone invokes h with ev and, as Lambda does, again from each
// retry point (the sink stops failing after the first attempt).
func retryUntilDone(t *testing.T, h *Handler, fs *flakySink, ev events.KinesisEvent) int {
	t.Helper()
	invocations := 0
	for {
		invocations++
		if invocations > 5 {
			t.Fatal("still failing after 5 invocations")
		}
		payload, _ := kinesisJSONEvent(t, ev)
		resp := invoke(t, h, payload)
		fs.failing = false
		if len(resp.BatchItemFailures) == 0 {
			return invocations
		}
		seq := resp.BatchItemFailures[0].ItemIdentifier
		for i, r := range ev.Records {
			if r.Kinesis.SequenceNumber == seq {
				ev.Records = ev.Records[i:]
				break
			}
		}
	}
}

func kinesisJSONEvent(t *testing.T, ev events.KinesisEvent) ([]byte, events.KinesisEvent) {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b, ev
}

func TestLedgerSkipsWhatLanded(t *testing.T) {
	datas := payloads(t, "DDPDDD", 7)
	_, ev := kinesisJSON(t, datas)
	total := 5 * 7
	// Record 1 fails; records 3-5 land on the first attempt.
	for _, tt := range []struct {
		name      string
		ledger    *ledger.Memory
		wantDups  int
		wantPuts  int // -1: any (retried)
		wantLeft  int
		wantError bool
	}{
		{"ledger on", &ledger.Memory{}, 0, 1, 0, false},
		{"ledger unavailable: at least once", &ledger.Memory{Unavailable: true}, 3 * 7, -1, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := &flakySink{fail: map[string]bool{ev.Records[1].Kinesis.SequenceNumber: true}, failing: true, landed: map[string]int{}}
			var sums []Summary
			h := New(Options{Sink: fs, Quarantine: &quarantine.Memory{}, Ledger: tt.ledger, LedgerTimeout: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sums = append(sums, s) }})
			n := retryUntilDone(t, h, fs, ev)
			if n != 2 {
				t.Fatalf("%d invocations, want 2", n)
			}
			dups := 0
			for _, c := range fs.landed {
				dups += c - 1
			}
			if len(fs.landed) != total || dups != tt.wantDups {
				t.Fatalf("landed %d distinct events of %d, %d duplicates; want all, %d duplicates", len(fs.landed), total, dups, tt.wantDups)
			}
			if (tt.wantPuts >= 0 && tt.ledger.Puts != tt.wantPuts) || tt.ledger.Len() != tt.wantLeft {
				t.Errorf("ledger: %d puts, %d entries left; want %d, %d", tt.ledger.Puts, tt.ledger.Len(), tt.wantPuts, tt.wantLeft)
			}
			if got := sums[len(sums)-1].LedgerErr != ""; got != tt.wantError {
				t.Errorf("ledger error %q, want one: %v", sums[len(sums)-1].LedgerErr, tt.wantError)
			}
			if !tt.wantError && sums[1].Skipped != 3*7 {
				t.Errorf("retry skipped %d events, want %d", sums[1].Skipped, 3*7)
			}
		})
	}
}

// A batch that ends without a retry point reads the ledger once and writes nothing.
func TestLedgerHappyPath(t *testing.T) {
	payload, _ := kinesisJSON(t, payloads(t, "DDD", 3))
	l := &ledger.Memory{}
	h := New(Options{Sink: &fakeSink{failAt: -1}, Quarantine: &quarantine.Memory{}, Ledger: l, Logger: slog.New(slog.DiscardHandler)})
	invoke(t, h, payload)
	if l.Gets != 1 || l.Puts != 0 || l.Deletes != 0 {
		t.Fatalf("ledger calls: %d gets, %d puts, %d deletes; want 1, 0, 0", l.Gets, l.Puts, l.Deletes)
	}
}

// Entries that do not match the batch are ignored: their events are delivered.
func TestLedgerStaleEntries(t *testing.T) {
	_, ev := kinesisJSON(t, payloads(t, "DDD", 4))
	shard, first := "shardId-000000000000", ev.Records[0].Kinesis.SequenceNumber
	for _, tt := range []struct {
		name  string
		entry ledger.Entry
	}{
		{"records not in the batch", ledger.Entry{{SequenceNumber: "1", Units: []string{sink.EventsKey(0, 4)}}}},
		{"events the record does not have", ledger.Entry{{SequenceNumber: first, Units: []string{sink.EventsKey(0, 5)}}}},
		{"units of another kind", ledger.Entry{{SequenceNumber: first, Units: []string{"t1/e0-4", "x"}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := &ledger.Memory{}
			fs := &flakySink{landed: map[string]int{}}
			h := New(Options{Sink: fs, Quarantine: &quarantine.Memory{}, Ledger: l, Logger: slog.New(slog.DiscardHandler)})
			key := ledger.Key("flaky", shard, first)
			if err := l.Put(context.Background(), key, tt.entry); err != nil {
				t.Fatal(err)
			}
			retryUntilDone(t, h, fs, ev)
			if len(fs.landed) != 12 {
				t.Fatalf("landed %d of 12 events", len(fs.landed))
			}
			if l.Len() != 0 {
				t.Errorf("the entry read was not deleted")
			}
		})
	}
}

// A crash in the middle of a retry costs duplicates of what that attempt
// delivered before it crashed, no more: the entry the crashed attempt read
// is still there for the next one.
func TestLedgerCrashDuringRetry(t *testing.T) {
	_, ev := kinesisJSON(t, payloads(t, "DDDDD", 10))
	l := &ledger.Memory{}
	fs := &flakySink{fail: map[string]bool{ev.Records[1].Kinesis.SequenceNumber: true}, failing: true, landed: map[string]int{}}
	h := New(Options{Sink: fs, Quarantine: &quarantine.Memory{}, Ledger: l, Logger: slog.New(slog.DiscardHandler)})

	// Attempt 1: records 0, 2, 3, 4 land, record 1 fails: retry from record 1.
	payload, _ := kinesisJSONEvent(t, ev)
	resp := invoke(t, h, payload)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[1].Kinesis.SequenceNumber {
		t.Fatalf("attempt 1: %+v", resp.BatchItemFailures)
	}
	fs.failing = false
	ev.Records = ev.Records[1:]
	// Attempt 2 (the retry) delivers its first record, then crashes.
	fs.crashAt = 1
	payload, _ = kinesisJSONEvent(t, ev)
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Kinesis.SequenceNumber {
		t.Fatalf("attempt 2: %+v", resp.BatchItemFailures)
	}
	// Attempt 3 (Lambda retries the whole batch) succeeds.
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("attempt 3: %+v", resp.BatchItemFailures)
	}
	dups := 0
	for _, c := range fs.landed {
		dups += c - 1
	}
	// Only the crashed attempt's one record (10 events) lands twice; records
	// 2-4, listed by attempt 1, are not sent again.
	if len(fs.landed) != 50 || dups != 10 {
		t.Fatalf("landed %d of 50 events, %d duplicates; want all, 10", len(fs.landed), dups)
	}
	if l.Len() != 0 {
		t.Errorf("%d ledger entries left", l.Len())
	}
}
