package sink_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// target is one fake target sink: it delivers every event of its records
// but those it refuses, and fails from record failAt (of its own batch) on.
type target struct {
	got     []string // sequence numbers it was given
	failAt  int
	refuse  map[string]int // sequence number -> event index it reports undeliverable
	panics  bool
	deliver func(*sink.Batch) // optional check of what it is handed
}

func (t *target) Name() string { return "fake" }

func (t *target) Deliver(_ context.Context, b *sink.Batch) sink.Result {
	if t.panics {
		panic("target bug")
	}
	if t.deliver != nil {
		t.deliver(b)
	}
	res := sink.Result{FailedAt: -1}
	for i, r := range b.Records {
		if t.failAt >= 0 && i >= t.failAt {
			res.FailedAt, res.Err = i, errors.New("injected")
			break
		}
		t.got = append(t.got, r.SequenceNumber)
		n := len(r.Message.LogEvents)
		if ev, ok := t.refuse[r.SequenceNumber]; ok {
			res.Undeliverable = append(res.Undeliverable, sink.Undeliverable{Record: i, Event: ev, Kind: "tooLarge", Reason: "refused"})
			n--
		}
		res.Delivered += n
		res.Bytes += int64(n)
	}
	return res
}

// batch builds records with the given target lists; record i has i+1 events.
func batch(targets ...[]int) *sink.Batch {
	b := &sink.Batch{ShardID: "shardId-000000000000"}
	for i, ts := range targets {
		m := &subscription.Message{Owner: "111111111111", LogGroup: "/g", LogStream: "s"}
		for j := range i + 1 {
			m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: fmt.Sprint(j)})
		}
		b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: fmt.Sprint(i), Message: m, Targets: ts})
	}
	return b
}

func TestFanoutDeliversEachTargetItsRecords(t *testing.T) {
	a, c := &target{failAt: -1}, &target{failAt: -1}
	c.deliver = func(b *sink.Batch) {
		for _, r := range b.Records {
			if r.Targets != nil {
				t.Errorf("a target's sink got record %s with targets %v: it is one target", r.SequenceNumber, r.Targets)
			}
		}
		if b.ShardID != "shardId-000000000000" {
			t.Errorf("shard %q not passed on", b.ShardID)
		}
	}
	f := sink.NewFanout("s3", []string{"s3", "s3:apps"}, []sink.Sink{a, c})
	b := batch([]int{0}, []int{1}, []int{0, 1}, []int{1, 0})
	res := f.Deliver(context.Background(), b)
	if res.FailedAt != -1 || res.Err != nil {
		t.Fatalf("result %+v", res)
	}
	if !slices.Equal(a.got, []string{"0", "2", "3"}) || !slices.Equal(c.got, []string{"1", "2", "3"}) {
		t.Errorf("targets got %v and %v", a.got, c.got)
	}
	// Each event counted once per target: 1 + 2 + 3×2 + 4×2.
	if want := 1 + 2 + 6 + 8; res.Delivered != want || res.Bytes != int64(want) {
		t.Errorf("delivered %d (%d bytes), want %d", res.Delivered, res.Bytes, want)
	}
	if f.Name() != "s3" {
		t.Errorf("name %q", f.Name())
	}
}

func TestFanoutFailedAtIsTheFirstFailureOverTargets(t *testing.T) {
	for _, c := range []struct {
		name          string
		failA, failB  int
		wantAt        int
		wantDelivered int
		wantErr       []string
	}{
		// Target b's second record is batch record 2: retry from 2. Target a
		// delivered records 0, 2 and 3 (1+3+4); b delivered record 1 (2).
		{"one target fails", -1, 1, 2, 1 + 3 + 4 + 2, []string{"target s3:apps: injected"}},
		// a fails at its record 1 (batch 2), b at its record 0 (batch 1): retry from 1.
		{"both fail", 1, 0, 1, 1, []string{"target s3: injected", "target s3:apps: injected"}},
		{"first record", 0, -1, 0, 2 + 3 + 4, []string{"target s3: injected"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := &target{failAt: c.failA}, &target{failAt: c.failB}
			f := sink.NewFanout("s3", []string{"s3", "s3:apps"}, []sink.Sink{a, b})
			res := f.Deliver(context.Background(), batch([]int{0}, []int{1}, []int{0, 1}, []int{0, 1}))
			if res.FailedAt != c.wantAt || res.Delivered != c.wantDelivered {
				t.Errorf("FailedAt %d, delivered %d; want %d, %d", res.FailedAt, res.Delivered, c.wantAt, c.wantDelivered)
			}
			for _, w := range c.wantErr {
				if res.Err == nil || !strings.Contains(res.Err.Error(), w) {
					t.Errorf("err %v lacks %q", res.Err, w)
				}
			}
		})
	}
}

