package s3sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// records decodes every object f stores, by key.
func records(t *testing.T, f *fakeaws.S3) map[string][]record.Event {
	t.Helper()
	out := map[string][]record.Event{}
	for k, body := range f.Objects() {
		recs, err := readback.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = recs
	}
	return out
}

// httpErr builds the error the SDK returns for an S3 error response.
func httpErr(status int, code string) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "injected"},
	}
}

var t0 = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC).UnixMilli()

// msg builds a message of events with the given message texts, one ms apart from ts.
func msg(owner, group string, ts int64, texts ...string) *subscription.Message {
	m := &subscription.Message{MessageType: subscription.DataMessage, Owner: owner, LogGroup: group, LogStream: "s", SubscriptionFilters: []string{"f"}}
	for i, s := range texts {
		m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: fmt.Sprintf("%s-%d-%d", group, ts, i), Timestamp: ts + int64(i), Message: s})
	}
	return m
}

func batch(msgs ...*subscription.Message) *sink.Batch {
	b := &sink.Batch{ShardID: "shardId-000000000000"}
	for i, m := range msgs {
		b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: fmt.Sprintf("4959%04d", i), Message: m})
	}
	return b
}

func want(b *sink.Batch) []record.Event {
	var out []record.Event
	for _, r := range b.Records {
		for i := range r.Message.LogEvents {
			out = append(out, record.From(r.Message, &r.Message.LogEvents[i]))
		}
	}
	return out
}

func lineLen(m *subscription.Message, i int) int64 {
	return int64(len(record.AppendLine(nil, m, &m.LogEvents[i])))
}

func linesLen(b *sink.Batch) int64 {
	var n int64
	for _, r := range b.Records {
		for i := range r.Message.LogEvents {
			n += lineLen(r.Message, i)
		}
	}
	return n
}

func newSink(client PutObjectAPI, opts ...Option) *Sink {
	opts = append([]Option{WithRetry(retry.Policy{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond})}, opts...)
	return New(client, config.S3{Bucket: "b", Prefix: "logs", MaxObjectBytes: 1 << 20}, opts...)
}

// TestObjectSplit checks the bound on uncompressed bytes per object: lines
// summing to exactly MaxObjectBytes make one object, one byte more makes two.
func TestObjectSplit(t *testing.T) {
	const max = 4000
	mk := func(extra int) *sink.Batch {
		texts := make([]string, 10)
		for i := range texts {
			texts[i] = strings.Repeat("x", 200)
		}
		m := msg("111111111111", "/app", t0, texts...)
		b := batch(m)
		// Grow the last message so the lines sum to max+extra.
		m.LogEvents[9].Message += strings.Repeat("y", int(max+int64(extra)-linesLen(b)))
		if got := linesLen(b); got != max+int64(extra) {
			t.Fatalf("built %d bytes, want %d", got, max+extra)
		}
		return b
	}
	tests := []struct {
		name     string
		extra    int
		wantObjs int
	}{
		{"exactly MaxObjectBytes", 0, 1},
		{"one byte more", 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeaws.S3{}
			b := mk(tt.extra)
			res := newSink(f, WithMaxObjectBytes(max)).Deliver(context.Background(), b)
			if res.FailedAt != -1 || res.Err != nil || res.Delivered != 10 || res.Bytes != max+int64(tt.extra) {
				t.Fatalf("result = %+v", res)
			}
			keys := f.Keys()
			if len(keys) != tt.wantObjs {
				t.Fatalf("objects = %v, want %d", keys, tt.wantObjs)
			}
			var got []record.Event
			for i, k := range keys {
				recs := records(t, f)[k]
				// Each object is named for its first and last events (one
				// record here): the events before it are in the earlier ones.
				if !strings.HasSuffix(k, fmt.Sprintf("_%d-%d.ndjson.gz", len(got), len(got)+len(recs)-1)) {
					t.Errorf("key %d = %s, want it named for events %d to %d", i, k, len(got), len(got)+len(recs)-1)
				}
				var n int64
				for _, r := range recs {
					n += int64(len(record.AppendLine(nil, msg(r.Owner, r.LogGroup, 0), &subscription.LogEvent{ID: r.ID, Timestamp: r.Timestamp, Message: r.Message})))
				}
				if n > max {
					t.Errorf("%s holds %d bytes, over %d", k, n, max)
				}
				got = append(got, recs...)
			}
			if !reflect.DeepEqual(got, want(b)) {
				t.Fatal("records differ from the batch")
			}
		})
	}
}

