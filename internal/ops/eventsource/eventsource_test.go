package eventsource

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/logfan/logfan/shared/invocation"
)

func recs(seqs ...string) []types.Record {
	out := make([]types.Record, len(seqs))
	for i, s := range seqs {
		out[i] = types.Record{SequenceNumber: aws.String(s), PartitionKey: aws.String("pk"), Data: []byte("d" + s)}
	}
	return out
}

func TestEventIsLambdasShape(t *testing.T) {
	arrival := time.Date(2026, 3, 1, 12, 0, 0, 987654321, time.UTC)
	src := invocation.EventSource{StreamARN: "arn:aws:kinesis:eu-west-1:999999999999:stream/logfan", ShardID: "shardId-000000000001", RoleARN: "arn:aws:iam::999999999999:role/fn"}
	in := recs("49650000000000000000000000000000000000000000000000000007")
	in[0].ApproximateArrivalTimestamp = &arrival
	in[0].EncryptionType = types.EncryptionTypeKms
	payload, n, err := Event(src, in, 0)
	if err != nil || n != 1 {
		t.Fatalf("Event: n=%d err=%v", n, err)
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	r := ev.Records[0]
	want := events.KinesisEventRecord{
		AwsRegion: "eu-west-1", EventID: "shardId-000000000001:49650000000000000000000000000000000000000000000000000007",
		EventName: "aws:kinesis:record", EventSource: "aws:kinesis", EventSourceArn: src.StreamARN, EventVersion: "1.0",
		InvokeIdentityArn: src.RoleARN,
	}
	got := r
	got.Kinesis = events.KinesisRecord{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("record envelope\n got %+v\nwant %+v", got, want)
	}
	k := r.Kinesis
	if string(k.Data) != "d"+*in[0].SequenceNumber || k.PartitionKey != "pk" || k.KinesisSchemaVersion != "1.0" || k.EncryptionType != "KMS" {
		t.Fatalf("kinesis part %+v", k)
	}
	// Lambda sends seconds with millisecond precision.
	if !strings.Contains(string(payload), `"approximateArrivalTimestamp":1772366400.987,`) {
		t.Fatalf("arrival not in seconds with milliseconds: %s", payload)
	}
	// And the consumer's own parser reads it.
	inv, err := invocation.Parse(payload)
	if err != nil || len(inv.Records) != 1 || inv.Records[0].ShardID() != src.ShardID {
		t.Fatalf("invocation.Parse: %+v, %v", inv, err)
	}
}

func TestEventRespectsMaxPayload(t *testing.T) {
	in := recs("1", "2", "3", "4", "5")
	for i := range in {
		in[i].Data = make([]byte, 3000)
	}
	src := invocation.EventSource{StreamARN: "arn:aws:kinesis:us-east-1:1:stream/s", ShardID: "shardId-000000000000"}
	one, _, err := Event(src, in[:1], 0)
	if err != nil {
		t.Fatal(err)
	}
	// k records take len(envelope) + k*rec + (k-1) commas bytes.
	const envelope = len(`{"Records":[]}`)
	rec := len(one) - envelope
	size := func(k int) int { return envelope + k*rec + k - 1 }
	tests := []struct {
		max, want int
	}{
		{size(1), 1},
		{size(2) - 1, 1},
		{size(2), 2},
		{size(4), 4},
		{1, 1}, // an oversized record is still offered alone
		{1 << 30, 5},
	}
	for _, tc := range tests {
		payload, n, err := Event(src, in, tc.max)
		if err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("max %d: %d records, want %d", tc.max, n, tc.want)
		}
		if n > 1 && len(payload) > tc.max {
			t.Errorf("max %d: payload of %d bytes", tc.max, len(payload))
		}
		var ev events.KinesisEvent
		if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) != n {
			t.Errorf("max %d: payload does not parse to %d records: %v", tc.max, n, err)
		}
	}
}
