package logssink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

const (
	day        = 24 * time.Hour
	tooOldAge  = 14 * day
	tooNewLead = 2 * time.Hour
)

// TestMotoRejectedLogEventsInfo pins how moto reports rejected events,
// which differs from the API reference: moto sets tooOldLogEventEndIndex
// to the index of the LAST too-old event (the reference: exclusive end, so
// one past it) and tooNewLogEventStartIndex to the index of the LAST
// too-new event (the reference: the FIRST, inclusive), and never reports
// expiredLogEventEndIndex. Reading moto's answer the AWS way would count
// one too-old and all but one too-new event as delivered; so the sink's
// rejected path is tested through awsRejects instead. If moto changes,
// this test says so.
func TestMotoRejectedLogEventsInfo(t *testing.T) {
	client, _ := newClient(t, targetRegion)
	_, prefix := logsConfig(t)
	group, stream := prefix+"/pin", "s"
	ctx := context.Background()
	if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ts := []time.Time{now.Add(-tooOldAge - 2*time.Hour), now.Add(-tooOldAge - time.Hour), now.Add(-time.Minute), now.Add(tooNewLead + time.Hour), now.Add(tooNewLead + 2*time.Hour)}
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream}
	for i, at := range ts {
		in.LogEvents = append(in.LogEvents, types.InputLogEvent{Message: aws.String(fmt.Sprint("e", i)), Timestamp: aws.Int64(at.UnixMilli())})
	}
	out, err := client.PutLogEvents(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	info := out.RejectedLogEventsInfo
	if info == nil || aws.ToInt32(info.TooOldLogEventEndIndex) != 1 || aws.ToInt32(info.TooNewLogEventStartIndex) != 4 || info.ExpiredLogEventEndIndex != nil {
		t.Fatalf("moto's rejectedLogEventsInfo changed: %+v (pinned: tooOld 1, tooNew 4, no expired)", info)
	}
	got := readBack(t, client, group)
	if len(got) != 1 || got[key{group, stream, ts[2].UnixMilli(), "e2"}] != 1 {
		t.Fatalf("moto stored %v, want only e2", got)
	}
}

// awsRejects emulates, in front of moto, how the API reference says
// PutLogEvents rejects events of a (sorted) batch: those older than 14 days
// (tooOldLogEventEndIndex, exclusive end), those older than the group's
// retention (expiredLogEventEndIndex, exclusive end; reported only past the
// too-old ones), those more than 2 hours ahead (tooNewLogEventStartIndex,
// inclusive start). Only the accepted events are forwarded to moto.
func awsRejects(now time.Time, retention time.Duration) faults.Injector {
	return func(req *http.Request, body []byte, _ int) (*http.Response, error) {
		if !faults.IsOperation(req, "PutLogEvents") {
			return nil, nil
		}
		var in map[string]json.RawMessage
		var p putBody
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, err
		}
		n := len(p.Events)
		oldEnd, expEnd, newStart := 0, 0, n
		for i, e := range p.Events {
			at := time.UnixMilli(e.Timestamp)
			if at.Before(now.Add(-tooOldAge)) {
				oldEnd = i + 1
			}
			if retention > 0 && at.Before(now.Add(-retention)) {
				expEnd = i + 1
			}
			if newStart == n && at.After(now.Add(tooNewLead)) {
				newStart = i
			}
		}
		info := map[string]int{}
		if oldEnd > 0 {
			info["tooOldLogEventEndIndex"] = oldEnd
		}
		if expEnd > oldEnd {
			info["expiredLogEventEndIndex"] = expEnd
		}
		if newStart < n {
			info["tooNewLogEventStartIndex"] = newStart
		}
		if acc := p.Events[max(oldEnd, expEnd):newStart]; len(acc) > 0 {
			in["logEvents"], _ = json.Marshal(acc)
			fwd, _ := json.Marshal(in)
			r2 := req.Clone(req.Context())
			r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(fwd)), int64(len(fwd))
			r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(fwd)), nil }
			resp, err := http.DefaultTransport.RoundTrip(r2)
			if err != nil || resp.StatusCode != http.StatusOK {
				return resp, err
			}
			_ = resp.Body.Close()
		}
		out, _ := json.Marshal(map[string]any{"nextSequenceToken": "1", "rejectedLogEventsInfo": info})
		return &http.Response{
			StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {"shim"}},
			Body:          io.NopCloser(bytes.NewReader(out)),
			ContentLength: int64(len(out)),
		}, nil
	}
}

