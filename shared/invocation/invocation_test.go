package invocation_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/subscription"
)

// TestParseKinesisExample parses the Kinesis event of the Lambda docs.
func TestParseKinesisExample(t *testing.T) {
	inv, err := invocation.Parse(readFixture(t, "kinesis_event.json"))
	if err != nil {
		t.Fatal(err)
	}
	if inv.IsAWSLogs || inv.AWSLogsData != nil || len(inv.Records) != 2 {
		t.Fatalf("got %+v, want 2 Kinesis records", inv)
	}
	want := []invocation.KinesisRecord{
		{
			EventID:        "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
			EventSourceARN: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
			SequenceNumber: "49590338271490256608559692538361571095921575989136588898",
			PartitionKey:   "1", ApproximateArrivalTimestamp: 1545084650.987,
			Data: []byte("Hello, this is a test."),
		},
		{
			EventID:        "shardId-000000000006:49590338271490256608559692540925702759324208523137515618",
			EventSourceARN: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
			SequenceNumber: "49590338271490256608559692540925702759324208523137515618",
			PartitionKey:   "1", ApproximateArrivalTimestamp: 1545084711.166,
			Data: []byte("This is only a test."),
		},
	}
	for i, w := range want {
		if diff := sameRecord(&inv.Records[i], &w); diff != "" {
			t.Errorf("record %d: %s", i, diff)
		}
		if got := inv.Records[i].ShardID(); got != "shardId-000000000006" {
			t.Errorf("record %d: ShardID %q", i, got)
		}
	}
}

