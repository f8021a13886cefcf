package invocation_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/shared/invocation"
)

// TestKinesisEventRoundTrip: what KinesisEvent builds, marshalled, Parse
// reads back field for field.
func TestKinesisEventRoundTrip(t *testing.T) {
	src := invocation.EventSource{
		StreamARN: "arn:aws:kinesis:eu-west-3:123456789012:stream/logfan",
		ShardID:   "shardId-000000000002",
		RoleARN:   "arn:aws:iam::123456789012:role/consumer",
	}
	arrival := time.Date(2026, 3, 1, 12, 0, 0, 123_456_789, time.UTC)
	recs := []invocation.StreamRecord{
		{SequenceNumber: "49650000000000000000000000000000000000000000000000000000", PartitionKey: "k1", Arrival: arrival, Data: []byte{0x1f, 0x8b, 0, 1, 2}, Encrypted: true},
		{SequenceNumber: "7", PartitionKey: "", Arrival: arrival.Add(time.Second), Data: nil},
	}
	ev := invocation.KinesisEvent(src, recs)
	if r := ev.Records[0]; r.AwsRegion != "eu-west-3" || r.Kinesis.EncryptionType != "KMS" || r.InvokeIdentityArn != src.RoleARN ||
		r.EventSource != "aws:kinesis" || ev.Records[1].Kinesis.EncryptionType != "" {
		t.Errorf("Lambda's fields: %+v", ev.Records)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := invocation.Parse(payload)
	if err != nil {
		t.Fatal(err)
	}
	if inv.IsAWSLogs || len(inv.Records) != len(recs) {
		t.Fatalf("parsed %+v", inv)
	}
	for i, r := range recs {
		got := inv.Records[i]
		// Milliseconds, as Lambda sends them (the float's last digit may differ).
		wantArrival := float64(r.Arrival.Truncate(time.Millisecond).UnixMilli()) / 1000
		if got.EventID != src.ShardID+":"+r.SequenceNumber || got.EventSourceARN != src.StreamARN || got.SequenceNumber != r.SequenceNumber ||
			got.PartitionKey != r.PartitionKey || !bytes.Equal(got.Data, r.Data) || got.ShardID() != src.ShardID || math.Abs(got.ApproximateArrivalTimestamp-wantArrival) > 1e-6 {
			t.Errorf("record %d: parsed %+v from %+v", i, got, r)
		}
	}

	empty, _ := json.Marshal(invocation.KinesisEvent(src, nil))
	if string(empty) != `{"Records":[]}` {
		t.Errorf("empty batch = %s", empty)
	}
}

func TestAWSLogsEventRoundTrip(t *testing.T) {
	data := []byte{0x1f, 0x8b, 8, 0, 'x', 0xff}
	payload, err := json.Marshal(invocation.AWSLogsEvent(data))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := invocation.Parse(payload)
	if err != nil || !inv.IsAWSLogs || !bytes.Equal(inv.AWSLogsData, data) {
		t.Fatalf("Parse(%s) = %+v, %v", payload, inv, err)
	}
}

func TestKinesisEventShape(t *testing.T) {
	j, err := invocation.KinesisEventJSON(invocation.Stream{}, [][]byte{[]byte("a"), []byte("b")})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(j, &ev); err != nil {
		t.Fatal(err)
	}
	r0, r1 := ev.Records[0], ev.Records[1]
	if string(r1.Kinesis.Data) != "b" || r0.EventID != "shardId-000000000000:"+r0.Kinesis.SequenceNumber {
		t.Fatalf("unexpected records: %+v", ev.Records)
	}
	if len(r0.Kinesis.SequenceNumber) != 56 || r0.Kinesis.SequenceNumber >= r1.Kinesis.SequenceNumber {
		t.Fatalf("sequence numbers not 56-digit increasing: %s, %s", r0.Kinesis.SequenceNumber, r1.Kinesis.SequenceNumber)
	}
}