// TestRejectedEvents sends two streams' events, out of order across
// records and cut into small batches, some too old, expired or too new,
// through awsRejects: each rejected event is reported undeliverable with
// its kind and reason, the others land exactly once, nothing is retried,
// and nothing is lost.
func TestRejectedEvents(t *testing.T) {
	client, rec := newClient(t, targetRegion)
	cfg, prefix := logsConfig(t)
	now := time.Now()
	rec.set(awsRejects(now, 6*time.Hour))
	s := New(client, cfg, fastOpts(WithLimits(Limits{MaxBatchEvents: 5}))...)

	// ID prefixes say each event's fate: ok, tooOld, expired (older than the
	// 6 h retention awsRejects applies), tooNew. Sorted and cut into batches
	// of at most 5 within 24 h, stream a goes out as
	//   [tooOld-a1 tooOld-a2]                           tooOld end 2
	//   [expired-a1 expired-a2 ok-a1 ok-a2 ok-a3]       expired end 2
	//   [ok-a4 tooNew-a1 tooNew-a2]                     tooNew start 1
	// and stream b as
	//   [tooOld-b1]                                     tooOld end 1
	//   [expired-b1 ok-b1 tooNew-b1 tooNew-b2]          expired end 1, tooNew start 2
	at := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	msg := func(stream string, evs ...subscription.LogEvent) *subscription.Message {
		return &subscription.Message{MessageType: subscription.DataMessage, Owner: "888888888888", LogGroup: "/rejects", LogStream: stream, LogEvents: evs}
	}
	ev := func(id string, ts int64) subscription.LogEvent {
		return subscription.LogEvent{ID: id, Timestamp: ts, Message: "event " + id}
	}
	b := &sink.Batch{ShardID: "shardId-000000000002", Records: []sink.DecodedRecord{
		{SequenceNumber: "10", Message: msg("a", ev("ok-a1", at(-time.Hour)), ev("ok-a2", at(-50*time.Minute)))},
		{SequenceNumber: "11", Message: msg("b", ev("tooNew-b1", at(3*time.Hour)), ev("tooNew-b2", at(4*time.Hour)))},
		{SequenceNumber: "12", Message: msg("a", ev("tooOld-a1", at(-15*day)), ev("tooOld-a2", at(-15*day+time.Minute)))},
		{SequenceNumber: "13", Message: msg("a", ev("expired-a1", at(-10*time.Hour)), ev("tooNew-a2", at(5*time.Hour)), ev("expired-a2", at(-8*time.Hour)))},
		{SequenceNumber: "14", Message: msg("b", ev("ok-b1", at(-time.Minute)), ev("tooOld-b1", at(-20*day)), ev("expired-b1", at(-7*time.Hour)))},
		{SequenceNumber: "15", Message: msg("a", ev("tooNew-a1", at(3*time.Hour)), ev("ok-a3", at(-time.Second)), ev("ok-a4", at(-500*time.Millisecond)))},
	}}
	res := deliver(t, s, b, 30*time.Second)

	want := map[string]int{RejectedExpired: 3, RejectedTooNew: 4, RejectedTooOld: 3}
	if res.FailedAt != -1 || fmt.Sprint(kinds(res)) != fmt.Sprint(want) || len(res.Undeliverable) != 10 || res.Delivered != 5 || res.Retries != 0 {
		t.Fatalf("result %+v; want undeliverable %v, 5 delivered, no retries", res, want)
	}
	if n := rec.count("PutLogEvents"); n != 5+2 { // 5 batches, plus the first put of each new stream
		t.Errorf("%d PutLogEvents calls, want 7", n)
	}
	for id, u := range undeliverable(b, res) {
		fate := id[:strings.IndexByte(id, '-')]
		if u.Kind != fate || !strings.Contains(u.Reason, "as "+fate+" ") {
			t.Errorf("event %s reported as %s: %q", id, u.Kind, u.Reason)
		}
	}
	if n := len(undeliverable(b, res)); n != 10 {
		t.Fatalf("%d distinct undeliverable events, want 10", n)
	}
	okOnly := func(_ *subscription.Message, e *subscription.LogEvent) bool { return !strings.HasPrefix(e.ID, "ok-") }
	if got := readBack(t, client, prefix); diff(expected(s, b, 0, okOnly), got) != "" {
		t.Fatalf("read back differs:\n%s", diff(expected(s, b, 0, okOnly), got))
	}
	for _, p := range rec.bodies() {
		checkBody(t, p)
	}
}

