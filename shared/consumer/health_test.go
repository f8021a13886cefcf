package consumer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/quarantine"
)

// healthWrites records what a health.Recorder writes.
type healthWrites struct {
	mu      sync.Mutex
	senders []health.SenderUpdate
	groups  []health.LogGroupUpdate
	err     error
}

func (w *healthWrites) WriteSender(_ context.Context, u health.SenderUpdate) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.senders = append(w.senders, u)
	return nil
}

func (w *healthWrites) WriteLogGroup(_ context.Context, u health.LogGroupUpdate) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.groups = append(w.groups, u)
	return nil
}

const heartbeatGroup = "/logfan/heartbeat"

var hbTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// healthBatch is: a data record of 111111111111 (5 events), a heartbeat of
// 111111111111 whose CloudWatch Logs system fields say us-east-2 but whose
// message claims account 999999999999, a data record of 222222222222, and
// a heartbeat of 222222222222 without system fields claiming 111111111111.
func healthBatch(t *testing.T) [][]byte {
	t.Helper()
	d := payloads(t, "DD", 5)
	hb1 := eventgen.MustPayload(eventgen.Heartbeat{Owner: "111111111111", Region: "us-east-2", LogGroup: heartbeatGroup, At: hbTime, SystemFields: true, Claim: "999999999999"}.Message())
	hb2 := eventgen.MustPayload(eventgen.Heartbeat{Owner: "222222222222", Region: "eu-west-1", LogGroup: heartbeatGroup, At: hbTime.Add(time.Second), Claim: "111111111111"}.Message())
	return [][]byte{d[0], hb1, d[1], hb2}
}

func newHealthHandler(w *healthWrites, s *fakeSink, logs *bytes.Buffer, metrics *bytes.Buffer, sum *Summary) *Handler {
	var wr health.Writer
	if w != nil {
		wr = w
	}
	rec := health.NewRecorder(health.RecorderOptions{HeartbeatLogGroups: []string{heartbeatGroup}, Writer: wr})
	return New(Options{
		Sink: s, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: metrics,
		OnSummary: func(s Summary) { *sum = s }, Health: rec, Now: func() time.Time { return hbTime.Add(time.Minute) },
	})
}

// TestHeartbeatsAreCountedNotDelivered: heartbeat records go to no sink,
// count as heartbeats (summary, log line, EMF) for the payload's owner and
// CloudWatch Logs' region only, never for what the message claims.
func TestHeartbeatsAreCountedNotDelivered(t *testing.T) {
	payload, _ := kinesisJSON(t, healthBatch(t))
	w := &healthWrites{}
	fs := &fakeSink{failAt: -1}
	var logs, metrics bytes.Buffer
	var sum Summary
	h := newHealthHandler(w, fs, &logs, &metrics, &sum)
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	if len(fs.batches) != 1 || len(fs.batches[0].Records) != 2 {
		t.Fatalf("sink got %d batches, want 1 of the 2 data records", len(fs.batches))
	}
	for _, r := range fs.batches[0].Records {
		if r.Message.LogGroup == heartbeatGroup {
			t.Errorf("a heartbeat reached the sink: %+v", r.Message)
		}
	}
	if sum.Heartbeats != 2 || sum.Events != 10 || sum.Delivered != 10 {
		t.Errorf("summary heartbeats %d events %d delivered %d, want 2, 10, 10", sum.Heartbeats, sum.Events, sum.Delivered)
	}
	want := map[string]int64{"111111111111#us-east-2": hbTime.UnixMilli(), "222222222222#": hbTime.Add(time.Second).UnixMilli()}
	if len(w.senders) != len(want) {
		t.Fatalf("sender writes %+v, want %v", w.senders, want)
	}
	for _, u := range w.senders {
		if at, ok := want[u.Account+"#"+u.Region]; !ok || at != u.LastHeartbeat || u.Heartbeats != 1 {
			t.Errorf("sender write %+v: want one of %v (never the account or region a message claims)", u, want)
		}
	}
	if len(w.groups) != 2 {
		t.Fatalf("log-group writes %+v, want one per data record's owner", w.groups)
	}
	for _, u := range w.groups {
		if u.LogGroup != "/app/g" || u.Events != 5 || u.Bytes <= 0 || u.Day != "2026-03-01" || u.LastEvent != hbTime.Add(4*time.Second).UnixMilli() {
			t.Errorf("log-group write %+v", u)
		}
	}
	if !strings.Contains(logs.String(), `"heartbeats":2`) || !strings.Contains(logs.String(), `"healthWrites":4`) {
		t.Errorf("log line lacks the heartbeats and writes:\n%s", logs.String())
	}
	if !strings.Contains(metrics.String(), `"Heartbeats":2`) {
		t.Errorf("EMF lacks Heartbeats:\n%s", metrics.String())
	}
}

