package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/logfan/logfan/shared/subscription"
)

// countingWriter records every write, and checks the bound: no key written
// twice by one instance within its interval (log groups: the same day).
type countingWriter struct {
	mu      sync.Mutex
	t       *testing.T
	now     *time.Time
	last    map[string]time.Time
	senders int
	groups  int
	events  int64
	beats   int64
	fail    error
	closing bool // Close writes everything pending, due or not
}

func newCountingWriter(t *testing.T, now *time.Time) *countingWriter {
	return &countingWriter{t: t, now: now, last: map[string]time.Time{}}
}

func (w *countingWriter) check(key string, interval time.Duration) {
	if prev, ok := w.last[key]; ok && !w.closing && w.now.Sub(prev) < interval {
		w.t.Errorf("key %s written at %s and again at %s: less than %s apart", key, prev.Format(time.TimeOnly), w.now.Format(time.TimeOnly), interval)
	}
	w.last[key] = *w.now
}

func (w *countingWriter) WriteSender(_ context.Context, u SenderUpdate) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	w.check("S:"+SenderSK(u.Account, u.Region), DefaultSenderInterval)
	w.senders++
	w.beats += u.Heartbeats
	return nil
}

func (w *countingWriter) WriteLogGroup(_ context.Context, u LogGroupUpdate) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	w.check("G:"+u.Day+LogGroupSK(u.Account, u.Region, u.LogGroup), DefaultLogGroupInterval)
	w.groups++
	w.events += u.Events
	return nil
}

func (w *countingWriter) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.senders + w.groups
}

func msg(owner, group string, ts ...int64) *subscription.Message {
	m := &subscription.Message{MessageType: subscription.DataMessage, Owner: owner, LogGroup: group, LogStream: "s"}
	for _, t := range ts {
		m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: "1", Timestamp: t, Message: "m"})
	}
	return m
}

// WRU prices of DynamoDB on demand in us-east-1: $0.625 per million write
// request units, one unit per write of an item up to 1 KB (ours are ~200 B).
const dollarsPerMillionWrites = 0.625

// hoursPerMonth is 365 x 24 / 12.
const hoursPerMonth = 730

