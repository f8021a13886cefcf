package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

const (
	hubAccount = "999999999999"
	sourceA    = "111111111111"
	sourceB    = "222222222222"
)

// systemFields is what a filter's emitSystemFields adds to an event.
func systemFields(account, region string) json.RawMessage {
	return json.RawMessage(`{"@aws.account":"` + account + `","@aws.region":"` + region + `"}`)
}

// hubMessage is a payload of the hub's own log group whose events came,
// through CloudWatch Logs centralization, from the given sources in turn.
func hubMessage(owner, group string, sources ...subscription.Source) *subscription.Message {
	m := &subscription.Message{MessageType: subscription.DataMessage, Owner: owner, LogGroup: group, LogStream: "2026/03/01/[$LATEST]abc", SubscriptionFilters: []string{"logfan-hub"}}
	for i, s := range sources {
		ev := subscription.LogEvent{ID: fmt.Sprintf("%s-%d", group, i), Timestamp: hbTime.UnixMilli() + int64(i), Message: fmt.Sprintf("event %d", i)}
		if s != (subscription.Source{}) {
			ev.ExtractedFields = systemFields(s.Account, s.Region)
		}
		m.LogEvents = append(m.LogEvents, ev)
	}
	return m
}

// TestHubAttribution: a hub's payload is delivered as one message per
// source, owned by the source account, with the hub kept; a sender's
// payload keeps its owner whatever account it names; metrics and sender
// health count the attributed owner and region.
func TestHubAttribution(t *testing.T) {
	a, b := subscription.Source{Account: sourceA, Region: "eu-west-1"}, subscription.Source{Account: sourceB, Region: "us-east-2"}
	datas := [][]byte{
		// Two sources interleaved in one record of the hub.
		eventgen.MustPayload(hubMessage(hubAccount, "/aws/lambda/orders", a, a, b, a, b)),
		// A sender naming another account.
		eventgen.MustPayload(hubMessage(sourceA, "/aws/lambda/claims", b, b)),
		// A heartbeat centralized into the hub.
		eventgen.MustPayload(eventgen.Heartbeat{Owner: sourceB, Region: "us-east-2", LogGroup: heartbeatGroup, At: hbTime, SystemFields: true, Hub: hubAccount}.Message()),
		// The hub's own log group without system fields.
		eventgen.MustPayload(hubMessage(hubAccount, "/hub/local", subscription.Source{}, subscription.Source{})),
	}
	payload, ev := kinesisJSON(t, datas)
	w := &healthWrites{}
	fs := &fakeSink{failAt: -1}
	var logs, metrics bytes.Buffer
	var sum Summary
	h := newHealthHandler(w, fs, &logs, &metrics, &sum)
	h.o.HubAccount = hubAccount

	resp := invoke(t, h, payload)

	if len(resp.BatchItemFailures) != 0 || sum.Events != 9 || sum.Delivered != 9 || sum.Heartbeats != 1 {
		t.Fatalf("failures %v, summary %+v", resp.BatchItemFailures, sum)
	}
	type got struct {
		seq, owner, hub, region string
		origin                  string
	}
	var records []got
	for _, r := range fs.batches[0].Records {
		records = append(records, got{r.SequenceNumber, r.Message.Owner, r.Message.HubAccount, r.Message.Region, fmt.Sprint(r.Origin)})
		if r.Message.EventSources != nil {
			t.Fatal("a delivered message has EventSources")
		}
	}
	seq := func(i int) string { return ev.Records[i].Kinesis.SequenceNumber }
	want := []got{
		{seq(0), sourceA, hubAccount, "eu-west-1", "[0 1 3]"},
		{seq(0), sourceB, hubAccount, "us-east-2", "[2 4]"},
		{seq(1), sourceA, "", "us-east-2", "[]"}, // the sender keeps its owner; the region is its own to report
		{seq(3), hubAccount, "", "", "[]"},
	}
	if fmt.Sprint(records) != fmt.Sprint(want) {
		t.Errorf("records\n got %v\nwant %v", records, want)
	}
	// Metrics per owner: the sources, never the hub for their events.
	owners := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(metrics.String()), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatal(err)
		}
		if o, ok := doc["owner"].(string); ok {
			owners[o] += doc["Events"].(float64)
		}
	}
	if fmt.Sprint(owners) != fmt.Sprint(map[string]float64{sourceA: 5, sourceB: 2, hubAccount: 2}) {
		t.Errorf("events per owner in EMF: %v", owners)
	}
	// Sender health per source account and region.
	var senders, groups []string
	for _, u := range w.senders {
		senders = append(senders, u.Account+"/"+u.Region)
	}
	for _, u := range w.groups {
		groups = append(groups, fmt.Sprintf("%s/%s%s=%d", u.Account, u.Region, u.LogGroup, u.Events))
	}
	slices.Sort(groups)
	if fmt.Sprint(senders) != "["+sourceB+"/us-east-2]" {
		t.Errorf("heartbeats counted for %v", senders)
	}
	if want := []string{sourceA + "/eu-west-1/aws/lambda/orders=3", sourceA + "/us-east-2/aws/lambda/claims=2", sourceB + "/us-east-2/aws/lambda/orders=2", hubAccount + "//hub/local=2"}; fmt.Sprint(groups) != fmt.Sprint(want) {
		t.Errorf("log groups\n got %v\nwant %v", groups, want)
	}
}

