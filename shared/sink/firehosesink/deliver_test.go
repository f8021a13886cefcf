package firehosesink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// fakeAPI fakes PutRecordBatch: respond decides each call's outcome from
// the call number (from 1) and the records' data; it keeps copies of every
// request's records.
type fakeAPI struct {
	respond func(call int, data [][]byte) (failed []int, err error)

	mu    sync.Mutex
	calls [][][]byte
	saw   map[string]int // NDJSON lines that landed, by content
}

func (f *fakeAPI) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data := make([][]byte, len(in.Records))
	for i, r := range in.Records {
		data[i] = bytes.Clone(r.Data)
	}
	f.calls = append(f.calls, data)
	var failed []int
	if f.respond != nil {
		var err error
		if failed, err = f.respond(len(f.calls), data); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	isFailed := map[int]bool{}
	for _, i := range failed {
		isFailed[i] = true
	}
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(int32(len(failed)))}
	for i := range data {
		if isFailed[i] {
			out.RequestResponses = append(out.RequestResponses, types.PutRecordBatchResponseEntry{ErrorCode: aws.String("ServiceUnavailableException"), ErrorMessage: aws.String("Slow down.")})
			continue
		}
		out.RequestResponses = append(out.RequestResponses, types.PutRecordBatchResponseEntry{RecordId: aws.String(fmt.Sprint("id-", len(f.calls), "-", i))})
		if f.saw == nil {
			f.saw = map[string]int{}
		}
		for _, l := range bytes.SplitAfter(data[i], []byte("\n")) {
			if len(l) > 0 {
				f.saw[string(l)]++
			}
		}
	}
	return out, nil
}

func (f *fakeAPI) callSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n []int
	for _, c := range f.calls {
		n = append(n, len(c))
	}
	return n
}

func fastRetry() []Option {
	return []Option{WithRetry(retry.Policy{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond})}
}

func newTestSink(api PutRecordBatchAPI, packing string, opts ...Option) *Sink {
	return New(api, config.Firehose{Stream: "logfan-test", Packing: packing}, append(fastRetry(), opts...)...)
}

// checkInvariant asserts the sink.Result contract for b: every event is
// counted once in Delivered, Undeliverable, or a record from FailedAt on.
func checkInvariant(t *testing.T, b *sink.Batch, r sink.Result) {
	t.Helper()
	total, before := b.Events(), 0
	limit := len(b.Records)
	if r.FailedAt >= 0 {
		limit = r.FailedAt
		if r.Err == nil {
			t.Error("FailedAt set without Err")
		}
	} else if r.Err != nil {
		t.Errorf("Err without FailedAt: %v", r.Err)
	}
	for i := 0; i < limit; i++ {
		before += len(b.Records[i].Message.LogEvents)
	}
	for _, u := range r.Undeliverable {
		if u.Record >= limit {
			t.Errorf("undeliverable event %+v at or after FailedAt %d", u, r.FailedAt)
		}
	}
	if r.Delivered+len(r.Undeliverable) != before {
		t.Errorf("Delivered %d + Undeliverable %d != %d events before FailedAt %d (of %d)", r.Delivered, len(r.Undeliverable), before, r.FailedAt, total)
	}
}

func TestDeliverCallBoundaries(t *testing.T) {
	const kib1000 = MaxRecordBytes
	rest := MaxBatchBytes - 4*kib1000
	tests := []struct {
		name    string
		packing string
		sizes   [][]int
		want    []int // records per PutRecordBatch call
	}{
		{"500 events single: one call", config.PackingSingle, [][]int{repeatSize(500, 250)}, []int{500}},
		{"501 events single: two calls", config.PackingSingle, [][]int{repeatSize(501, 250)}, []int{500, 1}},
		{"501 events packed: one call of one record", config.PackingPack, [][]int{repeatSize(501, 250)}, []int{1}},
		{"exactly 4 MiB: one call", config.PackingPack, [][]int{{kib1000, kib1000, kib1000, kib1000, rest}}, []int{5}},
		{"4 MiB + 1 byte: two calls", config.PackingPack, [][]int{{kib1000, kib1000, kib1000, kib1000, rest + 1}}, []int{4, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{}
			b := sizedBatch(t, tt.sizes...)
			r := newTestSink(api, tt.packing).Deliver(context.Background(), b)
			if r.FailedAt != -1 || r.Err != nil || r.Delivered != b.Events() || r.Retries != 0 {
				t.Fatalf("result %+v, want all %d events delivered", r, b.Events())
			}
			if got := api.callSizes(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("records per call %v, want %v", got, tt.want)
			}
			var wantBytes int64
			for _, s := range tt.sizes {
				for _, n := range s {
					wantBytes += int64(n)
				}
			}
			if r.Bytes != wantBytes {
				t.Errorf("Bytes %d, want %d", r.Bytes, wantBytes)
			}
		})
	}
}

