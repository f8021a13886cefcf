package consumer

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/sink"
)

const routeTable = `[
  {"name": "security", "match": {"owners": ["111111111111"], "logGroups": ["/aws/cloudtrail/**"]},
   "to": ["s3", {"sink": "s3", "prefix": "audit"}, "firehose"]},
  {"name": "noise", "match": {"logGroups": ["/aws/lambda/healthcheck-*"]}, "to": []},
  {"name": "siem", "match": {"logGroups": ["/siem/**"]}, "to": ["firehose"]},
  {"name": "apps", "match": {"logGroups": ["/aws/lambda/**"]}, "to": [{"sink": "s3", "prefix": "apps"}]},
  {"name": "rest", "to": []}
]`

// routedSource is one record of the routed test batch and where it goes.
type routedSource struct {
	owner, group string
	events       int
}

var routedSources = []routedSource{
	{"111111111111", "/aws/cloudtrail/org", 3},       // security: s3, s3:audit (and firehose)
	{"222222222222", "/aws/lambda/healthcheck-a", 2}, // noise: first match beats apps, dropped
	{"222222222222", "/aws/lambda/api", 4},           // apps: s3:apps
	{"333333333333", "/siem/edge", 5},                // siem: firehose only, none of s3's business
	{"333333333333", "/other", 6},                    // rest: dropped on purpose
	{"222222222222", "/aws/cloudtrail/org", 1},       // wrong owner for security, rest: dropped
	{"111111111111", "/aws/cloudtrail/org", 2},       // security again (the router's cache across records)
}

func routedPayload(t *testing.T) []byte {
	t.Helper()
	g := eventgen.New(7)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var datas [][]byte
	for _, s := range routedSources {
		src := eventgen.Source{Owner: s.owner, LogGroup: s.group, LogStream: "s"}
		datas = append(datas, eventgen.MustPayload(g.Message(src, s.events, start, time.Second, 0)))
	}
	payload, _ := kinesisJSON(t, datas)
	return payload
}

// kindSink is one target of a routed sink kind: a fakeSink with the kind's name.
type kindSink struct {
	fakeSink
	kind string
}

func (k *kindSink) Name() string { return k.kind }

// s3Fanout is the S3 function's sink with routes: one fake per S3 target.
func s3Fanout(t *testing.T, tbl *routes.Table, failAt map[string]int) (*sink.Fanout, map[string]*kindSink) {
	t.Helper()
	byName := map[string]*kindSink{}
	var names []string
	var sinks []sink.Sink
	for _, tg := range tbl.Targets(routes.SinkS3) {
		at, ok := failAt[tg.Name()]
		if !ok {
			at = -1
		}
		k := &kindSink{fakeSink: fakeSink{failAt: at}, kind: "s3"}
		byName[tg.Name()] = k
		names, sinks = append(names, tg.Name()), append(sinks, k)
	}
	return sink.NewFanout("s3", names, sinks), byName
}

func eventsOf(k *kindSink) (n int) {
	for _, b := range k.batches {
		n += b.Events()
	}
	return n
}