// TestOversizeLine checks that a line longer than the bound gets an object
// of its own instead of being cut or dropped.
func TestOversizeLine(t *testing.T) {
	f := &fakeaws.S3{}
	b := batch(msg("1", "g", t0, "a", strings.Repeat("z", 3000), "b"))
	res := newSink(f, WithMaxObjectBytes(1000)).Deliver(context.Background(), b)
	if res.FailedAt != -1 || res.Delivered != 3 {
		t.Fatalf("result = %+v", res)
	}
	recs := records(t, f)
	keys := f.Keys()
	if len(keys) != 3 || len(recs[keys[0]]) != 1 || len(recs[keys[1]]) != 1 || recs[keys[1]][0].Message != b.Records[0].Message.LogEvents[1].Message {
		t.Fatalf("objects: %v", keys)
	}
}

// TestPartitionAcrossMidnight checks events either side of midnight UTC land in two days' partitions.
func TestPartitionAcrossMidnight(t *testing.T) {
	midnight := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	m := msg("111111111111", "/aws/lambda/fn", midnight-2, "23:59:59.998", "23:59:59.999", "00:00:00.000", "00:00:00.001")
	m2 := msg("111111111111", "/aws/lambda/fn", midnight-1, "next record, 23:59:59.999")
	f := &fakeaws.S3{}
	b := batch(m, m2)
	res := newSink(f).Deliver(context.Background(), b)
	if res.FailedAt != -1 || res.Delivered != 5 {
		t.Fatalf("result = %+v", res)
	}
	recs := records(t, f)
	before := "logs/owner=111111111111/log_group=%2Faws%2Flambda%2Ffn/dt=2025-12-31/hour=23/shardId-000000000000_49590000_0-49590001_0.ndjson.gz"
	after := "logs/owner=111111111111/log_group=%2Faws%2Flambda%2Ffn/dt=2026-01-01/hour=00/shardId-000000000000_49590000_2-3.ndjson.gz"
	if keys := f.Keys(); !reflect.DeepEqual(keys, []string{before, after}) {
		t.Fatalf("keys = %q", keys)
	}
	msgs := func(rs []record.Event) (out []string) {
		for _, r := range rs {
			out = append(out, r.Message)
		}
		return out
	}
	if got := msgs(recs[before]); !reflect.DeepEqual(got, []string{"23:59:59.998", "23:59:59.999", "next record, 23:59:59.999"}) {
		t.Errorf("before midnight: %q", got)
	}
	if got := msgs(recs[after]); !reflect.DeepEqual(got, []string{"00:00:00.000", "00:00:00.001"}) {
		t.Errorf("after midnight: %q", got)
	}
}

// TestDeterministic checks that delivering the same batch again writes the
// same keys with the same bytes, so S3 overwrites rather than duplicates.
func TestDeterministic(t *testing.T) {
	b := batch(msg("1", "/a", t0, "x", "y"), msg("2", "/b", t0, "z"), msg("1", "/a", t0+int64(time.Hour/time.Millisecond), "w"))
	f1, f2 := &fakeaws.S3{}, &fakeaws.S3{}
	newSink(f1).Deliver(context.Background(), b)
	newSink(f2, WithConcurrency(1)).Deliver(context.Background(), b)
	if !reflect.DeepEqual(f1.Objects(), f2.Objects()) || len(f1.Keys()) != 3 {
		t.Fatalf("two deliveries differ: %v vs %v", f1.Keys(), f2.Keys())
	}
}

