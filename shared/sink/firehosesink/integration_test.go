package firehosesink

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// TestMotoDeliver delivers generated batches to a moto Firehose stream and
// reads the S3 destination back: every event exactly once, identical.
func TestMotoDeliver(t *testing.T) {
	tests := []struct {
		name     string
		packing  string
		batch    func(t *testing.T) *sink.Batch
		minCalls int
	}{
		{name: "packed, mixed kinds and odd content", packing: config.PackingPack,
			batch: func(t *testing.T) *sink.Batch { return genBatch(t, 1, 12, 150, 0, true) }, minCalls: 1},
		{name: "single, mixed kinds and odd content", packing: config.PackingSingle,
			// 1,207 events: three calls of at most 500 records.
			batch: func(t *testing.T) *sink.Batch { return genBatch(t, 2, 12, 100, 0, true) }, minCalls: 3},
		{name: "packed, over 4 MiB: several calls", packing: config.PackingPack,
			// 6 x 1,000 events of ~1 KB: about 6.8 MB of NDJSON.
			batch: func(t *testing.T) *sink.Batch { return genBatch(t, 3, 6, 1000, 900, false) }, minCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDestination(t)
			rec := &recorder{}
			b := tt.batch(t)
			want := expect(t, b)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r := New(d.client(t, rec), config.Firehose{Stream: d.stream, Packing: tt.packing}).Deliver(ctx, b)
			if r.FailedAt != -1 || r.Err != nil || r.Delivered != want.total || len(r.Undeliverable) != 0 {
				t.Fatalf("result %+v, want all %d events delivered", r, want.total)
			}
			want.exactlyOnce(t, d.landed(t))
			rec.checkLimits(t, DefaultLimits())
			if n := rec.numCalls(); n < tt.minCalls {
				t.Errorf("%d PutRecordBatch calls, want at least %d", n, tt.minCalls)
			}
			var sent int64
			for _, c := range rec.calls {
				for _, data := range c {
					sent += int64(len(data))
					if tt.packing == config.PackingSingle && strings.Count(string(data), "\n") != 1 {
						t.Fatalf("single mode sent a record of %d lines", strings.Count(string(data), "\n"))
					}
				}
			}
			if r.Bytes != sent {
				t.Errorf("Bytes %d, want the %d bytes sent", r.Bytes, sent)
			}
		})
	}
}

// TestMotoRecordLimit sends an event whose line is exactly 1,000 KiB (it
// lands, alone in its record) and one a byte longer (quarantined).
func TestMotoRecordLimit(t *testing.T) {
	d := newDestination(t)
	rec := &recorder{}
	b := genBatch(t, 4, 3, 20, 0, false)
	exact, over := lineOfSize(t, b.Records[1].Message, MaxRecordBytes, "exact"), lineOfSize(t, b.Records[2].Message, MaxRecordBytes+1, "over")
	b.Records[1].Message.LogEvents = append(b.Records[1].Message.LogEvents, exact)
	b.Records[2].Message.LogEvents = append(b.Records[2].Message.LogEvents[:5], append([]subscription.LogEvent{over}, b.Records[2].Message.LogEvents[5:]...)...)
	want := expect(t, b)
	delete(want.want, over.ID)
	want.total--

	r := New(d.client(t, rec), config.Firehose{Stream: d.stream}).Deliver(context.Background(), b)
	if r.FailedAt != -1 || r.Delivered != want.total || len(r.Undeliverable) != 1 || r.Undeliverable[0].Kind != KindTooLarge {
		t.Fatalf("result %+v, want %d delivered and 1 quarantined", r, want.total)
	}
	want.exactlyOnce(t, d.landed(t))
	rec.checkLimits(t, DefaultLimits())
	found := false
	for _, c := range rec.calls {
		for _, data := range c {
			if containsID(data, exact.ID) {
				found = true
				if len(data) != MaxRecordBytes {
					t.Errorf("the 1000 KiB event went out in a %d-byte record", len(data))
				}
			}
		}
	}
	if !found {
		t.Error("the exactly-1000-KiB event was never sent")
	}
	u := r.Undeliverable[0]
	if m := b.Records[u.Record].Message; m.LogEvents[u.Event].ID != over.ID ||
		u.Reason != fmt.Sprintf("event exceeds the Firehose record limit (%d bytes > %d)", MaxRecordBytes+1, MaxRecordBytes) {
		t.Errorf("undeliverable %+v, want the oversize event with its reason", u)
	}
}

// lineOfSize returns an event of m whose NDJSON line is exactly n bytes.
func lineOfSize(t *testing.T, m *subscription.Message, n int, tag string) subscription.LogEvent {
	t.Helper()
	ev := subscription.LogEvent{ID: fmt.Sprintf("%056d", n) + tag, Timestamp: 1767225600000}
	ev.ID = ev.ID[len(ev.ID)-56:]
	base := lineLen(m, &ev)
	ev.Message = strings.Repeat("z", n-base)
	if got := lineLen(m, &ev); got != n {
		t.Fatalf("built a %d-byte line, want %d", got, n)
	}
	return ev
}
