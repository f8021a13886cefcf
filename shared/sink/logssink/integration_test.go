package logssink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/ops/readback"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

var testSources = []source{
	{"111111111111", "/aws/lambda/orders", "2026/01/01/[$LATEST]aaaa"},
	{"111111111111", "/aws/lambda/orders", "2026/01/01/[$LATEST]bbbb"},
	{"222222222222", "/app/api", "i-0abc:eth0"}, // ':' is not allowed in a stream name
	{"333333333333", "aws/reserved-looking", "web"},
}

// TestDeliverRoundTrip delivers generated batches (several sources, records
// out of time order, invalid UTF-8, an oversize and an empty event) into
// another region and reads everything back: each deliverable event exactly
// once with identical timestamp and message, groups created with retention,
// and later deliveries to existing streams calling nothing but PutLogEvents.
func TestDeliverRoundTrip(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	s := New(client, cfg, fastOpts()...)

	// 12 records of 150 events; each later record of a source is 10 minutes
	// older, so every stream needs sorting across records.
	start := time.Now().Add(-3 * time.Hour)
	b := genBatch(1, testSources, 12, 150, start, 20*time.Millisecond, -10*time.Minute)
	odd := &b.Records[5].Message.LogEvents
	(*odd)[3].Message = "latin-1 caf\xe9 and a lone \xff"
	(*odd)[4].Message = strings.Repeat("o", DefaultMaxMessageBytes+1)
	(*odd)[5].Message = ""
	(*odd)[6].Message = strings.Repeat("m", DefaultMaxMessageBytes) // exactly at the limit: delivered
	(*odd)[7].Message = strings.Repeat("n", 900_000)                // over the old 256 KB limit, under 1 MB: delivered
	refused := map[string][2]string{(*odd)[4].ID: {KindTooLarge, "oversize"}, (*odd)[5].ID: {KindEmpty, "empty message"}}
	skip := func(_ *subscription.Message, ev *subscription.LogEvent) bool { _, ok := refused[ev.ID]; return ok }

	res := deliver(t, s, b, 60*time.Second)
	if res.FailedAt != -1 || res.Err != nil {
		t.Fatalf("FailedAt %d, Err %v", res.FailedAt, res.Err)
	}
	if want := b.Events() - 2; res.Delivered != want || len(res.Undeliverable) != 2 {
		t.Fatalf("delivered %d undeliverable %+v; want %d and the 2 refused events", res.Delivered, res.Undeliverable, want)
	}
	for _, u := range res.Undeliverable {
		id := b.Records[u.Record].Message.LogEvents[u.Event].ID
		want, ok := refused[id]
		if !ok || u.Record != 5 || u.Kind != want[0] || !strings.Contains(u.Reason, want[1]) {
			t.Errorf("unexpected undeliverable %+v (event %s)", u, id)
		}
	}

	for _, op := range []string{"DescribeLogGroups", "DescribeLogStreams"} {
		if n := rec.count(op); n != 0 {
			t.Errorf("%s called %d times on the delivery path", op, n)
		}
	}
	want := expected(s, b, 0, skip)
	if got := readBack(t, client, prefix); diff(want, got) != "" {
		t.Fatalf("read back differs:\n%s", diff(want, got))
	}
	if !strings.Contains(diffKeys(want), ":i-0abc_eth0 ") {
		t.Fatalf("targets were not sanitized: %s", diffKeys(want))
	}

	// Groups: created with the configured retention; streams: one per source.
	groups, err := readback.LogGroups(context.Background(), client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 3 {
		t.Fatalf("groups = %+v, want 3", groups)
	}
	for _, g := range groups {
		if g.RetentionInDays != cfg.RetentionDays {
			t.Errorf("group %s retention %d, want %d", g.Name, g.RetentionInDays, cfg.RetentionDays)
		}
	}
	// Retention is set before the first write to each group: the first call
	// finds the group missing, the second follows its creation.
	if n := rec.count("PutRetentionPolicy"); n != 2*3 {
		t.Errorf("PutRetentionPolicy called %d times, want twice per created group (6)", n)
	}
	if n := rec.count("CreateLogStream"); n != len(testSources) {
		t.Errorf("CreateLogStream called %d times, want %d", n, len(testSources))
	}
	if n := rec.count("CreateLogGroup"); n < 3 || n > len(testSources) {
		t.Errorf("CreateLogGroup called %d times, want 3 to %d", n, len(testSources))
	}

	// Nothing in the emulator's default region: the client really targets another one.
	home, _ := newClient(t, emulator.Region)
	if g, err := readback.LogGroups(context.Background(), home, prefix); err != nil || len(g) != 0 {
		t.Fatalf("groups in %s: %v, %v", emulator.Region, g, err)
	}

	// Warm sink, then a cold one (a new instance): existing groups and
	// streams cost exactly one PutLogEvents per target stream, and the cold
	// one also one PutRetentionPolicy per group (retention converges on the
	// first use of a group in each process), nothing else.
	for i, s2 := range []*Sink{s, New(client, cfg, fastOpts()...)} {
		rec.reset()
		b2 := genBatch(uint64(10+i), testSources, 4, 50, start.Add(time.Duration(i+1)*time.Hour), 20*time.Millisecond, 0)
		res := deliver(t, s2, b2, 60*time.Second)
		if res.FailedAt != -1 || res.Delivered != b2.Events() {
			t.Fatalf("delivery %d: %+v", i+2, res)
		}
		addAll(want, expected(s2, b2, 0, nil))
		if n := rec.count("PutLogEvents"); n != len(testSources) {
			t.Errorf("delivery %d: %d PutLogEvents calls, want %d", i+2, n, len(testSources))
		}
		if n, want := rec.count("PutRetentionPolicy"), 3*i; n != want {
			t.Errorf("delivery %d: %d PutRetentionPolicy calls, want %d", i+2, n, want)
		}
		for _, op := range []string{"CreateLogGroup", "CreateLogStream", "DescribeLogGroups", "DescribeLogStreams"} {
			if n := rec.count(op); n != 0 {
				t.Errorf("delivery %d called %s %d times", i+2, op, n)
			}
		}
	}
	if got := readBack(t, client, prefix); diff(want, got) != "" {
		t.Fatalf("after three deliveries, read back differs:\n%s", diff(want, got))
	}
}

func diffKeys(m map[key]int) string {
	var b strings.Builder
	seen := map[string]bool{}
	for k := range m {
		t := k.Group + ":" + k.Stream
		if !seen[t] {
			seen[t] = true
			b.WriteString(t + " ")
		}
	}
	return b.String()
}

// TestDeliverLimits sends batches that sit exactly on each PutLogEvents
// limit, and one unit over, and checks the calls the sink made and that
// everything landed.
func TestDeliverLimits(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	now := time.Now().Add(-30 * time.Hour).UnixMilli()
	tests := []struct {
		name  string
		ts    func(i int) int64
		msg   func(i int) string
		n     int
		calls int
	}{
		{"1,048,576 bytes", func(int) int64 { return now }, sizedMsg(10, DefaultMaxBatchBytes), 10, 1},
		{"1,048,577 bytes", func(int) int64 { return now }, sizedMsg(10, DefaultMaxBatchBytes+1), 10, 2},
		{"10,000 events", func(int) int64 { return now }, func(int) string { return "e" }, 10_000, 1},
		{"10,001 events", func(int) int64 { return now }, func(int) string { return "e" }, 10_001, 2},
		{"24 h span", spanTS(now, 5, DefaultMaxSpanMillis), func(int) string { return "s" }, 5, 1},
		{"24 h + 1 ms span", spanTS(now, 5, DefaultMaxSpanMillis+1), func(int) string { return "s" }, 5, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, prefix := logsConfig(t)
			s := New(client, cfg, fastOpts()...)
			m := &subscription.Message{MessageType: subscription.DataMessage, Owner: "444444444444", LogGroup: "/limits", LogStream: "s"}
			for i := range tc.n {
				m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: strings.Repeat("0", 10) + string(rune('a'+i%26)), Timestamp: tc.ts(i), Message: tc.msg(i)})
			}
			b := &sink.Batch{ShardID: "shardId-000000000001", Records: []sink.DecodedRecord{{SequenceNumber: "1", Message: m}}}
			rec.reset()
			// Create the stream first, so the calls counted are the batches alone.
			pre := &sink.Batch{ShardID: b.ShardID, Records: []sink.DecodedRecord{{SequenceNumber: "0", Message: &subscription.Message{Owner: m.Owner, LogGroup: m.LogGroup, LogStream: m.LogStream, LogEvents: []subscription.LogEvent{{ID: "p", Timestamp: now, Message: "p"}}}}}}
			if res := deliver(t, s, pre, 30*time.Second); res.FailedAt != -1 {
				t.Fatalf("setup: %+v", res)
			}
			rec.reset()
			res := deliver(t, s, b, 60*time.Second)
			if res.FailedAt != -1 || res.Delivered != tc.n {
				t.Fatalf("result %+v", res)
			}
			bodies := rec.bodies()
			if len(bodies) != tc.calls {
				t.Fatalf("%d PutLogEvents calls, want %d", len(bodies), tc.calls)
			}
			for _, p := range bodies {
				checkBody(t, p)
			}
			want := expected(s, b, 0, nil)
			addAll(want, expected(s, pre, 0, nil))
			if got := readBack(t, client, prefix); diff(want, got) != "" {
				t.Fatalf("read back differs:\n%s", diff(want, got))
			}
		})
	}
}