func TestDeliverRetries(t *testing.T) {
	small := Limits{Records: 4, CallBytes: 4000, RecordBytes: 1000}
	// Six Kinesis records of two 300-byte lines: packed three lines per
	// record, four records per call.
	sizes := [][]int{{300, 300}, {300, 300}, {300, 300}, {300, 300}, {300, 300}, {300, 300}}
	throttle := &types.ServiceUnavailableException{Message: aws.String("Slow down.")}
	tests := []struct {
		name    string
		respond func(call int, data [][]byte) ([]int, error)
		// want
		failedAt  int
		calls     []int // records per call; nil: do not check
		retries   int
		errSubstr string
		short     bool // drop the first call's last response entry
	}{
		{name: "partial failure: only failed entries are resent",
			respond: func(call int, _ [][]byte) ([]int, error) {
				if call == 1 {
					return []int{1, 3}, nil
				}
				return nil, nil
			},
			failedAt: -1, calls: []int{4, 2}, retries: 1},
		{name: "whole-call errors are retried",
			respond: func(call int, _ [][]byte) ([]int, error) {
				if call <= 3 {
					return nil, throttle
				}
				return nil, nil
			},
			failedAt: -1, calls: []int{4, 4, 4, 4}, retries: 3},
		{name: "a permanent error stops at once",
			respond: func(int, [][]byte) ([]int, error) {
				return nil, &types.ResourceNotFoundException{Message: aws.String("no such stream")}
			},
			failedAt: 0, calls: []int{4}, errSubstr: "ResourceNotFoundException"},
		{name: "a short response is resent whole",
			respond:  func(int, [][]byte) ([]int, error) { return nil, nil },
			short:    true,
			failedAt: -1, calls: []int{4, 4}, retries: 1},
		{name: "persistent failure of one packed record sets FailedAt to its first Kinesis record",
			// The record holding lines 4-6 (Kinesis records 1 and 2) never lands.
			respond: func(_ int, data [][]byte) ([]int, error) {
				for i, d := range data {
					if bytes.Contains(d, []byte(`"id":"r00001e0000001"`)) {
						return []int{i}, nil
					}
				}
				return nil, nil
			},
			failedAt: 1, errSubstr: "ServiceUnavailableException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{respond: tt.respond}
			var client PutRecordBatchAPI = api
			if tt.short {
				client = &shortAPI{fakeAPI: api}
			}
			b := sizedBatch(t, sizes...)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			r := newTestSink(client, config.PackingPack, WithLimits(small)).Deliver(ctx, b)
			checkInvariant(t, b, r)
			if r.FailedAt != tt.failedAt {
				t.Errorf("FailedAt %d, want %d (err %v)", r.FailedAt, tt.failedAt, r.Err)
			}
			if tt.calls != nil && fmt.Sprint(api.callSizes()) != fmt.Sprint(tt.calls) {
				t.Errorf("records per call %v, want %v", api.callSizes(), tt.calls)
			}
			if tt.calls != nil && r.Retries != tt.retries {
				t.Errorf("Retries %d, want %d", r.Retries, tt.retries)
			}
			if tt.errSubstr != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.errSubstr)) {
				t.Errorf("Err %v, want it to mention %q", r.Err, tt.errSubstr)
			}
			// Nothing that landed was sent twice unless a response was lost.
			if !tt.short {
				for l, n := range api.saw {
					if n != 1 {
						t.Errorf("line landed %d times: %.60s", n, l)
					}
				}
			}
		})
	}
}

// TestDeliverResendsExactlyTheFailedEntries checks the second call carries
// the failed records' bytes, in their original order, and nothing else.
func TestDeliverResendsExactlyTheFailedEntries(t *testing.T) {
	api := &fakeAPI{respond: func(call int, _ [][]byte) ([]int, error) {
		if call == 1 {
			return []int{0, 2, 4}, nil
		}
		return nil, nil
	}}
	b := sizedBatch(t, repeatSize(6, 300))
	r := newTestSink(api, config.PackingSingle).Deliver(context.Background(), b)
	if r.FailedAt != -1 || r.Delivered != 6 || r.Retries != 1 {
		t.Fatalf("result %+v", r)
	}
	first, second := api.calls[0], api.calls[1]
	if len(second) != 3 || !bytes.Equal(second[0], first[0]) || !bytes.Equal(second[1], first[2]) || !bytes.Equal(second[2], first[4]) {
		t.Errorf("resent records differ from the failed ones")
	}
}

