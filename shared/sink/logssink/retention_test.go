package logssink

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/ops/readback"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/internal/devkit/faults"
)

// groupRetention returns the retention of every group under prefix (0: never expires).
func groupRetention(t testing.TB, client readback.LogsAPI, prefix string) map[string]int32 {
	t.Helper()
	groups, err := readback.LogGroups(context.Background(), client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int32{}
	for _, g := range groups {
		out[g.Name] = g.RetentionInDays
	}
	return out
}

// dropFirstAnswer forwards the first request of op to the emulator, which
// applies it, and then loses the answer (a connection reset on the way
// back); every other request passes.
func dropFirstAnswer(op string, dropped *atomic.Int64) faults.Injector {
	return func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
		if !faults.IsOperation(req, op) || !dropped.CompareAndSwap(0, 1) {
			return nil, nil
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("emulator answered %s with %s", op, resp.Status)
		}
		return nil, faults.ErrTimeout
	}
}

// TestRetentionCreateAnswerLost: CreateLogGroup is applied but its answer
// is lost, so the retry finds the group already there. The group the sink
// made must still get the configured retention before the delivery reports
// success, and a later invocation in a fresh process (a new Sink) keeps it.
func TestRetentionCreateAnswerLost(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	src := testSources[:1]
	b := genBatch(700, src, 2, 10, time.Now().Add(-time.Hour), time.Millisecond, 0)
	var dropped atomic.Int64
	rec.set(dropFirstAnswer("CreateLogGroup", &dropped))
	res := deliver(t, New(client, cfg, fastOpts()...), b, 20*time.Second)
	if res.FailedAt != -1 || res.Delivered != b.Events() {
		t.Fatalf("result %+v", res)
	}
	if dropped.Load() != 1 || rec.count("CreateLogGroup") < 2 {
		t.Fatalf("the lost answer was not exercised: dropped %d, CreateLogGroup calls %d", dropped.Load(), rec.count("CreateLogGroup"))
	}
	names := New(client, cfg) // expands the templates only
	group := names.Target(src[0].owner, src[0].group, src[0].stream).Group
	if got := groupRetention(t, client, prefix); len(got) != 1 || got[group] != cfg.RetentionDays {
		t.Fatalf("after a successful delivery: retention %v, want %s: %d", got, group, cfg.RetentionDays)
	}

	// The next invocation runs in a fresh process.
	rec.set(nil)
	b2 := genBatch(701, src, 1, 10, time.Now().Add(-50*time.Minute), time.Millisecond, 0)
	if res := deliver(t, New(client, cfg, fastOpts()...), b2, 20*time.Second); res.FailedAt != -1 || res.Delivered != b2.Events() {
		t.Fatalf("second invocation: %+v", res)
	}
	if got := groupRetention(t, client, prefix); len(got) != 1 || got[group] != cfg.RetentionDays {
		t.Fatalf("after the second invocation: retention %v", got)
	}
	want := expected(names, b, 0, nil)
	addAll(want, expected(names, b2, 0, nil))
	if got := readBack(t, client, prefix); diff(want, got) != "" {
		t.Fatalf("read back differs:\n%s", diff(want, got))
	}
}

// TestRetentionFailsWholeInvocation: PutRetentionPolicy fails (throttled)
// for the whole first invocation, after the group was created. That
// invocation must not report the events delivered; Lambda's retry runs in
// a fresh process (a new Sink), which no longer remembers the group it
// created, yet leaves the group with the configured retention and every
// event stored exactly once.
func TestRetentionFailsWholeInvocation(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	src := testSources[:2] // two streams of one group
	b := genBatch(710, src, 4, 10, time.Now().Add(-time.Hour), time.Millisecond, 0)
	var created atomic.Bool
	rec.set(func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
		switch {
		case faults.IsOperation(req, "CreateLogGroup"):
			created.Store(true)
		case faults.IsOperation(req, "PutRetentionPolicy") && created.Load():
			return faults.JSONError(400, "ThrottlingException", "Rate exceeded"), nil
		}
		return nil, nil
	})
	res := deliver(t, New(client, cfg, fastOpts()...), b, 3*time.Second)
	if res.FailedAt != 0 || res.Delivered != 0 || !strings.Contains(res.Err.Error(), "retention") {
		t.Fatalf("first invocation: %+v", res)
	}
	if n := rec.count("PutLogEvents"); n != 0 {
		t.Errorf("%d PutLogEvents calls: want none to a group without its retention", n)
	}
	names := New(client, cfg) // expands the templates only
	group := names.Target(src[0].owner, src[0].group, src[0].stream).Group
	if got := groupRetention(t, client, prefix); len(got) != 1 || got[group] != 0 {
		t.Fatalf("after the first invocation: retention %v, want the group created without retention", got)
	}

	rec.set(nil)
	rec.reset()
	res = deliver(t, New(client, cfg, fastOpts()...), b, 20*time.Second)
	if res.FailedAt != -1 || res.Delivered != b.Events() {
		t.Fatalf("retry in a fresh process: %+v", res)
	}
	if got := groupRetention(t, client, prefix); len(got) != 1 || got[group] != cfg.RetentionDays {
		t.Fatalf("after the retry: retention %v, want %s: %d", got, group, cfg.RetentionDays)
	}
	if n := rec.count("PutRetentionPolicy"); n != 1 {
		t.Errorf("PutRetentionPolicy called %d times for one group, want 1", n)
	}
	if got := readBack(t, client, prefix); diff(expected(names, b, 0, nil), got) != "" {
		t.Fatalf("read back differs:\n%s", diff(expected(names, b, 0, nil), got))
	}
}

// TestRetentionOfExistingGroups: groups under the sink's template that
// exist before the sink first writes to them (left without retention by
// an earlier process, or set differently by hand) get the configured
// retention on first use in each process, before any event is written;
// the configured retention is the one source of truth for them.
func TestRetentionOfExistingGroups(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	s := New(client, cfg, fastOpts()...)
	ctx := context.Background()
	src := []source{{"999999999999", "/none", "s"}, {"999999999999", "/seven", "s"}}
	for i, days := range []int32{0, 7} {
		name := s.Target(src[i].owner, src[i].group, src[i].stream).Group
		if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &name}); err != nil {
			t.Fatal(err)
		}
		if days > 0 {
			if _, err := client.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &name, RetentionInDays: &days}); err != nil {
				t.Fatal(err)
			}
		}
	}
	rec.reset()
	b := genBatch(720, src, 2, 5, time.Now().Add(-time.Hour), time.Millisecond, 0)
	if res := deliver(t, s, b, 20*time.Second); res.FailedAt != -1 || res.Delivered != b.Events() {
		t.Fatalf("%+v", res)
	}
	for name, days := range groupRetention(t, client, prefix) {
		if days != cfg.RetentionDays {
			t.Errorf("group %s retention %d, want %d", name, days, cfg.RetentionDays)
		}
	}
	if n, c := rec.count("PutRetentionPolicy"), rec.count("CreateLogGroup"); n != 2 || c != 0 {
		t.Errorf("PutRetentionPolicy %d, CreateLogGroup %d calls; want 2 and 0", n, c)
	}
}