// sizedMsg returns messages for n events whose sizes (bytes + 26) sum to total.
func sizedMsg(n, total int) func(i int) string {
	each := total / n
	return func(i int) string {
		size := each
		if i == n-1 {
			size = total - each*(n-1)
		}
		return strings.Repeat("b", size-EventOverhead)
	}
}

// spanTS spreads n timestamps evenly over exactly span ms from first.
func spanTS(first int64, n int, span int64) func(i int) int64 {
	return func(i int) int64 {
		if i == n-1 {
			return first + span
		}
		return first + span*int64(i)/int64(n-1)
	}
}

// checkBody asserts one PutLogEvents request obeys every documented limit.
func checkBody(t testing.TB, p putBody) {
	t.Helper()
	bytes := 0
	for i, e := range p.Events {
		bytes += len(e.Message) + EventOverhead
		if i > 0 && e.Timestamp < p.Events[i-1].Timestamp {
			t.Fatalf("events not in chronological order at %d", i)
		}
	}
	if n := len(p.Events); n == 0 || n > DefaultMaxBatchEvents || bytes > DefaultMaxBatchBytes ||
		p.Events[n-1].Timestamp-p.Events[0].Timestamp > DefaultMaxSpanMillis {
		t.Fatalf("request over a limit: %d events, %d bytes, span %d ms", n, bytes, p.Events[n-1].Timestamp-p.Events[0].Timestamp)
	}
}

