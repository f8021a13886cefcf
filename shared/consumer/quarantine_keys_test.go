package consumer

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/subscription"
)

// idsPayload is one record whose events have the given IDs.
func idsPayload(t *testing.T, ids ...string) []byte {
	t.Helper()
	m := &subscription.Message{MessageType: subscription.DataMessage, Owner: "111111111111", LogGroup: "/app/g", LogStream: "s"}
	for i, id := range ids {
		m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: id, Timestamp: 1_767_225_600_000 + int64(i), Message: "m"})
	}
	payload, _ := kinesisJSON(t, [][]byte{eventgen.MustPayload(m)})
	return payload
}

// TestQuarantineEntriesByPosition: undeliverable events of one record that
// share an ID, or have none, are entries of their own, identified by their
// index in the record (issue 21, item 3).
func TestQuarantineEntriesByPosition(t *testing.T) {
	q := &quarantine.Memory{}
	var sum Summary
	h := New(Options{Sink: &refusingSink{refuse: [][2]int{{0, 0}, {0, 1}, {0, 2}, {0, 3}}}, Quarantine: q,
		Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
	if resp := invoke(t, h, idsPayload(t, "dup", "dup", "", "", "x")); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batchItemFailures %+v", resp.BatchItemFailures)
	}
	es := q.Entries() // written in parallel: in any order
	slices.SortFunc(es, func(a, b quarantine.Entry) int { return a.Event - b.Event })
	if len(es) != 4 || sum.Quarantined != 4 {
		t.Fatalf("%d entries kept, %d quarantined: want 4 (%+v)", len(es), sum.Quarantined, es)
	}
	for i, e := range es {
		if e.Event != i || e.EventID != []string{"dup", "dup", "", ""}[i] {
			t.Errorf("entry %d: event %d ID %q", i, e.Event, e.EventID)
		}
	}
}

// TestQuarantineEntryIndexIsTheStreams: when the ledger left events out of
// a record, an entry still names the event by its index in the record as it
// is in the stream, so a retry writes the same entry, not another.
func TestQuarantineEntryIndexIsTheStreams(t *testing.T) {
	payload := idsPayload(t, "a", "b", "c")
	l := &ledger.Memory{}
	q := &quarantine.Memory{}
	h := New(Options{Sink: &refusingSink{refuse: [][2]int{{0, 0}}}, Quarantine: q, Ledger: l, Logger: slog.New(slog.DiscardHandler)})
	// Event 0 landed in an earlier attempt: the sink is handed b and c, and refuses b.
	seq := invocation.NewKinesisEvent(invocation.Stream{}, [][]byte{nil}).Records[0].Kinesis.SequenceNumber
	if err := l.Put(context.Background(), ledger.Key("refusing", "shardId-000000000000", seq), ledger.Entry{{SequenceNumber: seq, Units: []string{"e0-1"}}}); err != nil {
		t.Fatal(err)
	}
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batchItemFailures %+v", resp.BatchItemFailures)
	}
	es := q.Entries()
	if len(es) != 1 || es[0].Event != 1 || es[0].EventID != "b" {
		t.Fatalf("entries %+v: want event 1 (b)", es)
	}
}
