package logssink

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/ops/readback"

	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// putStream returns the logStreamName of a PutLogEvents request, or "".
func putStream(req *http.Request, body []byte) string {
	if !faults.IsOperation(req, "PutLogEvents") {
		return ""
	}
	var p putBody
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	return p.Stream
}

// firstN fails the first n requests for which match is true with fail.
func firstN(n int64, match func(*http.Request, []byte) bool, fail func(*http.Request) (*http.Response, error)) faults.Injector {
	var seen atomic.Int64
	return func(req *http.Request, body []byte, _ int) (*http.Response, error) {
		if match(req, body) && seen.Add(1) <= n {
			return fail(req)
		}
		return nil, nil
	}
}

func anyOp(*http.Request, []byte) bool { return true }

func isPut(req *http.Request, _ []byte) bool { return faults.IsOperation(req, "PutLogEvents") }

func respond(r *http.Response) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return r, nil }
}

// TestTransientFaults injects throttling, 5xx answers and transport
// timeouts (more than the SDK's own three attempts absorb) before moto:
// every delivery completes, and every event is stored exactly once.
func TestTransientFaults(t *testing.T) {
	tests := []struct {
		name    string
		inject  func() faults.Injector
		retries bool // the sink itself must have retried
	}{
		{"ThrottlingException", func() faults.Injector {
			// 4 streams x 2 puts (missing stream, then the real one) x 2
			// failures the SDK's 3 attempts absorb = 16: the 17th reaches the sink.
			return firstN(20, isPut, func(*http.Request) (*http.Response, error) {
				return faults.JSONError(400, "ThrottlingException", "Rate exceeded"), nil
			})
		}, true},
		{"HTTP 500 on every other call", func() faults.Injector {
			return func(req *http.Request, _ []byte, call int) (*http.Response, error) {
				if call%2 == 1 {
					return faults.JSONError(500, "InternalFailure", "injected"), nil
				}
				return nil, nil
			}
		}, false},
		{"ServiceUnavailableException", func() faults.Injector {
			// Enough that some call outlasts the SDK's own 3 attempts.
			return firstN(60, anyOp, func(*http.Request) (*http.Response, error) {
				return faults.JSONError(503, "ServiceUnavailableException", "injected"), nil
			})
		}, true},
		{"transport timeouts", func() faults.Injector {
			return firstN(60, anyOp, func(*http.Request) (*http.Response, error) { return nil, faults.ErrTimeout })
		}, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, rec := newClient(t, targetRegion)
			cfg, prefix := logsConfig(t)
			s := New(client, cfg, fastOpts()...)
			b := genBatch(uint64(100+i), testSources, 8, 40, time.Now().Add(-time.Hour), 10*time.Millisecond, -time.Minute)
			rec.set(tc.inject())
			res := deliver(t, s, b, 60*time.Second)
			if res.FailedAt != -1 || res.Delivered != b.Events() {
				t.Fatalf("result %+v", res)
			}
			if tc.retries && res.Retries == 0 {
				t.Errorf("Retries = 0, want the sink to have retried")
			}
			rec.set(nil)
			if got := readBack(t, client, prefix); diff(expected(s, b, 0, nil), got) != "" {
				t.Fatalf("read back differs:\n%s", diff(expected(s, b, 0, nil), got))
			}
		})
	}
}