func TestPutObjectInput(t *testing.T) {
	tests := []struct {
		name string
		kms  string
	}{
		{"bucket default encryption", ""},
		{"SSE-KMS", "arn:aws:kms:us-east-1:111111111111:key/abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeaws.S3{}
			s := New(f, config.S3{Bucket: "bkt", Prefix: "p", KMSKeyID: tt.kms})
			if res := s.Deliver(context.Background(), batch(msg("1", "g", t0, "x"))); res.FailedAt != -1 {
				t.Fatal(res.Err)
			}
			in, _ := f.Input(f.Keys()[0])
			if aws.ToString(in.Bucket) != "bkt" || aws.ToString(in.ContentType) != ContentType || in.ContentEncoding != nil {
				t.Errorf("bucket %q content type %q encoding %v", aws.ToString(in.Bucket), aws.ToString(in.ContentType), in.ContentEncoding)
			}
			wantSSE := types.ServerSideEncryption("")
			if tt.kms != "" {
				wantSSE = types.ServerSideEncryptionAwsKms
			}
			if in.ServerSideEncryption != wantSSE || aws.ToString(in.SSEKMSKeyId) != tt.kms || aws.ToBool(in.BucketKeyEnabled) != (tt.kms != "") {
				t.Errorf("SSE %q key %q bucket key %v", in.ServerSideEncryption, aws.ToString(in.SSEKMSKeyId), aws.ToBool(in.BucketKeyEnabled))
			}
		})
	}
}

// threeGroups is a batch of five records whose partitions have these lowest
// records: /a 0, /b 1, /c 3.
func threeGroups() *sink.Batch {
	return batch(
		msg("1", "/a", t0, "a0", "a1"),
		msg("1", "/b", t0, "b0"),
		msg("1", "/a", t0, "a2"),
		msg("1", "/c", t0, "c0", "c1", "c2"),
		msg("1", "/b", t0, "b1"),
	)
}

func TestFailedAt(t *testing.T) {
	events := []int{2, 1, 1, 3, 1}
	sumTo := func(n int) int {
		s := 0
		for _, e := range events[:n] {
			s += e
		}
		return s
	}
	tests := []struct {
		name         string
		fail         func(ctx context.Context, key string, call int) error
		wantFailedAt int
		wantRetries  int
		wantErr      string
	}{
		{"all land", nil, -1, 0, ""},
		{"AccessDenied on /b: not retried", func(_ context.Context, key string, _ int) error {
			if strings.Contains(key, "log_group=%2Fb/") {
				return httpErr(403, "AccessDenied")
			}
			return nil
		}, 1, 0, "AccessDenied"},
		{"SlowDown twice on /c, then lands", func(_ context.Context, key string, call int) error {
			if strings.Contains(key, "log_group=%2Fc/") && call <= 2 {
				return httpErr(503, "SlowDown")
			}
			return nil
		}, -1, 2, ""},
		{"/c and /a fail for good", func(_ context.Context, key string, _ int) error {
			if strings.Contains(key, "log_group=%2Fc/") || strings.Contains(key, "log_group=%2Fa/") {
				return httpErr(400, "InvalidArgument")
			}
			return nil
		}, 0, 0, "InvalidArgument"},
		{"network error on /c until the deadline", func(_ context.Context, key string, _ int) error {
			if strings.Contains(key, "log_group=%2Fc/") {
				return errors.New("connection reset")
			}
			return nil
		}, 3, -1, "connection reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeaws.S3{}
			f.Fail = tt.fail
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			res := newSink(f).Deliver(ctx, threeGroups())
			if res.FailedAt != tt.wantFailedAt {
				t.Fatalf("FailedAt = %d, want %d (err %v)", res.FailedAt, tt.wantFailedAt, res.Err)
			}
			delivered := sumTo(5)
			if tt.wantFailedAt >= 0 {
				delivered = sumTo(tt.wantFailedAt)
			}
			if res.Delivered != delivered {
				t.Errorf("Delivered = %d, want %d", res.Delivered, delivered)
			}
			if tt.wantRetries >= 0 && res.Retries != tt.wantRetries {
				t.Errorf("Retries = %d, want %d", res.Retries, tt.wantRetries)
			}
			if (res.Err == nil) != (tt.wantErr == "") || res.Err != nil && !strings.Contains(res.Err.Error(), tt.wantErr) {
				t.Errorf("Err = %v, want %q", res.Err, tt.wantErr)
			}
			// Every event of a record below FailedAt is in a stored object.
			landed := map[string]bool{}
			for _, recs := range records(t, f) {
				for _, r := range recs {
					landed[r.ID] = true
				}
			}
			for ri, r := range threeGroups().Records {
				for _, ev := range r.Message.LogEvents {
					if (tt.wantFailedAt < 0 || ri < tt.wantFailedAt) && !landed[ev.ID] {
						t.Errorf("record %d event %s below FailedAt did not land", ri, ev.ID)
					}
				}
			}
		})
	}
}

