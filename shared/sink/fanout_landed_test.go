package sink_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// partialTarget lands every event except those of the records in fail
// (while failing), and reports what landed from its FailedAt on, as the
// real sinks do. It counts each landing per event.
type partialTarget struct {
	fail    map[string]bool
	failing bool
	landed  map[string]int
}

func (p *partialTarget) Name() string { return "partial" }

func (p *partialTarget) Deliver(_ context.Context, b *sink.Batch) sink.Result {
	res := sink.Result{FailedAt: -1}
	var at [][2]int
	for k, r := range b.Records {
		if p.failing && p.fail[r.SequenceNumber] {
			if res.FailedAt < 0 {
				res.FailedAt, res.Err = k, errors.New("injected")
			}
			continue
		}
		for e, ev := range r.Message.LogEvents {
			p.landed[ev.ID]++
			at = append(at, [2]int{k, e})
		}
	}
	if res.FailedAt < 0 {
		res.Delivered = b.Events()
		return res
	}
	l := sink.NewLanding(b, res.FailedAt)
	for _, a := range at {
		if a[0] < res.FailedAt {
			res.Delivered++
		}
		l.Add(b, a[0], a[1])
	}
	res.Landed = l.Units(b)
	return res
}

// A retry through Fanout with what the first attempt reported in
// Batch.Landed sends each target only what it did not take.
func TestFanoutSkipsPerTarget(t *testing.T) {
	var recs []sink.DecodedRecord
	for i := range 6 {
		m := &subscription.Message{}
		for e := range 4 {
			m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: fmt.Sprintf("r%de%d", i, e), Message: "x"})
		}
		recs = append(recs, sink.DecodedRecord{SequenceNumber: fmt.Sprint(100 + i), Message: m, Targets: []int{0, 1}})
	}
	// Target a fails on record 2, target b on record 4.
	a := &partialTarget{fail: map[string]bool{"102": true}, failing: true, landed: map[string]int{}}
	b := &partialTarget{fail: map[string]bool{"104": true}, failing: true, landed: map[string]int{}}
	f := sink.NewFanout("fake", []string{"a", "b"}, []sink.Sink{a, b})

	res := f.Deliver(context.Background(), &sink.Batch{Records: recs})
	if res.FailedAt != 2 {
		t.Fatalf("FailedAt = %d, want 2", res.FailedAt)
	}
	// The consumer keeps the units by sequence number and hands them back,
	// indexed in the retried batch (which starts at record 2).
	retry := &sink.Batch{Records: recs[2:]}
	for _, u := range res.Landed {
		retry.Landed = append(retry.Landed, sink.Unit{Record: u.Record - 2, Key: u.Key})
	}
	a.failing, b.failing = false, false
	res2 := f.Deliver(context.Background(), retry)
	if res2.FailedAt != -1 || res2.Delivered != 2*4*4 {
		t.Fatalf("retry: FailedAt %d, delivered %d; want -1, %d (skipped ones count as delivered)", res2.FailedAt, res2.Delivered, 2*4*4)
	}
	for name, tg := range map[string]*partialTarget{"a": a, "b": b} {
		for _, r := range recs {
			for _, ev := range r.Message.LogEvents {
				if n := tg.landed[ev.ID]; n != 1 {
					t.Errorf("target %s got event %s %d times, want once", name, ev.ID, n)
				}
			}
		}
	}
	// A key of another target never applies: b's keys do not skip a's events.
	onlyB := &sink.Batch{Records: recs[2:]}
	for _, u := range retry.Landed {
		onlyB.Landed = append(onlyB.Landed, sink.Unit{Record: u.Record, Key: u.Key})
	}
	other := sink.NewFanout("fake", []string{"c", "d"}, []sink.Sink{&partialTarget{landed: map[string]int{}}, &partialTarget{landed: map[string]int{}}})
	if res := other.Deliver(context.Background(), onlyB); res.Delivered != 2*4*4 {
		t.Errorf("targets c, d delivered %d, want every event (%d)", res.Delivered, 2*4*4)
	}
}