// TestOneStreamFails fails only the puts of one target stream (hanging
// until the deadline, throttled until the deadline, or refused outright):
// the other streams land, FailedAt is the first record with an event for
// that stream, re-delivering the suffix completes, and across both
// deliveries nothing is lost (duplicates come only from records at or after
// FailedAt that had already landed, and are counted exactly).
func TestOneStreamFails(t *testing.T) {
	tests := []struct {
		name  string
		fail  func(*http.Request) (*http.Response, error)
		quick bool // non-retryable: Deliver must not wait for the deadline
	}{
		// Retryable failures run into a short deadline; the non-retryable
		// one gets a long deadline it must not wait for.
		{"hang until the deadline", faults.Hang, false},
		{"throttled until the deadline", respond(nil), false}, // replaced below: a fresh response per call
		{"AccessDeniedException", respond(nil), true},
	}
	tests[1].fail = func(*http.Request) (*http.Response, error) {
		return faults.JSONError(400, "ThrottlingException", "Rate exceeded"), nil
	}
	tests[2].fail = func(*http.Request) (*http.Response, error) {
		return faults.JSONError(400, "AccessDeniedException", "not allowed"), nil
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, rec := newClient(t, targetRegion)
			cfg, prefix := logsConfig(t)
			s := New(client, cfg, fastOpts()...)
			// Record k comes from testSources[k%4]; the failing stream is
			// source 2's, whose first record is record 2.
			b := genBatch(uint64(200+i), testSources, 9, 30, time.Now().Add(-time.Hour), 10*time.Millisecond, time.Minute)
			bad := s.Target(testSources[2].owner, testSources[2].group, testSources[2].stream).Stream
			// Warm up: groups and streams exist, as in steady state, so the
			// healthy streams need one call each however slow the emulator.
			warm := genBatch(uint64(250+i), testSources, len(testSources), 1, time.Now().Add(-2*time.Hour), time.Millisecond, 0)
			if res := deliver(t, s, warm, 60*time.Second); res.FailedAt != -1 {
				t.Fatalf("warm-up: %+v", res)
			}
			rec.set(func(req *http.Request, body []byte, _ int) (*http.Response, error) {
				if putStream(req, body) == bad {
					return tc.fail(req)
				}
				return nil, nil
			})
			deadline := 3 * time.Second
			if tc.quick {
				deadline = 30 * time.Second
			}
			began := time.Now()
			res := deliver(t, s, b, deadline)
			took := time.Since(began)
			if res.FailedAt != 2 || res.Err == nil {
				t.Fatalf("FailedAt %d (err %v), want 2", res.FailedAt, res.Err)
			}
			if took > deadline+time.Second {
				t.Errorf("Deliver took %v, past its %v deadline", took, deadline)
			}
			if tc.quick && took > deadline/3 {
				t.Errorf("a non-retryable error took %v", took)
			}
			badEvents := 0
			for k := 2; k < len(b.Records); k += 4 {
				badEvents += len(b.Records[k].Message.LogEvents)
			}
			if res.Delivered != b.Events()-badEvents {
				t.Errorf("delivered %d, want all %d events of the other streams", res.Delivered, b.Events()-badEvents)
			}

			rec.set(nil)
			res2 := deliver(t, s, suffix(b, res.FailedAt), 30*time.Second)
			if res2.FailedAt != -1 {
				t.Fatalf("re-delivery: %+v", res2)
			}
			assertNothingLost(t, client, prefix, s, b, res, expected(s, warm, 0, nil))
		})
	}
}

// assertNothingLost checks, after a failed delivery (res) and a complete
// re-delivery of its suffix, that every event is stored, and that the only
// duplicates are events of records from FailedAt on that landed the first
// time: exactly res.Delivered minus the events before FailedAt.
func assertNothingLost(t *testing.T, client readback.LogsAPI, prefix string, s *Sink, b *sink.Batch, res sink.Result, before map[key]int) {
	t.Helper()
	want := expected(s, b, 0, nil)
	got := readBack(t, client, prefix)
	for k, n := range before { // delivered earlier, exactly once
		if got[k] != n {
			t.Fatalf("earlier event %s stored %d times, want %d", k, got[k], n)
		}
		delete(got, k)
	}
	dups := 0
	for k, n := range want {
		if got[k] < n {
			t.Fatalf("lost: %s (stored %d of %d)", k, got[k], n)
		}
		dups += got[k] - n
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Fatalf("stored an event that was never sent: %s", k)
		}
	}
	head := (&sink.Batch{Records: b.Records[:res.FailedAt]}).Events()
	if wantDups := res.Delivered - head; dups != wantDups {
		t.Fatalf("%d duplicates, want %d (delivered %d first, %d of them before FailedAt %d)", dups, wantDups, res.Delivered, head, res.FailedAt)
	}
	if tail := expected(s, b, res.FailedAt, nil); dups > 0 {
		for k, n := range got {
			if n > want[k] && tail[k] == 0 {
				t.Fatalf("duplicate of an event before FailedAt: %s", k)
			}
		}
	}
}

