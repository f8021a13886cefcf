package onfailure

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/uuid"

	"github.com/logfan/logfan/internal/ops/eventsource"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/subscription"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseLambdaS3Record reads the documented Kinesis invocation record, with
// the payload an S3 destination adds, down to the log events it carries.
func TestParseLambdaS3Record(t *testing.T) {
	r, err := Parse(readFixture(t, "kinesis-s3.json"))
	if err != nil {
		t.Fatal(err)
	}
	bi := r.KinesisBatchInfo
	if r.RequestContext.Condition != "RetryAttemptsExhausted" || r.ResponseContext.FunctionError != "Unhandled" || r.Version != "1.0" {
		t.Fatalf("contexts: %+v %+v", r.RequestContext, r.ResponseContext)
	}
	if bi.ShardID != "shardId-000000000001" || bi.BatchSize != 2 || bi.StreamARN != "arn:aws:kinesis:us-east-2:123456789012:stream/mystream" {
		t.Fatalf("batch info: %+v", bi)
	}
	inv, err := invocation.Parse(r.Payload)
	if err != nil {
		t.Fatalf("payload is not a Kinesis event: %v", err)
	}
	if len(inv.Records) != 2 || inv.Records[0].SequenceNumber != bi.StartSequenceNumber || inv.Records[1].SequenceNumber != bi.EndSequenceNumber {
		t.Fatalf("payload records do not match the batch info: %+v", inv.Records)
	}
	events := 0
	dec := subscription.NewDecoder(0)
	for _, rec := range inv.Records {
		m, err := dec.Decode(rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		events += len(m.LogEvents)
	}
	if events != 3 {
		t.Fatalf("%d events in the payload, want 3", events)
	}
}

func TestParseVariants(t *testing.T) {
	s3rec, err := Parse(readFixture(t, "kinesis-s3.json"))
	if err != nil {
		t.Fatal(err)
	}
	objectForm, _ := json.Marshal(map[string]any{"KinesisBatchInfo": s3rec.KinesisBatchInfo, "payload": json.RawMessage(s3rec.Payload)})
	tests := []struct {
		name        string
		in          []byte
		wantPayload bool
		wantErr     error
	}{
		{"S3 destination: payload as an escaped string", readFixture(t, "kinesis-s3.json"), true, nil},
		{"SQS/SNS destination: metadata only", readFixture(t, "kinesis-sqs.json"), false, nil},
		{"payload as an object", objectForm, true, nil},
		{"an asynchronous invocation record", []byte(`{"requestContext":{"condition":"RetriesExhausted"},"requestPayload":{}}`), false, ErrNotKinesis},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := len(r.Payload) > 0; got != tc.wantPayload {
				t.Fatalf("payload present = %v, want %v", got, tc.wantPayload)
			}
			if tc.wantPayload && string(r.Payload) != string(s3rec.Payload) {
				t.Fatalf("payload differs")
			}
		})
	}
	if _, err := Parse([]byte("not json")); err == nil {
		t.Fatal("Parse accepted garbage")
	}
}

func TestFromDiscardedRoundTrip(t *testing.T) {
	t1 := time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC)
	t2 := t1.Add(1500 * time.Millisecond)
	recs := []types.Record{
		{SequenceNumber: aws.String("7"), PartitionKey: aws.String("a"), Data: []byte("one"), ApproximateArrivalTimestamp: &t1},
		{SequenceNumber: aws.String("12"), PartitionKey: aws.String("b"), Data: []byte("two"), ApproximateArrivalTimestamp: &t2},
	}
	src := invocation.EventSource{StreamARN: "arn:aws:kinesis:us-east-1:999999999999:stream/logfan", ShardID: "shardId-000000000003"}
	payload, _, err := eventsource.Event(src, recs, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := Discarded{
		StreamARN: src.StreamARN, ShardID: src.ShardID, FunctionARN: "arn:aws:lambda:us-east-1:999999999999:function:logfan-s3",
		RequestID: "req", Condition: ConditionRetriesExhausted, InvokeCount: 11, Records: recs, Payload: payload, Time: t2,
	}
	b, err := json.Marshal(FromDiscarded(d))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := BatchInfo{
		ShardID: "shardId-000000000003", StartSequenceNumber: "7", EndSequenceNumber: "12",
		ApproximateArrivalOfFirstRecord: "2026-05-01T10:00:00.123Z", ApproximateArrivalOfLastRecord: "2026-05-01T10:00:01.623Z",
		BatchSize: 2, StreamARN: src.StreamARN,
	}
	if *got.KinesisBatchInfo != want {
		t.Fatalf("batch info\n got %+v\nwant %+v", *got.KinesisBatchInfo, want)
	}
	if got.Timestamp != "2026-05-01T10:00:01.623Z" || got.RequestContext.ApproximateInvokeCount != 11 || got.ResponseContext.FunctionError != "" {
		t.Fatalf("record %+v", got)
	}
	if string(got.Payload) != string(payload) {
		t.Fatal("payload did not survive the round trip")
	}
	// The payload is stored as a string, as Lambda stores it.
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(b, &raw)
	if raw["payload"][0] != '"' {
		t.Fatalf("payload stored as %c..., want a JSON string", raw["payload"][0])
	}
}

func TestKeyIsLambdas(t *testing.T) {
	k := Key("0c2c4cd5-1a4e-4f1e-8d0a-3c0c1b2a3d4e", "shardId-000000000001", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), uuid.NewString())
	re := regexp.MustCompile(`^aws/lambda/0c2c4cd5-1a4e-4f1e-8d0a-3c0c1b2a3d4e/shardId-000000000001/2026/01/02/2026-01-02T03\.04\.05-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !re.MatchString(k) {
		t.Fatalf("key %s", k)
	}
}