// shortAPI drops the last response entry of the first call, as a broken
// service or proxy might.
type shortAPI struct{ *fakeAPI }

func (s *shortAPI) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, o ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	out, err := s.fakeAPI.PutRecordBatch(ctx, in, o...)
	if err == nil && len(s.fakeAPI.calls) == 1 {
		out.RequestResponses = out.RequestResponses[:len(out.RequestResponses)-1]
	}
	return out, err
}

func TestDeliverDeadline(t *testing.T) {
	b := sizedBatch(t, repeatSize(3, 300), repeatSize(3, 300))
	t.Run("throttled until the deadline", func(t *testing.T) {
		api := &fakeAPI{respond: func(int, [][]byte) ([]int, error) {
			return nil, &types.ServiceUnavailableException{Message: aws.String("Slow down.")}
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		r := newTestSink(api, config.PackingPack).Deliver(ctx, b)
		if r.FailedAt != 0 || r.Delivered != 0 || r.Retries == 0 || !strings.Contains(fmt.Sprint(r.Err), "ServiceUnavailableException") {
			t.Errorf("result %+v, want FailedAt 0 after retries with the service's error", r)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("Deliver took %v past a 200ms deadline", el)
		}
	})
	t.Run("context already done", func(t *testing.T) {
		api := &fakeAPI{}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := newTestSink(api, config.PackingPack).Deliver(ctx, b)
		if r.FailedAt != 0 || len(api.calls) != 0 || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("result %+v after %d calls, want FailedAt 0, no call, context.Canceled", r, len(api.calls))
		}
	})
	t.Run("never sleeps past the deadline", func(t *testing.T) {
		api := &fakeAPI{respond: func(int, [][]byte) ([]int, error) { return []int{0}, nil }}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		deadline, _ := ctx.Deadline()
		var late []time.Duration
		s := New(api, config.Firehose{Stream: "s"}, WithRetry(retry.Policy{BackoffBase: time.Hour, BackoffMax: time.Hour,
			Sleep: func(_ context.Context, d time.Duration) error {
				if time.Now().Add(d).After(deadline) {
					late = append(late, d)
				}
				return nil // a fake clock: no real waiting
			}}))
		r := s.Deliver(ctx, b)
		if r.FailedAt != 0 || len(late) > 0 {
			t.Errorf("FailedAt %d, sleeps past the deadline %v", r.FailedAt, late)
		}
	})
}

func TestDeliverOversize(t *testing.T) {
	lim := Limits{Records: 10, CallBytes: 100000, RecordBytes: 1000}
	// Record 1's second event is over the limit.
	b := sizedBatch(t, []int{300, 300}, []int{300, 1001, 300}, []int{300})
	r := newTestSink(&fakeAPI{}, config.PackingPack, WithLimits(lim)).Deliver(context.Background(), b)
	checkInvariant(t, b, r)
	want := []sink.Undeliverable{{Record: 1, Event: 1, Kind: KindTooLarge, Reason: "event exceeds the Firehose record limit (1001 bytes > 1000)"}}
	if r.FailedAt != -1 || r.Delivered != 5 || !reflect.DeepEqual(r.Undeliverable, want) {
		t.Fatalf("result %+v, want 5 delivered and undeliverable %+v", r, want)
	}
}

type panicAPI struct{}

func (panicAPI) PutRecordBatch(context.Context, *firehose.PutRecordBatchInput, ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	panic("boom")
}

// A panic reaches Deliver's caller: the consumer's one guard turns it into a
// retry of the whole batch (tested in shared/consumer).
func TestDeliverPanicReachesCaller(t *testing.T) {
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want the client's panic", p)
		}
	}()
	New(panicAPI{}, config.Firehose{Stream: "s"}).Deliver(context.Background(), sizedBatch(t, repeatSize(2, 300)))
	t.Error("Deliver returned normally")
}

func TestDeliverEmpty(t *testing.T) {
	api := &fakeAPI{}
	s := New(api, config.Firehose{Stream: "s"})
	for _, b := range []*sink.Batch{nil, {}, sizedBatch(t, []int{}, nil)} {
		if b != nil && len(b.Records) == 2 {
			b.Records[1].Message = nil
		}
		if r := s.Deliver(context.Background(), b); r.FailedAt != -1 || r.Err != nil || r.Delivered != 0 {
			t.Errorf("result %+v for an empty batch", r)
		}
	}
	if len(api.calls) != 0 {
		t.Errorf("%d calls for empty batches", len(api.calls))
	}
	if r := New(api, config.Firehose{}).Deliver(context.Background(), sizedBatch(t, []int{300})); r.FailedAt != 0 || r.Err == nil {
		t.Errorf("no stream configured: result %+v, want FailedAt 0", r)
	}
}