// TestParseAWSLogsExample parses the awslogs example event of the Lambda
// docs and decodes its data with the same decoder as a Kinesis record.
func TestParseAWSLogsExample(t *testing.T) {
	inv, err := invocation.Parse(readFixture(t, "cloudwatch_logs_event.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !inv.IsAWSLogs || inv.Records != nil {
		t.Fatalf("got %+v, want an awslogs event", inv)
	}
	m, err := subscription.NewDecoder(0).Decode(inv.AWSLogsData)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageType != subscription.DataMessage || m.Owner != "123456789123" || m.LogGroup != "testLogGroup" ||
		m.LogStream != "testLogStream" || len(m.SubscriptionFilters) != 1 || m.SubscriptionFilters[0] != "testFilter" {
		t.Errorf("got %+v", m)
	}
	want := []subscription.LogEvent{
		{ID: "eventId1", Timestamp: 1440442987000, Message: "[ERROR] First test message"},
		{ID: "eventId2", Timestamp: 1440442987001, Message: "[ERROR] Second test message"},
	}
	if len(m.LogEvents) != len(want) {
		t.Fatalf("%d events", len(m.LogEvents))
	}
	for i := range want {
		if g := m.LogEvents[i]; g.ID != want[i].ID || g.Timestamp != want[i].Timestamp || g.Message != want[i].Message {
			t.Errorf("event %d: %+v", i, g)
		}
	}
}

func TestParseEmptyBatch(t *testing.T) {
	inv, err := invocation.Parse([]byte(`{"Records":[]}`))
	if err != nil || inv.IsAWSLogs || inv.Records == nil || len(inv.Records) != 0 {
		t.Fatalf("got %+v, %v; want an empty Kinesis batch", inv, err)
	}
}

func TestParseErrors(t *testing.T) {
	record := func(kinesis string) string {
		return `{"Records":[{"eventID":"shardId-000000000000:1","eventSourceARN":"arn","kinesis":{` + kinesis + `}}]}`
	}
	tests := []struct {
		name    string
		payload string
		kinds   []error
		detail  string
	}{
		{"empty", ``, []error{invocation.ErrMalformed}, "parse Lambda event"},
		{"not JSON", `hello`, []error{invocation.ErrMalformed}, "cannot parse JSON"},
		{"truncated", `{"Records":[{"kinesis":{"sequenceNumber":"1"`, []error{invocation.ErrMalformed}, "parse Lambda event"},
		{"trailing data", `{"Records":[]} {}`, []error{invocation.ErrMalformed}, "unexpected tail"},
		{"array", `[]`, []error{invocation.ErrUnknownEvent}, "want a JSON object, got array"},
		{"number", `42`, []error{invocation.ErrUnknownEvent}, "got number"},
		{"empty object", `{}`, []error{invocation.ErrUnknownEvent}, "not a Kinesis or awslogs event"},
		{"null Records", `{"Records":null}`, []error{invocation.ErrUnknownEvent}, ""},
		{"S3 event", `{"Records":[{"eventSource":"aws:s3","s3":{}}]}`, []error{invocation.ErrUnknownEvent}, "record 0: not a Kinesis or awslogs event: no kinesis object"},
		{"Records object", `{"Records":{}}`, []error{invocation.ErrMalformed}, "Records: want an array, got object"},
		{"record string", `{"Records":["x"]}`, []error{invocation.ErrMalformed}, "record 0: malformed Lambda event: want an object, got string"},
		{"no sequence number", record(`"data":""`), []error{invocation.ErrMalformed}, "record 0 (shardId-000000000000:1): malformed Lambda event: kinesis.sequenceNumber is missing or empty"},
		{"empty sequence number", record(`"sequenceNumber":""`), []error{invocation.ErrMalformed}, "record 0 (shardId-000000000000:1): malformed Lambda event: kinesis.sequenceNumber is missing or empty"},
		{"numeric sequence number", record(`"sequenceNumber":1`), []error{invocation.ErrMalformed}, "sequenceNumber: want a string, got number"},
		{"eventID number", `{"Records":[{"eventID":5,"kinesis":{"sequenceNumber":"1"}}]}`, []error{invocation.ErrMalformed}, "record 0: malformed Lambda event: eventID: want a string, got number"},
		{"data not base64", record(`"sequenceNumber":"1","data":"H4sI!!!!"`), []error{invocation.ErrMalformed}, "record 0 (shardId-000000000000:1): malformed Lambda event: kinesis.data: illegal base64 data at input byte 4"},
		{"data number", record(`"sequenceNumber":"1","data":12`), []error{invocation.ErrMalformed}, "kinesis.data: want a base64 string, got number"},
		{"arrival string", record(`"sequenceNumber":"1","approximateArrivalTimestamp":"now"`), []error{invocation.ErrMalformed}, "approximateArrivalTimestamp: want a number, got string"},
		{"awslogs without data", `{"awslogs":{}}`, []error{invocation.ErrUnknownEvent}, "awslogs event: not a Kinesis or awslogs event: empty data"},
		{"awslogs empty data", `{"awslogs":{"data":""}}`, []error{invocation.ErrUnknownEvent}, "empty data"},
		{"awslogs data number", `{"awslogs":{"data":1}}`, []error{invocation.ErrMalformed}, "awslogs.data: want a string, got number"},
		{"awslogs data not base64", `{"awslogs":{"data":"%%%%"}}`, []error{invocation.ErrMalformed}, "awslogs.data: illegal base64 data at input byte 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := invocation.Parse([]byte(tt.payload))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", inv)
			}
			for _, k := range tt.kinds {
				if !errors.Is(err, k) {
					t.Errorf("error %q is not %v", err, k)
				}
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not say %q", err, tt.detail)
			}
		})
	}
}

// TestParseMatchesBaseline parses generated events with Parse and with
// encoding/json into aws-lambda-go's KinesisEvent and requires the same
// records, and then the same log events from every record.
func TestParseMatchesBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive, on one goroutine: -race finds nothing more here; the run without -short covers it")
	}
	d := subscription.NewDecoder(0)
	for seed, shape := range [][2]int{{1, 1}, {3, 50}, {100, 100}, {500, 2}} {
		g := generate(t, uint64(seed), shape[0], shape[1])
		inv, err := invocation.Parse(g.payload)
		if err != nil {
			t.Fatal(err)
		}
		var base events.KinesisEvent
		if err := json.Unmarshal(g.payload, &base); err != nil {
			t.Fatal(err)
		}
		if len(inv.Records) != len(base.Records) || len(inv.Records) != shape[0] {
			t.Fatalf("%d records, baseline %d, generated %d", len(inv.Records), len(base.Records), shape[0])
		}
		events := 0
		for i, b := range base.Records {
			want := invocation.KinesisRecord{
				EventID: b.EventID, EventSourceARN: b.EventSourceArn, SequenceNumber: b.Kinesis.SequenceNumber,
				PartitionKey: b.Kinesis.PartitionKey, Data: b.Kinesis.Data,
				ApproximateArrivalTimestamp: float64(b.Kinesis.ApproximateArrivalTimestamp.UnixNano()) / 1e9,
			}
			if diff := sameRecord(&inv.Records[i], &want); diff != "" {
				t.Fatalf("record %d: %s", i, diff)
			}
			m, err := d.Decode(inv.Records[i].Data)
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			events += len(m.LogEvents)
		}
		if events != g.events {
			t.Errorf("decoded %d events, generated %d", events, g.events)
		}
	}
}