// TestDeadline checks that Deliver returns by its context's deadline when
// S3 never answers, with FailedAt at the first record.
func TestDeadline(t *testing.T) {
	f := &fakeaws.S3{}
	f.Fail = func(ctx context.Context, _ string, _ int) error {
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := newSink(f).Deliver(ctx, threeGroups())
	if took := time.Since(start); took > time.Second {
		t.Errorf("Deliver took %v past a 200ms deadline", took)
	}
	if res.FailedAt != 0 || res.Delivered != 0 || !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("result = %+v", res)
	}
}

// TestAttemptTimeout checks that a hung attempt is abandoned and retried.
func TestAttemptTimeout(t *testing.T) {
	f := &fakeaws.S3{}
	f.Fail = func(ctx context.Context, _ string, call int) error {
		if call == 1 {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	res := newSink(f, WithRetry(retry.Policy{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond, AttemptTimeout: 50 * time.Millisecond})).Deliver(context.Background(), threeGroups())
	if res.FailedAt != -1 || res.Delivered != 8 || res.Retries != 3 {
		t.Fatalf("result = %+v", res)
	}
}

func TestEmptyBatch(t *testing.T) {
	f := &fakeaws.S3{}
	res := newSink(f).Deliver(context.Background(), &sink.Batch{ShardID: "s"})
	if res.FailedAt != -1 || res.Delivered != 0 || len(f.Keys()) != 0 {
		t.Fatalf("result = %+v, objects %v", res, f.Keys())
	}
	res = newSink(f).Deliver(context.Background(), batch(msg("1", "g", t0)))
	if res.FailedAt != -1 || len(f.Keys()) != 0 {
		t.Fatalf("record without events: result = %+v, objects %v", res, f.Keys())
	}
}

func TestPlan(t *testing.T) {
	h := int64(time.Hour / time.Millisecond)
	m := &subscription.Message{Owner: "1", LogGroup: "g", LogEvents: []subscription.LogEvent{
		{Timestamp: t0}, {Timestamp: t0 + 1}, {Timestamp: t0 + h}, {Timestamp: t0 + 2}, {Timestamp: t0 + h + 1},
	}}
	jobs := plan(batch(m, msg("2", "g", t0, "x")))
	got := map[s3layout.Partition][]span{}
	for _, j := range jobs {
		got[j.part] = j.spans
	}
	hr := s3layout.HourOf(t0)
	wantSpans := map[s3layout.Partition][]span{
		{Owner: "1", LogGroup: "g", Hour: hr}:     {{0, 0, 2}, {0, 3, 4}},
		{Owner: "1", LogGroup: "g", Hour: hr + 1}: {{0, 2, 3}, {0, 4, 5}},
		{Owner: "2", LogGroup: "g", Hour: hr}:     {{1, 0, 1}},
	}
	if !reflect.DeepEqual(got, wantSpans) || jobs[0].part.Hour != hr || jobs[2].part.Owner != "2" {
		t.Fatalf("plan = %+v", got)
	}
}

// panicS3 panics inside an upload, which runs in one of the sink's goroutines.
type panicS3 struct{}

func (panicS3) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	panic("injected bug")
}

// A panic in a worker goroutine must reach Deliver's caller (the consumer's
// guard turns it into a retry of the whole batch) instead of killing the process.
func TestWorkerPanicReachesCaller(t *testing.T) {
	defer func() {
		p, ok := recover().(*sink.Panic)
		if !ok || p.Value != "injected bug" || len(p.Stack) == 0 {
			t.Fatalf("Deliver's caller recovered %#v, want *sink.Panic with the value and stack", p)
		}
	}()
	newSink(panicS3{}, WithConcurrency(3)).Deliver(context.Background(), threeGroups())
	t.Fatal("Deliver returned normally")
}
