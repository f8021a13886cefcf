package e2e

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/internal/ops/quarantined"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/subscription"
)

// TestQuarantineKeysAreByPosition sends, through the real logs handler on
// moto, one record whose undeliverable (empty) events share IDs: two with
// the same ID, two with none. Each must be an entry of its own in the S3
// quarantine, holding its own event (issue 21, item 3: keys by ID let the
// second of two such events overwrite the first).
func TestQuarantineKeysAreByPosition(t *testing.T) {
	readers := emutest.Clients(t, srv)
	ctx := context.Background()
	ts := time.Now().Add(-time.Hour).UnixMilli()
	m := &subscription.Message{MessageType: subscription.DataMessage, Owner: "111111111111", LogGroup: "/app/ids", LogStream: "s",
		SubscriptionFilters: []string{"f"}}
	for i, id := range []string{"dup", "ok", "dup", "", ""} {
		msg := ""
		if id == "ok" {
			msg = "delivered"
		}
		m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: id, Timestamp: ts + int64(i), Message: msg})
	}
	ev := invocation.NewKinesisEvent(invocation.Stream{}, [][]byte{eventgen.MustPayload(m)})

	names := localenv.DefaultNames().WithSuffix("-qkeys")
	h := newHandler(t, readers, names, config.SinkLogs, app.Deps{Logger: slog.New(slog.DiscardHandler)})
	if failures := invokeEvent(t, h, ev, 0); len(failures) != 0 {
		t.Fatalf("batchItemFailures %+v: want no failures", failures)
	}

	items, err := quarantined.List(ctx, readers.S3, names.QuarantineBucket, config.DefaultQuarantinePrefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	byIndex := map[int]quarantined.Item{}
	for _, it := range items {
		e := it.Entry
		if e.Kind != quarantine.KindEvent || e.SequenceNumber != ev.Records[0].Kinesis.SequenceNumber {
			t.Fatalf("unexpected entry %s: %+v", it.Key, e)
		}
		line, err := readback.ParseLine(e.Data)
		if err != nil {
			t.Fatalf("%s: %v", it.Key, err)
		}
		if line.Timestamp != ts+int64(e.Event) || line.ID != e.EventID {
			t.Errorf("%s holds event %s at %d, want event %d's", it.Key, line.ID, line.Timestamp, e.Event)
		}
		if prev, ok := byIndex[e.Event]; ok {
			t.Errorf("event %d is in %s and %s", e.Event, prev.Key, it.Key)
		}
		byIndex[e.Event] = it
	}
	for _, want := range []int{0, 2, 3, 4} {
		if _, ok := byIndex[want]; !ok {
			t.Errorf("event %d (ID %q) has no entry of its own", want, m.LogEvents[want].ID)
		}
	}
	if len(items) != 4 {
		t.Fatalf("%d quarantine objects for the 4 undeliverable events", len(items))
	}
}