// TestInvalidUTF8AsTheSDKSendsIt checks that the sink's repair (and so its
// size accounting) matches what the SDK actually puts on the wire for
// invalid UTF-8, by sending the raw message through the SDK unrepaired.
func TestInvalidUTF8AsTheSDKSendsIt(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, _ := logsConfig(t)
	s := New(client, cfg, fastOpts()...)
	raw := []string{"caf\xe9", "\xff\xfe\xfd", "cut \xe2\x82", "\xed\xa0\x80 surrogate", "ok ü"}
	group, stream := cfg.GroupTemplate[:strings.Index(cfg.GroupTemplate, "{")]+"raw", "raw"
	ctx := context.Background()
	if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream}); err != nil {
		t.Fatal(err)
	}
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream}
	now := time.Now().UnixMilli()
	for _, m := range raw {
		in.LogEvents = append(in.LogEvents, types.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(now)})
	}
	rec.reset()
	if _, err := client.PutLogEvents(ctx, in); err != nil {
		t.Fatal(err)
	}
	sent := rec.bodies()[0]
	for i, m := range raw {
		want, _ := repairUTF8(m)
		if got := sent.Events[i].Message; got != want {
			t.Errorf("SDK sent %q for %q; the sink counts %q", got, m, want)
		}
	}
	// And the sink sends the repaired form itself, so what it counts is what it sends.
	m := &subscription.Message{Owner: "5", LogGroup: "/utf", LogStream: "s"}
	for i, r := range raw {
		m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: string(rune('a' + i)), Timestamp: now, Message: r})
	}
	rec.reset()
	res := deliver(t, s, &sink.Batch{ShardID: "x", Records: []sink.DecodedRecord{{SequenceNumber: "1", Message: m}}}, 30*time.Second)
	if res.Delivered != len(raw) {
		t.Fatalf("%+v", res)
	}
	wantBytes := 0
	for _, r := range raw {
		fixed, _ := repairUTF8(r)
		wantBytes += len(fixed)
	}
	if res.Bytes != int64(wantBytes) {
		t.Fatalf("Bytes = %d, want %d (after repair)", res.Bytes, wantBytes)
	}
}

