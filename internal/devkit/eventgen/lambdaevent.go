package eventgen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Stream describes the Kinesis stream generated events claim to come from.
type Stream struct {
	// ARN is the stream ARN (default: a placeholder stream in us-east-1).
	ARN string
	// ShardID is the shard (default shardId-000000000000).
	ShardID string
	// FirstSequence is the first record's sequence number as decimal text
	// (default: a 56-digit number like the ones Kinesis issues).
	FirstSequence string
	// Arrival is the first record's approximate arrival time (default 2026-01-01).
	Arrival time.Time
}

// DefaultStreamARN is the placeholder stream ARN of generated events.
const DefaultStreamARN = "arn:aws:kinesis:us-east-1:999999999999:stream/logfan"

// KinesisEvent builds the Lambda Kinesis event delivering datas as
// consecutive records of one shard, exactly as Lambda shapes it.
func KinesisEvent(s Stream, datas [][]byte) events.KinesisEvent {
	if s.ARN == "" {
		s.ARN = DefaultStreamARN
	}
	if s.ShardID == "" {
		s.ShardID = "shardId-000000000000"
	}
	if s.FirstSequence == "" {
		s.FirstSequence = "49650000000000000000000000000000000000000000000000000000"
	}
	if s.Arrival.IsZero() {
		s.Arrival = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	seq, ok := new(big.Int).SetString(s.FirstSequence, 10)
	if !ok {
		seq = big.NewInt(0)
	}
	region := "us-east-1"
	if a := splitARN(s.ARN); len(a) > 3 {
		region = a[3]
	}
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, len(datas))}
	for i, d := range datas {
		// Sequence numbers grow by 2^32-ish steps in real shards; any increasing value will do.
		n := new(big.Int).Add(seq, big.NewInt(int64(i)*1000))
		sn := fmt.Sprintf("%056s", n.String())
		ev.Records[i] = events.KinesisEventRecord{
			AwsRegion:         region,
			EventID:           s.ShardID + ":" + sn,
			EventName:         "aws:kinesis:record",
			EventSource:       "aws:kinesis",
			EventSourceArn:    s.ARN,
			EventVersion:      "1.0",
			InvokeIdentityArn: "arn:aws:iam::999999999999:role/logfan-consumer",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: s.Arrival.Add(time.Duration(i) * time.Millisecond)},
				Data:                        d,
				EncryptionType:              "KMS",
				PartitionKey:                fmt.Sprintf("%032x", i),
				SequenceNumber:              sn,
				KinesisSchemaVersion:        "1.0",
			},
		}
	}
	return ev
}

func splitARN(arn string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(arn); i++ {
		if arn[i] == ':' {
			parts = append(parts, arn[start:i])
			start = i + 1
		}
	}
	return append(parts, arn[start:])
}

// KinesisEventJSON is KinesisEvent marshalled, indented for readability.
func KinesisEventJSON(s Stream, datas [][]byte) ([]byte, error) {
	b, err := json.MarshalIndent(KinesisEvent(s, datas), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode Kinesis event: %w", err)
	}
	return b, nil
}

// AWSLogsEventJSON builds the direct-subscription Lambda event for a payload.
func AWSLogsEventJSON(payload []byte) ([]byte, error) {
	ev := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(payload)}}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode awslogs event: %w", err)
	}
	return b, nil
}