// TestParseOwnsMemory: an Invocation stays intact after later Parse calls
// reuse the pooled scratch, and a record's Data cannot grow into the next.
func TestParseOwnsMemory(t *testing.T) {
	g := generate(t, 9, 20, 5)
	first, err := invocation.Parse(g.payload)
	if err != nil {
		t.Fatal(err)
	}
	snapshot := make([]invocation.KinesisRecord, len(first.Records))
	for i, r := range first.Records {
		snapshot[i] = r
		snapshot[i].Data = bytes.Clone(r.Data)
	}
	for seed := range uint64(5) {
		if _, err := invocation.Parse(generate(t, 100+seed, 30, 5).payload); err != nil {
			t.Fatal(err)
		}
		if _, err := invocation.Parse([]byte(`{"Records":[{"kinesis":{"sequenceNumber":"1","data":"%%"}}]}`)); err == nil {
			t.Fatal("data that is not base64 parsed")
		}
	}
	_ = append(first.Records[0].Data, bytes.Repeat([]byte{'X'}, 64)...)
	for i := range snapshot {
		if diff := sameRecord(&first.Records[i], &snapshot[i]); diff != "" {
			t.Fatalf("record %d changed: %s", i, diff)
		}
	}
}

// TestParseAllocs: allocations per invocation do not grow with records.
func TestParseAllocs(t *testing.T) {
	if raceEnabled || testing.CoverMode() != "" {
		t.Skip("allocation counts differ under -race (sync.Pool drops items) and -cover")
	}
	g := generate(t, 5, 100, 100)
	if _, err := invocation.Parse(g.payload); err != nil { // warm the pool
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := invocation.Parse(g.payload); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%d-byte event with %d records, %d events, %d bytes of subscription JSON: %.0f allocs", len(g.payload), g.records, g.events, g.uncompressed, allocs)
	if allocs > 16 {
		t.Errorf("%.0f allocations per invocation, want a small constant (<= 16)", allocs)
	}
}

func sameRecord(got, want *invocation.KinesisRecord) string {
	if got.EventID != want.EventID || got.EventSourceARN != want.EventSourceARN || got.SequenceNumber != want.SequenceNumber ||
		got.PartitionKey != want.PartitionKey || math.Abs(got.ApproximateArrivalTimestamp-want.ApproximateArrivalTimestamp) > 0.0005 ||
		!bytes.Equal(got.Data, want.Data) {
		return "got " + describe(got) + ", want " + describe(want)
	}
	if cap(got.Data) != len(got.Data) {
		return "Data is not capped at its length"
	}
	return ""
}

func describe(r *invocation.KinesisRecord) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// TestParseMissingSequenceNumberSaysItOnce: a Kinesis record without its
// sequence number is a malformed Kinesis event, said plainly, once; it is
// not "not a Kinesis event".
func TestParseMissingSequenceNumberSaysItOnce(t *testing.T) {
	_, err := invocation.Parse([]byte(`{"Records":[{"eventID":"shardId-000000000000:1","kinesis":{"data":""}}]}`))
	want := "record 0 (shardId-000000000000:1): malformed Lambda event: kinesis.sequenceNumber is missing or empty"
	if err == nil || err.Error() != want || errors.Is(err, invocation.ErrUnknownEvent) {
		t.Errorf("got %v, want exactly %q (and not ErrUnknownEvent)", err, want)
	}
}