// TestHungAttemptRetried hangs one PutLogEvents: the attempt timeout ends
// it and the retry lands, well before the invocation's deadline.
func TestHungAttemptRetried(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	s := New(client, cfg, WithRetry(retry.Policy{BackoffBase: fastRetry.BackoffBase, BackoffMax: fastRetry.BackoffMax, AttemptTimeout: 300 * time.Millisecond}))
	b := genBatch(300, testSources, 4, 20, time.Now().Add(-time.Hour), time.Millisecond, 0)
	rec.set(firstN(1, isPut, faults.Hang))
	res := deliver(t, s, b, 20*time.Second)
	if res.FailedAt != -1 || res.Retries < 1 || res.Delivered != b.Events() {
		t.Fatalf("result %+v", res)
	}
	if got := readBack(t, client, prefix); diff(expected(s, b, 0, nil), got) != "" {
		t.Fatalf("read back differs:\n%s", diff(expected(s, b, 0, nil), got))
	}
}

// TestUndeliverableBeforeFailedAt: an oversize event in a record before
// FailedAt is reported undeliverable; one in a record at or after FailedAt
// is not (Lambda retries that record, and the retry reports it). Across the
// failed delivery and the re-delivery of its suffix nothing is lost and the
// duplicates are exactly the events from FailedAt on that landed twice.
func TestUndeliverableBeforeFailedAt(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	s := New(client, cfg, fastOpts()...)
	// Record k comes from testSources[k%4]; source 2's stream is refused,
	// so FailedAt is 2. Record 1 (before) and record 3 (after) each carry
	// an oversize event.
	b := genBatch(400, testSources, 6, 20, time.Now().Add(-time.Hour), time.Millisecond, 0)
	bigBefore, bigAfter := &b.Records[1].Message.LogEvents[7], &b.Records[3].Message.LogEvents[4]
	bigBefore.Message = strings.Repeat("y", DefaultMaxMessageBytes+1)
	bigAfter.Message = strings.Repeat("z", DefaultMaxMessageBytes+1)
	bad := s.Target(testSources[2].owner, testSources[2].group, testSources[2].stream).Stream
	rec.set(func(req *http.Request, body []byte, _ int) (*http.Response, error) {
		if putStream(req, body) == bad {
			return faults.JSONError(400, "AccessDeniedException", "not allowed"), nil
		}
		return nil, nil
	})
	res := deliver(t, s, b, 20*time.Second)
	badEvents := len(b.Records[2].Message.LogEvents)
	if res.FailedAt != 2 || res.Delivered != b.Events()-badEvents-2 || len(res.Undeliverable) != 1 || !strings.Contains(res.Err.Error(), "AccessDenied") {
		t.Fatalf("result %+v", res)
	}
	if u := res.Undeliverable[0]; u.Record != 1 || u.Event != 7 || u.Kind != KindTooLarge {
		t.Fatalf("undeliverable %+v, want record 1 event 7 as %s", u, KindTooLarge)
	}
	rec.set(nil)
	res2 := deliver(t, s, suffix(b, 2), 20*time.Second)
	if res2.FailedAt != -1 || len(res2.Undeliverable) != 1 || res2.Delivered != suffix(b, 2).Events()-1 {
		t.Fatalf("re-delivery %+v", res2)
	}
	if u := res2.Undeliverable[0]; u.Record != 1 || u.Event != 4 || u.Kind != KindTooLarge { // record 3 is record 1 of the suffix
		t.Fatalf("re-delivery undeliverable %+v, want suffix record 1 event 4", u)
	}
	big := func(_ *subscription.Message, ev *subscription.LogEvent) bool {
		return ev.ID == bigBefore.ID || ev.ID == bigAfter.ID
	}
	want := expected(s, b, 0, big)
	// Records 3.. of the other streams landed twice: no dedupe in CloudWatch Logs.
	addAll(want, expected(s, b, 3, func(m *subscription.Message, ev *subscription.LogEvent) bool {
		return big(m, ev) || m.LogStream == testSources[2].stream
	}))
	if got := readBack(t, client, prefix); diff(want, got) != "" {
		t.Fatalf("read back differs:\n%s", diff(want, got))
	}
}