// TestNoHubTrustsNoPayload: without a hub account, a payload naming
// another account keeps its owner, and is not split per account it names.
func TestNoHubTrustsNoPayload(t *testing.T) {
	a, b := subscription.Source{Account: sourceA, Region: "eu-west-1"}, subscription.Source{Account: sourceB, Region: "eu-west-1"}
	payload, _ := kinesisJSON(t, [][]byte{eventgen.MustPayload(hubMessage(hubAccount, "/g", a, b))})
	fs := &fakeSink{failAt: -1}
	h := New(Options{Sink: fs, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler)})
	invoke(t, h, payload)
	for _, r := range fs.batches[0].Records {
		if r.Message.Owner != hubAccount || r.Message.HubAccount != "" || r.Message.Region != "eu-west-1" {
			t.Errorf("record owned by %q (hub %q, region %q)", r.Message.Owner, r.Message.HubAccount, r.Message.Region)
		}
	}
}

// TestSplitRecordRetry: when the sink fails on one source's part of a
// record, the retry delivers that part only (the ledger knows the other
// landed, by the events' indexes in the record), and nothing twice.
func TestSplitRecordRetry(t *testing.T) {
	a, b := subscription.Source{Account: sourceA, Region: "eu-west-1"}, subscription.Source{Account: sourceB, Region: "us-east-2"}
	datas := [][]byte{
		eventgen.MustPayload(hubMessage(hubAccount, "/g1", a, b, a, b, a)),
		eventgen.MustPayload(hubMessage(hubAccount, "/g2", b, a, b)),
	}
	_, ev := kinesisJSON(t, datas)
	fs := &ownerFailSink{seq: ev.Records[0].Kinesis.SequenceNumber, owner: sourceB, landed: map[string]int{}}
	h := New(Options{Sink: fs, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler), Ledger: &ledger.Memory{}, HubAccount: hubAccount})
	invocations := 0
	for {
		invocations++
		payload, _ := kinesisJSONEvent(t, ev)
		resp := invoke(t, h, payload)
		if len(resp.BatchItemFailures) == 0 {
			break
		}
		if invocations > 2 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Kinesis.SequenceNumber {
			t.Fatalf("invocation %d: retry from %v", invocations, resp.BatchItemFailures)
		}
	}
	if invocations != 2 || len(fs.landed) != 8 {
		t.Fatalf("%d invocations, %d distinct events landed; want 2 and 8", invocations, len(fs.landed))
	}
	for id, n := range fs.landed {
		if n != 1 {
			t.Errorf("event %s landed %d times", id, n)
		}
	}
	if fs.retried != 2 {
		t.Errorf("the retry delivered %d events, want the 2 of the failed part", fs.retried)
	}
}