// TestQuarantineInvalidUTF8 checks the strict alternative: events that are
// not valid UTF-8 are reported undeliverable, and left unchanged in the
// batch so that the consumer quarantines their original bytes.
func TestQuarantineInvalidUTF8(t *testing.T) {
	client, _ := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	s := New(client, cfg, fastOpts(WithInvalidUTF8(QuarantineInvalidUTF8))...)
	now := time.Now().UnixMilli()
	m := &subscription.Message{Owner: "6", LogGroup: "/strict", LogStream: "s", LogEvents: []subscription.LogEvent{
		{ID: "good", Timestamp: now, Message: "fine"}, {ID: "bad", Timestamp: now, Message: "caf\xe9"},
	}}
	res := deliver(t, s, &sink.Batch{ShardID: "x", Records: []sink.DecodedRecord{{SequenceNumber: "1", Message: m}}}, 30*time.Second)
	if res.Delivered != 1 || len(res.Undeliverable) != 1 {
		t.Fatalf("%+v", res)
	}
	if u := res.Undeliverable[0]; u.Record != 0 || u.Event != 1 || u.Kind != KindInvalidUTF8 || !strings.Contains(u.Reason, "UTF-8") {
		t.Fatalf("undeliverable %+v, want record 0 event 1 as %s", u, KindInvalidUTF8)
	}
	if m.LogEvents[1].Message != "caf\xe9" {
		t.Fatalf("the sink changed the event's bytes: %q", m.LogEvents[1].Message)
	}
	if got := readBack(t, client, prefix); len(got) != 1 {
		t.Fatalf("read back %v", got)
	}
}

// TestGroupDeletedWhileWarm deletes a group the warm sink knows, then
// delivers again: the sink recreates group (with retention) and stream.
func TestGroupDeletedWhileWarm(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	s := New(client, cfg, fastOpts()...)
	src := []source{{"777777777777", "/gone", "s"}}
	start := time.Now().Add(-time.Hour)
	b1 := genBatch(7, src, 1, 10, start, time.Millisecond, 0)
	if res := deliver(t, s, b1, 30*time.Second); res.FailedAt != -1 {
		t.Fatalf("%+v", res)
	}
	group := s.Target(src[0].owner, src[0].group, src[0].stream).Group
	if _, err := client.DeleteLogGroup(context.Background(), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: &group}); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	b2 := genBatch(8, src, 1, 10, start.Add(time.Minute), time.Millisecond, 0)
	if res := deliver(t, s, b2, 30*time.Second); res.FailedAt != -1 || res.Delivered != 10 {
		t.Fatalf("%+v", res)
	}
	if rec.count("CreateLogGroup") != 1 || rec.count("PutRetentionPolicy") != 1 {
		t.Fatalf("calls %v: want the group recreated with retention", rec.ops)
	}
	if got := readBack(t, client, prefix); diff(expected(s, b2, 0, nil), got) != "" {
		t.Fatalf("read back differs:\n%s", diff(expected(s, b2, 0, nil), got))
	}
	g, _ := readback.LogGroups(context.Background(), client, prefix)
	if len(g) != 1 || g[0].RetentionInDays != cfg.RetentionDays {
		t.Fatalf("groups %+v", g)
	}
}