func TestRoutingFirstMatchDropsAndOtherSinks(t *testing.T) {
	tbl, err := routes.Parse([]byte(routeTable))
	if err != nil {
		t.Fatal(err)
	}
	f, targets := s3Fanout(t, tbl, nil)
	q := &quarantine.Memory{}
	var logs, metrics bytes.Buffer
	var sum Summary
	h := New(Options{Sink: f, Routes: tbl, Quarantine: q, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: &metrics, OnSummary: func(s Summary) { sum = s }})
	if resp := invoke(t, h, routedPayload(t)); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batchItemFailures %+v", resp.BatchItemFailures)
	}
	for name, want := range map[string]int{"s3": 5, "s3:audit": 5, "s3:apps": 4} {
		if got := eventsOf(targets[name]); got != want {
			t.Errorf("target %s got %d events, want %d", name, got, want)
		}
	}
	// Drops and other sinks' events are counted, never quarantined or retried.
	if sum.Events != 23 || sum.Delivered != 14 || sum.Dropped != 2+6+1 || sum.OtherSinks != 5 ||
		sum.Quarantined != 0 || sum.RetryEvents != 0 || len(q.Entries()) != 0 {
		t.Errorf("summary %+v", sum)
	}
	want := []RouteCount{
		{Route: "security", Events: 5, Deliveries: 10, Targets: []string{"s3", "s3:audit"}},
		{Route: "noise", Events: 2},
		{Route: "siem", Events: 5, Deliveries: 0},
		{Route: "apps", Events: 4, Deliveries: 4, Targets: []string{"s3:apps"}},
		{Route: "rest", Events: 7},
	}
	if !slices.EqualFunc(sum.Routes, want, func(a, b RouteCount) bool {
		return a.Route == b.Route && a.Events == b.Events && a.Deliveries == b.Deliveries && slices.Equal(a.Targets, b.Targets)
	}) {
		t.Errorf("routes %+v\nwant %+v", sum.Routes, want)
	}

	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["dropped"] != 9.0 || line["otherSinks"] != 5.0 || line["routes"] == nil {
		t.Errorf("log line lacks the routing counts: %s", logs.String())
	}
	perRoute := map[string]float64{}
	for _, d := range strings.Split(strings.TrimSpace(metrics.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		if r, ok := m["route"].(string); ok {
			perRoute[r] = m["Deliveries"].(float64)
		}
		if _, ok := m["Dropped"]; ok && (m["Dropped"] != 9.0 || m["OtherSinks"] != 5.0) {
			t.Errorf("sink document %s", d)
		}
	}
	if perRoute["security"] != 10 || perRoute["apps"] != 4 || perRoute["rest"] != 0 || len(perRoute) != 5 {
		t.Errorf("EMF deliveries per route %v", perRoute)
	}
}

// TestRoutingFailingTargetRetriesNothingLost: one S3 target fails; Lambda
// retries from the first record that target did not take, and every
// delivery owed before it is counted.
func TestRoutingFailingTargetRetriesNothingLost(t *testing.T) {
	tbl, err := routes.Parse([]byte(routeTable))
	if err != nil {
		t.Fatal(err)
	}
	// s3:audit takes the first security record and fails on the second
	// (invocation record 6, batch record 2).
	f, targets := s3Fanout(t, tbl, map[string]int{"s3:audit": 1})
	var sum Summary
	h := New(Options{Sink: f, Routes: tbl, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
	payload := routedPayload(t)
	resp := invoke(t, h, payload)
	var ev struct {
		Records []struct {
			Kinesis struct{ SequenceNumber string } `json:"kinesis"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[6].Kinesis.SequenceNumber {
		t.Fatalf("batchItemFailures %+v, want a retry from record 6", resp.BatchItemFailures)
	}
	// Before record 6: security (3 × 2 targets) + apps (4); the s3 target
	// also landed record 6 (2), which the retry sends it again.
	if sum.Delivered != 3*2+4+2 || sum.RetryEvents != 2 || !strings.Contains(sum.Err, "target s3:audit") {
		t.Errorf("summary %+v", sum)
	}
	if eventsOf(targets["s3:apps"]) != 4 || eventsOf(targets["s3"]) != 5 {
		t.Errorf("targets s3:apps %d, s3 %d events", eventsOf(targets["s3:apps"]), eventsOf(targets["s3"]))
	}
}

// TestRoutingStdoutGetsEveryRoutedRecord: the stdout sink prints what any
// target gets, one copy, with the route set and no targets.
func TestRoutingStdoutGetsEveryRoutedRecord(t *testing.T) {
	tbl, err := routes.Parse([]byte(routeTable))
	if err != nil {
		t.Fatal(err)
	}
	k := &kindSink{fakeSink: fakeSink{failAt: -1}, kind: "stdout"}
	var sum Summary
	h := New(Options{Sink: k, Routes: tbl, Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler), OnSummary: func(s Summary) { sum = s }})
	invoke(t, h, routedPayload(t))
	if sum.Delivered != 5+4+5 || sum.Dropped != 9 || sum.OtherSinks != 0 {
		t.Errorf("summary %+v", sum)
	}
	var routesSeen []int
	for _, r := range k.batches[0].Records {
		if r.Targets != nil {
			t.Errorf("record %s: targets %v", r.SequenceNumber, r.Targets)
		}
		routesSeen = append(routesSeen, r.Route)
	}
	if !slices.Equal(routesSeen, []int{0, 3, 2, 0}) || k.batches[0].Routes != tbl {
		t.Errorf("routes %v", routesSeen)
	}
}