// ownerFailSink fails, on its first call, the part of record seq owned by
// owner, and lands everything else (records after it included, as a sink
// with parallel calls does); later calls land everything. It counts every
// landing per event ID, and what the later calls delivered.
type ownerFailSink struct {
	seq, owner string
	calls      int
	retried    int
	landed     map[string]int
}

func (f *ownerFailSink) Name() string { return "ownerfail" }

func (f *ownerFailSink) Deliver(_ context.Context, b *sink.Batch) sink.Result {
	f.calls++
	res := sink.Result{FailedAt: -1}
	var landedAt [][2]int
	for k, r := range b.Records {
		if f.calls == 1 && r.SequenceNumber == f.seq && r.Message.Owner == f.owner {
			if res.FailedAt < 0 {
				res.FailedAt, res.Err = k, errors.New("injected")
			}
			continue
		}
		for e := range r.Message.LogEvents {
			f.landed[r.Message.LogEvents[e].ID]++
			landedAt = append(landedAt, [2]int{k, e})
		}
	}
	if f.calls > 1 {
		f.retried += b.Events()
	}
	if res.FailedAt < 0 {
		res.Delivered = b.Events()
		return res
	}
	l := sink.NewLanding(b, res.FailedAt)
	for _, a := range landedAt {
		if a[0] < res.FailedAt {
			res.Delivered++
		}
		l.Add(b, a[0], a[1])
	}
	res.Landed = l.Units(b)
	return res
}

// TestRoutesByRegionAndSource: routes see each part of a hub's record with
// its source account and region, and the router's cache of the previous
// record's route does not carry over to a part of another region.
func TestRoutesByRegionAndSource(t *testing.T) {
	tbl, err := routes.Parse([]byte(`[
	  {"name": "eu", "match": {"regions": ["eu-west-1"]}, "to": [{"sink": "s3", "prefix": "eu"}]},
	  {"name": "b", "match": {"owners": ["` + sourceB + `"]}, "to": [{"sink": "s3", "prefix": "b"}]},
	  {"name": "rest", "to": ["s3"]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := subscription.Source{Account: sourceA, Region: "eu-west-1"}, subscription.Source{Account: sourceB, Region: "us-east-2"}
	aUS := subscription.Source{Account: sourceA, Region: "us-east-2"}
	datas := [][]byte{
		eventgen.MustPayload(hubMessage(hubAccount, "/g", a, b, a)),            // eu 2, b 1
		eventgen.MustPayload(hubMessage(hubAccount, "/g", aUS, aUS)),           // same owner, group and stream, another region: rest 2
		eventgen.MustPayload(hubMessage(hubAccount, "/g", a)),                  // eu 1
		eventgen.MustPayload(hubMessage(sourceB, "/g", subscription.Source{})), // b 1, no region
	}
	payload, _ := kinesisJSON(t, datas)
	f, targets := s3Fanout(t, tbl, nil)
	var sum Summary
	h := New(Options{Sink: f, Routes: tbl, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler), HubAccount: hubAccount, OnSummary: func(s Summary) { sum = s }})
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batchItemFailures %+v", resp.BatchItemFailures)
	}
	for name, want := range map[string]int{"s3:eu": 3, "s3:b": 2, "s3": 2} {
		if got := eventsOf(targets[name]); got != want {
			t.Errorf("target %s got %d events, want %d", name, got, want)
		}
	}
	if sum.Events != 7 || sum.Delivered != 7 {
		t.Errorf("summary %+v", sum)
	}
}
