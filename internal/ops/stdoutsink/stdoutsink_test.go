package stdoutsink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// TestPrettyExtractedFields: one line per event on stdout, whatever layout
// the sender gave extractedFields.
func TestPrettyExtractedFields(t *testing.T) {
	prettyfields.Test(t, func(b *sink.Batch) ([]byte, error) {
		var out bytes.Buffer
		if res := New(&out).Deliver(context.Background(), b); res.Err != nil || res.Delivered != b.Events() {
			return nil, fmt.Errorf("Deliver = %+v", res)
		}
		return out.Bytes(), nil
	})
}

// TestRoutedLinesNameTheirTargets: with routes, each line carries every
// record field unchanged plus the names of its route's targets.
func TestRoutedLinesNameTheirTargets(t *testing.T) {
	tbl, err := routes.Parse([]byte(`[
	  {"name": "security", "match": {"logGroups": ["/aws/cloudtrail/**"]},
	   "to": ["s3", {"sink": "firehose", "stream": "siem"}, {"sink": "logs", "region": "eu-west-1", "groupTemplate": "/security/{logGroup}"}]},
	  {"name": "rest", "to": [{"sink": "s3", "prefix": "apps"}]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	msg := func(group string) *subscription.Message {
		return &subscription.Message{
			Owner: "111111111111", LogGroup: group, LogStream: "s", SubscriptionFilters: []string{"f"},
			LogEvents: []subscription.LogEvent{{ID: "1", Timestamp: 5, Message: `a "quoted" line`}, {ID: "2", Timestamp: 6, Message: "b"}},
		}
	}
	b := &sink.Batch{Routes: tbl, Records: []sink.DecodedRecord{
		{SequenceNumber: "1", Message: msg("/aws/cloudtrail/org"), Route: 0},
		{SequenceNumber: "2", Message: msg("/app"), Route: 1},
	}}
	var out bytes.Buffer
	if res := New(&out).Deliver(context.Background(), b); res.Err != nil || res.Delivered != 4 {
		t.Fatalf("Deliver = %+v", res)
	}
	want := [][]string{
		{"s3", "firehose:siem", "logs:eu-west-1:/security/{logGroup}"}, {"s3", "firehose:siem", "logs:eu-west-1:/security/{logGroup}"},
		{"s3:apps"}, {"s3:apps"},
	}
	lines := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.Bytes())
	}
	for i, line := range lines {
		var got struct {
			record.Event
			Targets []string `json:"targets"`
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, line)
		}
		if !slices.Equal(got.Targets, want[i]) {
			t.Errorf("line %d: targets %q, want %q", i, got.Targets, want[i])
		}
		r := &b.Records[i/2]
		plain := record.AppendJSON(nil, r.Message, &r.Message.LogEvents[i%2])
		if !bytes.HasPrefix(line, plain[:len(plain)-1]) {
			t.Errorf("line %d changed the record fields:\n got %s\nwant %s", i, line, plain)
		}
	}

	// Without routes, the line is exactly the record.
	out.Reset()
	b.Routes = nil
	New(&out).Deliver(context.Background(), b)
	if bytes.Contains(out.Bytes(), []byte(`"targets"`)) {
		t.Errorf("unrouted lines gained targets: %s", out.Bytes())
	}
}