// TestRejectedFixture answers PutLogEvents with a recorded-shape response
// (testdata/putlogevents-rejected.json: tooOldLogEventEndIndex 2,
// tooNewLogEventStartIndex 4) through the real SDK client, and checks the
// indexes are read against the sorted batch that was sent, not the arrival
// order. It needs no emulator.
func TestRejectedFixture(t *testing.T) {
	fixture, err := os.ReadFile("testdata/putlogevents-rejected.json")
	if err != nil {
		t.Fatal(err)
	}
	var sent []putBody
	client := fakeClient(&faults.Transport{Inject: func(req *http.Request, body []byte, _ int) (*http.Response, error) {
		if !faults.IsOperation(req, "PutLogEvents") {
			return nil, fmt.Errorf("unexpected %s", faults.Target(req))
		}
		var p putBody
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, err
		}
		sent = append(sent, p)
		return &http.Response{
			StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
			Body:   io.NopCloser(bytes.NewReader(fixture)), ContentLength: int64(len(fixture)),
		}, nil
	}})
	s := New(client, config.Logs{}, fastOpts()...)
	// In arrival order the fates are new ok old | ok old new.
	b := &sink.Batch{ShardID: "shardId-000000000003", Records: []sink.DecodedRecord{
		msgFrom("1", "/g", "s", le("new-1", 90, "n1"), le("ok-1", 50, "o1"), le("old-1", 10, "d1")),
		msgFrom("1", "/g", "s", le("ok-2", 60, "o2"), le("old-2", 20, "d2"), le("new-2", 95, "n2")),
	}}
	res := s.Deliver(context.Background(), b)
	checkInvariant(t, b, res)
	// Sorted: old-1 old-2 ok-1 ok-2 new-1 new-2; tooOld end 2 (exclusive)
	// rejects indexes 0-1, tooNew start 4 (inclusive) rejects 4-5.
	if len(sent) != 1 || len(sent[0].Events) != 6 || sent[0].Events[0].Message != "d1" || sent[0].Events[5].Message != "n2" {
		t.Fatalf("sent %+v", sent)
	}
	want := map[string]int{RejectedTooOld: 2, RejectedTooNew: 2}
	if res.FailedAt != -1 || res.Delivered != 2 || len(res.Undeliverable) != 4 || fmt.Sprint(kinds(res)) != fmt.Sprint(want) {
		t.Fatalf("result %+v", res)
	}
	got := undeliverable(b, res)
	for _, id := range []string{"old-1", "old-2", "new-1", "new-2"} {
		u, ok := got[id]
		fate := map[byte]string{'o': RejectedTooOld, 'n': RejectedTooNew}[id[0]]
		if !ok || u.Kind != fate || !strings.Contains(u.Reason, "as "+fate+" ") {
			t.Errorf("%s: %+v (reported %v), want %s", id, u, ok, fate)
		}
	}
	// Record and event indexes point at the event as it arrived, not as sorted.
	if u := got["old-1"]; u.Record != 0 || u.Event != 2 {
		t.Errorf("old-1 reported at record %d event %d, want 0, 2", u.Record, u.Event)
	}
	if u := got["new-2"]; u.Record != 1 || u.Event != 2 {
		t.Errorf("new-2 reported at record %d event %d, want 1, 2", u.Record, u.Event)
	}
}