// TestHeartbeatsWithoutTable: a function without the table still keeps
// heartbeats from its sink, and writes nothing.
func TestHeartbeatsWithoutTable(t *testing.T) {
	payload, _ := kinesisJSON(t, healthBatch(t))
	fs := &fakeSink{failAt: -1}
	var logs, metrics bytes.Buffer
	var sum Summary
	h := newHealthHandler(nil, fs, &logs, &metrics, &sum)
	invoke(t, h, payload)
	if sum.Heartbeats != 2 || sum.Delivered != 10 || len(fs.batches[0].Records) != 2 || sum.HealthWrites != 0 {
		t.Errorf("summary %+v, sink records %d", sum, len(fs.batches[0].Records))
	}
}

// TestHealthCountsSettledRecordsOnly: records from the retry point on are
// told to Health when Lambda retries them, not twice.
func TestHealthCountsSettledRecordsOnly(t *testing.T) {
	payload, _ := kinesisJSON(t, healthBatch(t))
	w := &healthWrites{}
	fs := &fakeSink{failAt: 1} // the second data record (invocation record 2) fails
	var logs, metrics bytes.Buffer
	var sum Summary
	h := newHealthHandler(w, fs, &logs, &metrics, &sum)
	resp := invoke(t, h, payload)
	if len(resp.BatchItemFailures) != 1 || sum.RetryFrom == "" {
		t.Fatalf("want a retry point, got %+v", resp)
	}
	if len(w.senders) != 1 || w.senders[0].Account != "111111111111" {
		t.Errorf("sender writes %+v: want only the heartbeat before the retry point", w.senders)
	}
	if len(w.groups) != 1 || w.groups[0].Account != "111111111111" {
		t.Errorf("log-group writes %+v: want only the record before the retry point", w.groups)
	}
}

// TestHealthTableFailureCostsNoEvent: the table failing loses no event; the
// error is in the summary, logged once (warn) and counted in EMF.
func TestHealthTableFailureCostsNoEvent(t *testing.T) {
	payload, _ := kinesisJSON(t, healthBatch(t))
	w := &healthWrites{err: errors.New("AccessDeniedException: not authorized to perform dynamodb:UpdateItem")}
	fs := &fakeSink{failAt: -1}
	var logs, metrics bytes.Buffer
	var sum Summary
	h := newHealthHandler(w, fs, &logs, &metrics, &sum)
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("a health failure made Lambda retry: %+v", resp)
	}
	if sum.Delivered != 10 || !strings.Contains(sum.HealthErr, "AccessDeniedException") || !strings.Contains(sum.HealthErr, "4 of 4") {
		t.Errorf("summary delivered %d, health error %q", sum.Delivered, sum.HealthErr)
	}
	if n := strings.Count(logs.String(), "AccessDeniedException"); n != 1 || !strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("the error is logged %d times (want once, at WARN):\n%s", n, logs.String())
	}
	if !strings.Contains(metrics.String(), `"HealthErrors":1`) {
		t.Errorf("EMF lacks HealthErrors 1:\n%s", metrics.String())
	}
}

// TestHealthWritesBoundedOverInvocations: 180 invocations a second apart,
// each with the same two data records and two heartbeats: the table gets
// each log-group key once (first sight; then hourly) and each sender key
// once a minute; Shutdown writes the rest, and every count arrives.
func TestHealthWritesBoundedOverInvocations(t *testing.T) {
	payload, _ := kinesisJSON(t, healthBatch(t))
	w := &healthWrites{}
	now := hbTime.Add(time.Minute)
	rec := health.NewRecorder(health.RecorderOptions{HeartbeatLogGroups: []string{heartbeatGroup}, Writer: w})
	var sum Summary
	h := New(Options{
		Sink: &fakeSink{failAt: -1}, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler),
		OnSummary: func(s Summary) { sum = s }, Health: rec, Now: func() time.Time { return now },
	})
	writes := 0
	for range 180 {
		invoke(t, h, payload)
		writes += sum.HealthWrites
		now = now.Add(time.Second)
	}
	if len(w.groups) != 2 || len(w.senders) != 6 || writes != 8 {
		t.Errorf("%d log-group and %d sender writes (%d in summaries) in 3 minutes, want 2 and 6 (once a minute for 2 keys)", len(w.groups), len(w.senders), writes)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var events, beats int64
	for _, u := range w.groups {
		events += u.Events
	}
	for _, u := range w.senders {
		beats += u.Heartbeats
	}
	if events != 180*10 || beats != 180*2 {
		t.Errorf("written %d events and %d heartbeats, want %d and %d", events, beats, 180*10, 180*2)
	}
}