// TestRetentionFailure: when the retention of a group the sink just
// created cannot be set, its events stay unsent (FailedAt) and none is
// written to the group; the retry in the same process sets the retention
// first, then delivers.
func TestRetentionFailure(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	s := New(client, cfg, fastOpts()...)
	b := genBatch(500, testSources[:1], 2, 10, time.Now().Add(-time.Hour), time.Millisecond, 0)
	var created atomic.Bool
	rec.set(func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
		switch {
		case faults.IsOperation(req, "CreateLogGroup"):
			created.Store(true)
		case faults.IsOperation(req, "PutRetentionPolicy") && created.Load():
			return faults.JSONError(400, "AccessDeniedException", "no logs:PutRetentionPolicy"), nil
		}
		return nil, nil
	})
	res := deliver(t, s, b, 10*time.Second)
	if res.FailedAt != 0 || res.Delivered != 0 || !strings.Contains(res.Err.Error(), "retention") {
		t.Fatalf("result %+v", res)
	}
	if n := rec.count("PutLogEvents"); n != 0 || !created.Load() {
		t.Fatalf("%d PutLogEvents calls (group created: %v): want none to a group without its retention", n, created.Load())
	}
	rec.set(nil)
	rec.reset()
	res = deliver(t, s, b, 10*time.Second)
	if res.FailedAt != -1 || res.Delivered != b.Events() || rec.count("PutRetentionPolicy") != 1 || rec.count("CreateLogGroup") != 0 {
		t.Fatalf("retry %+v, calls %v", res, rec.ops)
	}
	g, err := readback.LogGroups(context.Background(), client, prefix)
	if err != nil || len(g) != 1 || g[0].RetentionInDays != cfg.RetentionDays {
		t.Fatalf("groups %+v %v", g, err)
	}
	if got := readBack(t, client, prefix); diff(expected(s, b, 0, nil), got) != "" {
		t.Fatalf("read back differs:\n%s", diff(expected(s, b, 0, nil), got))
	}
}

// TestInvalidParameterBisected: a batch refused with
// InvalidParameterException because of a few events is bisected; those
// events alone are reported undeliverable and the rest land exactly once. Past the
// bisection budget the batch fails through FailedAt instead.
func TestInvalidParameterBisected(t *testing.T) {
	poison := func(req *http.Request, body []byte, _ int) (*http.Response, error) {
		if faults.IsOperation(req, "PutLogEvents") && strings.Contains(string(body), "POISON") {
			return faults.JSONError(400, "InvalidParameterException", "Log event is invalid"), nil
		}
		return nil, nil
	}
	mk := func() *sink.Batch {
		b := genBatch(600, testSources[:1], 2, 32, time.Now().Add(-time.Hour), time.Millisecond, 0)
		for _, at := range [][2]int{{0, 3}, {0, 20}, {1, 31}} {
			ev := &b.Records[at[0]].Message.LogEvents[at[1]]
			ev.Message = "POISON " + ev.Message
		}
		return b
	}
	isPoison := func(_ *subscription.Message, ev *subscription.LogEvent) bool {
		return strings.HasPrefix(ev.Message, "POISON")
	}

	t.Run("isolated", func(t *testing.T) {
		client, rec := newClient(t, targetRegion)
		cfg, prefix := logsConfig(t)
		s := New(client, cfg, fastOpts()...)
		b := mk()
		rec.set(poison)
		res := deliver(t, s, b, 20*time.Second)
		if res.FailedAt != -1 || len(res.Undeliverable) != 3 || res.Delivered != 61 {
			t.Fatalf("result %+v", res)
		}
		for _, u := range res.Undeliverable {
			ev := b.Records[u.Record].Message.LogEvents[u.Event]
			if u.Kind != RejectedInvalidParameter || !strings.Contains(u.Reason, "InvalidParameterException") || !strings.HasPrefix(ev.Message, "POISON") {
				t.Errorf("undeliverable %+v (event %q)", u, ev.Message[:20])
			}
		}
		if n := rec.count("PutLogEvents"); n > 40 {
			t.Errorf("%d PutLogEvents calls to isolate 3 of 64 events", n)
		}
		if got := readBack(t, client, prefix); diff(expected(s, b, 0, isPoison), got) != "" {
			t.Fatalf("read back differs:\n%s", diff(expected(s, b, 0, isPoison), got))
		}
	})
	t.Run("budget spent", func(t *testing.T) {
		client, rec := newClient(t, targetRegion)
		cfg, _ := logsConfig(t)
		s := New(client, cfg, fastOpts(WithBisectCalls(4))...)
		rec.set(poison)
		res := deliver(t, s, mk(), 20*time.Second)
		if res.FailedAt != 0 || len(res.Undeliverable) != 0 || !strings.Contains(res.Err.Error(), "budget") {
			t.Fatalf("result %+v", res)
		}
	})
}
