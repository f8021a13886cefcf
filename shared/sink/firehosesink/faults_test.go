package firehosesink

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// packedSmall packs into records of at most 16 KiB, so a modest batch
// makes dozens of records per call and partial failures hit some of them.
var packedSmall = Limits{RecordBytes: 16 << 10}

func throttle() *http.Response {
	return faults.JSONError(http.StatusBadRequest, "ThrottlingException", "Rate exceeded for stream")
}

func unavailable() *http.Response {
	return faults.JSONError(http.StatusInternalServerError, "ServiceUnavailableException", "Slow down.")
}

// spread returns the first, third and last of n entry indexes (distinct).
func spread(n int) []int {
	switch {
	case n == 1:
		return []int{0}
	case n <= 3:
		return []int{0, n - 1}
	}
	return []int{0, 2, n - 1}
}

// TestMotoTransientFaults injects faults that clear up: each Deliver must
// land every event exactly once (failures injected before moto sees the
// request, so no duplicate is allowed), resending only what failed.
func TestMotoTransientFaults(t *testing.T) {
	tests := []struct {
		name    string
		plan    func(call int, records [][]byte) fault
		opts    []Option
		partial bool
	}{
		{name: "ThrottlingException (400) outlasting the SDK's retries", plan: func(call int, _ [][]byte) fault {
			if call <= 4 {
				return fault{resp: throttle()}
			}
			return fault{}
		}},
		{name: "ServiceUnavailableException (500)", plan: func(call int, _ [][]byte) fault {
			if call <= 4 {
				return fault{resp: unavailable()}
			}
			return fault{}
		}},
		{name: "HTTP 500 without an error body", plan: func(call int, _ [][]byte) fault {
			if call <= 2 {
				return fault{resp: &http.Response{StatusCode: 500, Status: "500 Internal Server Error", Header: http.Header{}, Body: http.NoBody}}
			}
			return fault{}
		}},
		{name: "network timeouts", plan: func(call int, _ [][]byte) fault {
			if call <= 4 {
				return fault{err: faults.ErrTimeout}
			}
			return fault{}
		}},
		// The attempt timeout must outlast a forwarded call even on a slow
		// machine: cutting a call moto already stored would duplicate it.
		{name: "a hung call cut by the attempt timeout", opts: []Option{WithRetry(retry.Policy{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond, AttemptTimeout: 1500 * time.Millisecond})}, plan: func(call int, _ [][]byte) fault {
			return fault{hang: call == 1}
		}},
		{name: "partial failures", partial: true, plan: func(call int, records [][]byte) fault {
			if call <= 3 {
				return fault{drop: spread(len(records))}
			}
			return fault{}
		}},
		{name: "partial failures, then throttling", partial: true, plan: func(call int, records [][]byte) fault {
			switch {
			case call == 1:
				return fault{drop: spread(len(records))}
			case call <= 3:
				return fault{resp: unavailable()}
			}
			return fault{}
		}},
	}
	for _, packing := range []string{config.PackingPack, config.PackingSingle} {
		for _, tt := range tests {
			t.Run(packing+"/"+tt.name, func(t *testing.T) {
				d := newDestination(t)
				rec := &recorder{}
				rec.setPlan(tt.plan)
				b := genBatch(t, 10, 6, 150, 0, true)
				want := expect(t, b)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				opts := append([]Option{WithLimits(packedSmall)}, fastRetry()...)
				r := New(d.client(t, rec), config.Firehose{Stream: d.stream, Packing: packing}, append(opts, tt.opts...)...).Deliver(ctx, b)
				if r.FailedAt != -1 || r.Err != nil || r.Delivered != want.total {
					t.Fatalf("result %+v, want all %d events delivered", r, want.total)
				}
				if r.Retries == 0 {
					t.Error("Retries is 0 after injected failures")
				}
				want.exactlyOnce(t, d.landed(t))
				rec.checkLimits(t, packedSmall.orDefault())
				if tt.partial {
					checkResentOnlyFailed(t, rec)
				}
			})
		}
	}
}

// checkResentOnlyFailed asserts that the request after a partial failure
// carries exactly the failed entries, in order (or repeats the whole
// request after a whole-call failure).
func checkResentOnlyFailed(t *testing.T, rec *recorder) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	partials := 0
	for i := 0; i+1 < len(rec.calls); i++ {
		drop := rec.dropped[i]
		if len(drop) == 0 {
			continue
		}
		partials++
		next := rec.calls[i+1]
		if len(next) != len(drop) {
			t.Errorf("call %d failed %d entries; call %d resent %d", i+1, len(drop), i+2, len(next))
			continue
		}
		for k, idx := range drop {
			if !bytes.Equal(next[k], rec.calls[i][idx]) {
				t.Errorf("call %d entry %d is not failed entry %d of call %d", i+2, k, idx, i+1)
			}
		}
	}
	if partials == 0 {
		t.Error("no partial failure was injected")
	}
}

