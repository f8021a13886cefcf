package invocation

import (
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Stream describes the Kinesis stream a built sample event claims to come
// from (sample events, tests, benchmarks and the local tools build them).
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

// DefaultStreamARN is the placeholder stream ARN of built sample events.
const DefaultStreamARN = "arn:aws:kinesis:us-east-1:999999999999:stream/logfan"

// roleARN is the placeholder execution role built sample events name.
const roleARN = "arn:aws:iam::999999999999:role/logfan-consumer"

// NewKinesisEvent builds the Lambda Kinesis event delivering datas as
// consecutive records of one shard (KinesisEvent), with generated sequence
// numbers, partition keys and arrival times.
func NewKinesisEvent(s Stream, datas [][]byte) events.KinesisEvent {
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
	recs := make([]StreamRecord, len(datas))
	for i, d := range datas {
		// Sequence numbers grow by 2^32-ish steps in real shards; any increasing value will do.
		n := new(big.Int).Add(seq, big.NewInt(int64(i)*1000))
		recs[i] = StreamRecord{
			SequenceNumber: fmt.Sprintf("%056s", n.String()),
			PartitionKey:   fmt.Sprintf("%032x", i),
			Arrival:        s.Arrival.Add(time.Duration(i) * time.Millisecond),
			Data:           d,
			Encrypted:      true,
		}
	}
	return KinesisEvent(EventSource{StreamARN: s.ARN, ShardID: s.ShardID, RoleARN: roleARN}, recs)
}

// KinesisEventJSON is NewKinesisEvent marshalled, indented for readability.
func KinesisEventJSON(s Stream, datas [][]byte) ([]byte, error) {
	b, err := json.MarshalIndent(NewKinesisEvent(s, datas), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode Kinesis event: %w", err)
	}
	return b, nil
}

// AWSLogsEventJSON is AWSLogsEvent marshalled, indented for readability.
func AWSLogsEventJSON(payload []byte) ([]byte, error) {
	b, err := json.MarshalIndent(AWSLogsEvent(payload), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode awslogs event: %w", err)
	}
	return b, nil
}