func TestFanoutUndeliverableNamesItsTarget(t *testing.T) {
	a := &target{failAt: -1, refuse: map[string]int{"2": 1}}
	b := &target{failAt: -1, refuse: map[string]int{"1": 0, "2": 2}}
	f := sink.NewFanout("logs", []string{"logs", "logs:eu-west-1"}, []sink.Sink{a, b})
	res := f.Deliver(context.Background(), batch([]int{0}, []int{1}, []int{0, 1}))
	want := []sink.Undeliverable{
		{Record: 1, Event: 0, Target: "logs:eu-west-1", Kind: "tooLarge", Reason: "refused"},
		{Record: 2, Event: 1, Target: "logs", Kind: "tooLarge", Reason: "refused"},
		{Record: 2, Event: 2, Target: "logs:eu-west-1", Kind: "tooLarge", Reason: "refused"},
	}
	slices.SortFunc(res.Undeliverable, func(x, y sink.Undeliverable) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
	if !slices.Equal(res.Undeliverable, want) {
		t.Errorf("undeliverable %+v\nwant %+v", res.Undeliverable, want)
	}
	// Every delivery owed is delivered or undeliverable: 1 + 2 + 3×2 = 9.
	if res.Delivered+len(res.Undeliverable) != 9 || res.FailedAt != -1 {
		t.Errorf("result %+v", res)
	}
}

func TestFanoutPanickingTargetPanicsInDeliver(t *testing.T) {
	ok := &target{failAt: -1}
	f := sink.NewFanout("firehose", []string{"firehose", "firehose:siem"}, []sink.Sink{ok, &target{panics: true}})
	defer func() {
		p, isPanic := recover().(*sink.Panic)
		if !isPanic || p.Value != "target bug" || !strings.Contains(string(p.Stack), "fanout_test") {
			t.Errorf("recovered %v, want the target's *sink.Panic with its stack", p)
		}
	}()
	f.Deliver(context.Background(), batch([]int{0, 1}))
	t.Error("Deliver returned: a target's panic must reach the consumer's guard, which retries the batch")
}

func TestFanoutRejectsUnknownTargets(t *testing.T) {
	a := &target{failAt: -1}
	f := sink.NewFanout("s3", []string{"s3"}, []sink.Sink{a})
	res := f.Deliver(context.Background(), batch([]int{0}, []int{3}))
	if res.FailedAt != 0 || res.Err == nil || len(a.got) != 0 {
		t.Errorf("a record routed to a target the fanout lacks must retry the batch: %+v, target got %v", res, a.got)
	}
}

// overreporter claims a FailedAt past its own batch.
type overreporter struct{ target }

func (o *overreporter) Deliver(_ context.Context, b *sink.Batch) sink.Result {
	return sink.Result{FailedAt: len(b.Records) + 5, Err: errors.New("bug")}
}

func TestFanoutFailedAtPastTheBatchRetriesEverything(t *testing.T) {
	f := sink.NewFanout("s3", []string{"s3", "s3:x"}, []sink.Sink{&target{failAt: -1}, &overreporter{}})
	if res := f.Deliver(context.Background(), batch([]int{0}, []int{0}, []int{1})); res.FailedAt != 0 {
		t.Errorf("FailedAt %d, want 0", res.FailedAt)
	}
}
