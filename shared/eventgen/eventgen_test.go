package eventgen

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestDeterministicAndDecodable(t *testing.T) {
	src := Source{Owner: "111111111111", LogGroup: "/aws/lambda/app", LogStream: "2026/01/01/[$LATEST]abc", Kind: KindCloudTrail}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := MustPayload(New(7).Message(src, 50, start, time.Second, 0))
	b := MustPayload(New(7).Message(src, 50, start, time.Second, 0))
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different payloads")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var got events.CloudwatchLogsData
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("payload is not the CloudWatch Logs shape: %v", err)
	}
	if got.Owner != src.Owner || got.LogGroup != src.LogGroup || len(got.LogEvents) != 50 {
		t.Fatalf("got owner %q group %q with %d events", got.Owner, got.LogGroup, len(got.LogEvents))
	}
	seen := map[string]bool{}
	for _, e := range got.LogEvents {
		if seen[e.ID] {
			t.Fatalf("duplicate event id %s", e.ID)
		}
		seen[e.ID] = true
		if !json.Valid([]byte(e.Message)) {
			t.Fatalf("cloudtrail message is not JSON: %s", e.Message)
		}
	}
}

func TestKinesisEventShape(t *testing.T) {
	j, err := KinesisEventJSON(Stream{}, [][]byte{[]byte("a"), []byte("b")})
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