// simulate runs one function instance for hours of simulated time: every
// second an invocation, every log group of every sender one record a
// minute (the busy case: each log group sends all the time), every sender a
// heartbeat every 5 minutes. It returns the table writes of the last hour
// (steady state) and checks that every event and heartbeat is written once
// the instance closes.
func simulate(t *testing.T, senders, groups, hours int) (perHour int) {
	start := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	now := start
	w := newCountingWriter(t, &now)
	r := NewRecorder(RecorderOptions{HeartbeatLogGroups: []string{"/logfan/heartbeat"}, Writer: w})
	// Pre-built messages: the payloads of one minute (records) and of five (heartbeats).
	owners := make([]string, senders)
	for s := range owners {
		owners[s] = fmt.Sprintf("%012d", 100000000000+s)
	}
	msgs := make([]*subscription.Message, senders*groups)
	for k := range msgs {
		msgs[k] = msg(owners[k/groups], fmt.Sprintf("/aws/lambda/service-%02d", k%groups), start.UnixMilli())
	}
	var sentEvents, sentBeats int64
	ctx := context.Background()
	lastHour := 0
	for sec := 0; sec < hours*3600; sec++ {
		now = start.Add(time.Duration(sec) * time.Second)
		if sec == (hours-1)*3600 {
			lastHour = w.total()
		}
		// Log groups are spread over the minute, heartbeats over five.
		for k := sec % 60; k < senders*groups; k += 60 {
			r.Traffic(msgs[k], 2, 2, now.UnixMilli()-100, now)
			sentEvents += 2
		}
		for s := sec % 300; s < senders; s += 300 {
			r.Heartbeat(msg(owners[s], "/logfan/heartbeat", now.UnixMilli()-1000), now)
			sentBeats++
		}
		if _, err := r.Flush(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	perHour = w.total() - lastHour
	w.closing = true
	if _, err := r.Close(ctx, now); err != nil {
		t.Fatal(err)
	}
	if w.events != sentEvents || w.beats != sentBeats {
		t.Errorf("written %d events and %d heartbeats, recorded %d and %d: counts lost", w.events, w.beats, sentEvents, sentBeats)
	}
	return perHour
}

// TestWritesPerHour measures the table writes of docs/operate.md's cases and
// holds the 100 x 50 case under $5 a month.
func TestWritesPerHour(t *testing.T) {
	cases := []struct {
		senders, groups int
		maxDollars      float64
	}{
		{100, 50, 5},
		{1000, 50, 0},
	}
	if testing.Short() {
		cases = cases[:1]
	}
	for _, c := range cases {
		perHour := simulate(t, c.senders, c.groups, 2)
		dollars := float64(perHour) * hoursPerMonth * dollarsPerMillionWrites / 1e6
		t.Logf("%d senders x %d busy log groups, one instance: %d writes/hour, %.2fM writes/month, $%.2f/month", c.senders, c.groups, perHour, float64(perHour)*hoursPerMonth/1e6, dollars)
		// The bound: each sender key once per heartbeat (12 an hour), each log-group key once an hour.
		if want := c.senders*12 + c.senders*c.groups; perHour > want {
			t.Errorf("%d x %d: %d writes in an hour, want at most %d", c.senders, c.groups, perHour, want)
		}
		if c.maxDollars > 0 && dollars > c.maxDollars {
			t.Errorf("%d x %d: $%.2f a month, want under $%.0f", c.senders, c.groups, dollars, c.maxDollars)
		}
	}
}

// TestWriteBound: a key that gets records all the time is written once
// when first seen, then once per interval; what comes between is added up.
func TestWriteBound(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	w := newCountingWriter(t, &now)
	r := NewRecorder(RecorderOptions{Writer: w})
	ctx := context.Background()
	for i := range 7200 { // two hours, an invocation a second
		now = now.Add(time.Second)
		r.Traffic(msg("111111111111", "/g", now.UnixMilli()), 1, 10, now.UnixMilli(), now)
		if i%10 == 0 {
			r.Heartbeat(msg("111111111111", "/logfan/heartbeat", now.UnixMilli()), now)
		}
		if _, err := r.Flush(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	// Log group: first sight, +1 h (and the last hour is pending); sender: once a minute.
	if w.groups != 2 || w.senders != 120 {
		t.Errorf("%d log-group and %d sender writes in two hours, want 2 and 120", w.groups, w.senders)
	}
	w.closing = true
	if _, err := r.Close(ctx, now); err != nil {
		t.Fatal(err)
	}
	if w.events != 7200 || w.beats != 720 {
		t.Errorf("written %d events and %d heartbeats, want 7200 and 720", w.events, w.beats)
	}
}

// TestFlushFailureKeepsCounts: a failing table loses no count, and the
// recorder pauses its writes for the backoff.
func TestFlushFailureKeepsCounts(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	w := newCountingWriter(t, &now)
	w.fail = errors.New("ProvisionedThroughputExceededException")
	r := NewRecorder(RecorderOptions{Writer: w})
	ctx := context.Background()
	r.Traffic(msg("111111111111", "/g", 1), 3, 30, 1, now)
	r.Heartbeat(msg("111111111111", "/logfan/heartbeat", 2), now)
	res, err := r.Flush(ctx, now)
	if err == nil || res.Writes != 2 || res.Failed != 2 {
		t.Fatalf("Flush = %+v, %v; want 2 failed writes and an error", res, err)
	}
	w.fail = nil
	now = now.Add(30 * time.Second)
	r.Traffic(msg("111111111111", "/g", 5), 2, 20, 5, now)
	if res, err := r.Flush(ctx, now); err != nil || res.Writes != 0 {
		t.Fatalf("Flush within the backoff = %+v, %v; want no writes", res, err)
	}
	now = now.Add(31 * time.Second)
	if res, err := r.Flush(ctx, now); err != nil || res.Writes != 2 {
		t.Fatalf("Flush after the backoff = %+v, %v; want 2 writes", res, err)
	}
	if w.events != 5 || w.beats != 1 {
		t.Errorf("written %d events, %d heartbeats; want 5 and 1", w.events, w.beats)
	}
}

// TestFlushLimit: after midnight every log group is new; one flush writes
// at most MaxWritesPerFlush keys and the next flushes take the rest.
func TestFlushLimit(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 1, 0, time.UTC)
	w := newCountingWriter(t, &now)
	r := NewRecorder(RecorderOptions{Writer: w, MaxWritesPerFlush: 100})
	for g := range 250 {
		r.Traffic(msg("111111111111", fmt.Sprint("/g", g), 1), 1, 1, 1, now)
	}
	ctx := context.Background()
	for _, want := range []int{100, 100, 50, 0} {
		now = now.Add(time.Second)
		if res, err := r.Flush(ctx, now); err != nil || res.Writes != want {
			t.Fatalf("Flush = %+v, %v; want %d writes", res, err, want)
		}
	}
}

// TestDayRollover: a log group's records go to the day they are processed
// on; yesterday's key is written when due and then forgotten.
func TestDayRollover(t *testing.T) {
	now := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	w := newCountingWriter(t, &now)
	r := NewRecorder(RecorderOptions{Writer: w})
	ctx := context.Background()
	step := func(d time.Duration) {
		now = now.Add(d)
		r.Traffic(msg("111111111111", "/g", now.UnixMilli()), 1, 1, now.UnixMilli(), now)
		if _, err := r.Flush(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	step(0)                // 2026-03-01 first seen: written
	step(30 * time.Second) // pending on 03-01
	step(time.Minute)      // 2026-03-02 first seen: written
	if w.groups != 2 || len(r.groups) != 2 {
		t.Fatalf("%d writes, %d keys; want 2 and 2", w.groups, len(r.groups))
	}
	now = now.Add(time.Hour)
	if _, err := r.Flush(ctx, now); err != nil {
		t.Fatal(err)
	}
	if w.groups != 3 || w.events != 3 {
		t.Fatalf("%d writes of %d events; want yesterday's rest written: 3 of 3", w.groups, w.events)
	}
	now = now.Add(time.Hour)
	if _, err := r.Flush(ctx, now); err != nil {
		t.Fatal(err)
	}
	if len(r.groups) != 1 {
		t.Errorf("%d keys kept, want today's only", len(r.groups))
	}
}

// TestMaxKeys: beyond MaxKeys new log groups are not tracked, and the
// flush says so.
func TestMaxKeys(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	w := newCountingWriter(t, &now)
	r := NewRecorder(RecorderOptions{Writer: w, MaxKeys: 3})
	for g := range 5 {
		r.Traffic(msg("111111111111", fmt.Sprint("/g", g), 1), 1, 1, 1, now)
	}
	res, err := r.Flush(context.Background(), now)
	if res.Writes != 3 || err == nil {
		t.Errorf("Flush = %+v, %v; want 3 writes and an error about 2 untracked records", res, err)
	}
}

// TestNoWriterRecordsNothing: a function without the table keeps no state.
func TestNoWriterRecordsNothing(t *testing.T) {
	r := NewRecorder(RecorderOptions{HeartbeatLogGroups: []string{"/logfan/heartbeat", "/x/hb"}})
	now := time.Now()
	r.Traffic(msg("111111111111", "/g", 1), 1, 1, 1, now)
	r.Heartbeat(msg("111111111111", "/x/hb", 1), now)
	if len(r.groups)+len(r.senders) != 0 {
		t.Error("state kept without a writer")
	}
	if !r.IsHeartbeat("/x/hb") || !r.IsHeartbeat("/logfan/heartbeat") || r.IsHeartbeat("/logfan/heartbeat2") || r.IsHeartbeat("/x") {
		t.Error("IsHeartbeat: want exact names only")
	}
}

// TestFutureTimesClamped: a sender cannot push its last-seen time past now.
func TestFutureTimesClamped(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	w := &lastWriter{}
	r := NewRecorder(RecorderOptions{Writer: w})
	future := now.Add(24 * time.Hour).UnixMilli()
	r.Heartbeat(msg("111111111111", "/logfan/heartbeat", future), now)
	r.Traffic(msg("111111111111", "/g", future), 1, 1, future, now)
	if _, err := r.Flush(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	if w.s.LastHeartbeat != now.UnixMilli() || w.g.LastEvent != now.UnixMilli() {
		t.Errorf("last heartbeat %d, last event %d; want both now (%d)", w.s.LastHeartbeat, w.g.LastEvent, now.UnixMilli())
	}
}

type lastWriter struct {
	s SenderUpdate
	g LogGroupUpdate
}

func (w *lastWriter) WriteSender(_ context.Context, u SenderUpdate) error     { w.s = u; return nil }
func (w *lastWriter) WriteLogGroup(_ context.Context, u LogGroupUpdate) error { w.g = u; return nil }

func TestRegionOf(t *testing.T) {
	for _, c := range []struct{ fields, want string }{
		{`{"@aws.account":"111111111111","@aws.region":"eu-west-1"}`, "eu-west-1"},
		{`{"@aws.region":"us-gov-west-1"}`, "us-gov-west-1"},
		{`{"region":"eu-west-1"}`, ""},
		{`{"@aws.region":"EU WEST"}`, ""},
		{`{"@aws.region":""}`, ""},
		{``, ""},
	} {
		m := msg("111111111111", "/g", 1)
		if c.fields != "" {
			m.LogEvents[0].ExtractedFields = []byte(c.fields)
		}
		// The region is the decoder's reading of the payload's system fields.
		data, err := subscription.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if m, err = subscription.NewDecoder(0).Decode(data); err != nil {
			t.Fatal(err)
		}
		if got := RegionOf(m); got != c.want {
			t.Errorf("RegionOf(%s) = %q, want %q", c.fields, got, c.want)
		}
	}
	if got := RegionOf(msg("1", "/g")); got != "" {
		t.Errorf("no events: %q", got)
	}
}

// BenchmarkTraffic is the per-record cost of sender health on the hot
// path: one Traffic call for a known key (the steady state), no allocation.
func BenchmarkTraffic(b *testing.B) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	r := NewRecorder(RecorderOptions{Writer: &lastWriter{}})
	msgs := make([]*subscription.Message, 100)
	for i := range msgs {
		msgs[i] = msg(fmt.Sprintf("%012d", i%50), fmt.Sprintf("/aws/lambda/service-%02d", i), now.UnixMilli())
		msgs[i].LogEvents[0].ExtractedFields = []byte(`{"@aws.account":"111111111111","@aws.region":"eu-west-1"}`)
		msgs[i].Account, msgs[i].Region = "111111111111", "eu-west-1" // as the decoder reads them
		r.Traffic(msgs[i], 1, 1, 1, now)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Traffic(msgs[i%len(msgs)], 100, 10000, now.UnixMilli(), now)
		i++
	}
}