// TestMotoPersistentFaults injects failures that outlast the deadline:
// Deliver must return by the deadline with FailedAt at the first record
// with an event missing from the destination; re-delivering the suffix with
// the faults gone must complete the batch with nothing lost.
func TestMotoPersistentFaults(t *testing.T) {
	// Long enough for a forwarded call to finish on a loaded machine: a call
	// cut by the deadline after moto stored it would look lost to the sink.
	const deadline = 2500 * time.Millisecond
	// markerRec's second event is in a Firehose record that never lands.
	const markerRec = 3
	tests := []struct {
		name    string
		packing string
		plan    func(b *sink.Batch) func(call int, records [][]byte) fault
	}{
		{name: "every call hangs until the deadline", packing: config.PackingPack,
			plan: func(*sink.Batch) func(int, [][]byte) fault {
				return func(int, [][]byte) fault { return fault{hang: true} }
			}},
		{name: "hangs after the first call", packing: config.PackingSingle,
			plan: func(*sink.Batch) func(int, [][]byte) fault {
				return func(call int, _ [][]byte) fault { return fault{hang: call > 1} }
			}},
		{name: "throttled from the second call on", packing: config.PackingSingle,
			plan: func(*sink.Batch) func(int, [][]byte) fault {
				return func(call int, _ [][]byte) fault {
					if call > 1 {
						return fault{resp: unavailable()}
					}
					return fault{}
				}
			}},
		{name: "one packed record always fails", packing: config.PackingPack,
			plan: func(b *sink.Batch) func(int, [][]byte) fault {
				marker := b.Records[markerRec].Message.LogEvents[1].ID
				return func(_ int, records [][]byte) fault {
					for i, r := range records {
						if containsID(r, marker) {
							return fault{drop: []int{i}}
						}
					}
					return fault{}
				}
			}},
		{name: "one event always fails (single)", packing: config.PackingSingle,
			plan: func(b *sink.Batch) func(int, [][]byte) fault {
				marker := b.Records[markerRec].Message.LogEvents[1].ID
				return func(_ int, records [][]byte) fault {
					for i, r := range records {
						if containsID(r, marker) {
							return fault{drop: []int{i}}
						}
					}
					return fault{}
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDestination(t)
			rec := &recorder{}
			// 8 x 150 events: three calls in single mode, about 60 packed
			// records of 16 KiB in one call in pack mode.
			b := genBatch(t, 20, 8, 150, 0, false)
			rec.setPlan(tt.plan(b))
			want := expect(t, b)
			cfg := config.Firehose{Stream: d.stream, Packing: tt.packing}
			opts := append([]Option{WithLimits(packedSmall)}, fastRetry()...)

			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			r1 := New(d.client(t, rec), cfg, opts...).Deliver(ctx, b)
			if el := time.Since(start); el > deadline+time.Second {
				t.Errorf("Deliver returned %v after start, past the %v deadline", el, deadline)
			}
			first := want.count(t, d.landed(t))
			wantFailedAt := want.firstNotLanded(first, len(b.Records))
			if wantFailedAt < 0 {
				t.Fatal("the injected faults let everything land")
			}
			if r1.FailedAt != wantFailedAt || r1.Err == nil {
				t.Fatalf("FailedAt %d (err %v), want %d: the first record with an event missing from the destination", r1.FailedAt, r1.Err, wantFailedAt)
			}
			checkInvariant(t, b, r1)
			landedBeyond := 0
			for id, n := range first {
				if n > 1 {
					t.Errorf("event %s landed %d times in the first pass", id, n)
				}
				if want.recOf[id] >= r1.FailedAt {
					landedBeyond++
				}
			}

			// Lambda retries from FailedAt: re-deliver the suffix, faults off.
			rec.setPlan(nil)
			s := suffix(b, r1.FailedAt)
			r2 := New(d.client(t, rec), cfg, opts...).Deliver(context.Background(), s)
			if r2.FailedAt != -1 || r2.Err != nil {
				t.Fatalf("suffix result %+v, want everything delivered", r2)
			}
			if r1.Delivered+r2.Delivered != want.total {
				t.Errorf("delivered %d + %d, want %d in all", r1.Delivered, r2.Delivered, want.total)
			}
			final := want.count(t, d.landed(t))
			lost, dups := 0, 0
			for id, ri := range want.recOf {
				switch n := final[id]; {
				case n == 0:
					lost++
				case n > 1:
					dups += n - 1
					if ri < r1.FailedAt {
						t.Errorf("event %s of record %d (before FailedAt %d) landed %d times", id, ri, r1.FailedAt, n)
					}
				}
			}
			if lost != 0 {
				t.Errorf("%d events lost", lost)
			}
			// Duplicates are only the events past FailedAt that had already
			// landed, and the sink said how many.
			if dups != landedBeyond {
				t.Errorf("%d duplicates, want the %d events that landed past FailedAt", dups, landedBeyond)
			}
			t.Logf("FailedAt %d of %d records; %d events landed past it and were sent again", r1.FailedAt, len(b.Records), landedBeyond)
		})
	}
}

// TestMotoMissingStream stops at once on a permanent error.
func TestMotoMissingStream(t *testing.T) {
	d := newDestination(t)
	rec := &recorder{}
	b := genBatch(t, 30, 2, 10, 0, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	r := New(d.client(t, rec), config.Firehose{Stream: d.stream + "-missing"}, fastRetry()...).Deliver(ctx, b)
	if r.FailedAt != 0 || r.Delivered != 0 || r.Err == nil || rec.numCalls() != 1 {
		t.Errorf("result %+v after %d calls, want FailedAt 0 after one call", r, rec.numCalls())
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("a missing stream took %v to report", time.Since(start))
	}
}
