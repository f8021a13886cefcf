package poller

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// DefaultMaxPayload is Lambda's limit on a synchronous invocation's request
// payload (6 MB): the event source mapping shrinks a batch to fit it.
const DefaultMaxPayload = 6 * 1024 * 1024

// Source names the stream and function an event claims, as Lambda fills
// eventSourceARN, awsRegion and invokeIdentityArn.
type Source struct {
	// StreamARN is the stream's ARN.
	StreamARN string
	// ShardID is the shard the records come from.
	ShardID string
	// RoleARN is the function's execution role (invokeIdentityArn).
	RoleARN string
}

// EventRecord builds one record of the Lambda Kinesis event from a record
// GetRecords returned, with its real sequence number, partition key and
// arrival time (Lambda sends it in seconds with millisecond precision).
func EventRecord(src Source, r types.Record) events.KinesisEventRecord {
	seq := aws.ToString(r.SequenceNumber)
	var arrival time.Time
	if r.ApproximateArrivalTimestamp != nil {
		arrival = r.ApproximateArrivalTimestamp.Truncate(time.Millisecond)
	}
	enc := ""
	if r.EncryptionType == types.EncryptionTypeKms {
		enc = string(types.EncryptionTypeKms)
	}
	return events.KinesisEventRecord{
		AwsRegion:         regionOf(src.StreamARN),
		EventID:           src.ShardID + ":" + seq,
		EventName:         "aws:kinesis:record",
		EventSource:       "aws:kinesis",
		EventSourceArn:    src.StreamARN,
		EventVersion:      "1.0",
		InvokeIdentityArn: src.RoleARN,
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival},
			Data:                        r.Data,
			EncryptionType:              enc,
			PartitionKey:                aws.ToString(r.PartitionKey),
			SequenceNumber:              seq,
			KinesisSchemaVersion:        "1.0",
		},
	}
}

// Event marshals the Lambda Kinesis event for recs, taking records in order
// while the payload stays within maxPayload bytes (at least one record, so
// that an oversized record is still offered rather than skipped). It returns
// the payload and how many records it holds.
func Event(src Source, recs []types.Record, maxPayload int) ([]byte, int, error) {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	const head, tail = `{"Records":[`, `]}`
	var buf bytes.Buffer
	buf.WriteString(head)
	n := 0
	for _, r := range recs {
		b, err := json.Marshal(EventRecord(src, r))
		if err != nil {
			return nil, 0, fmt.Errorf("encode Kinesis event record %s: %w", aws.ToString(r.SequenceNumber), err)
		}
		size := buf.Len() + len(b) + len(tail)
		if n > 0 {
			size++ // the comma
		}
		if n > 0 && size > maxPayload {
			break
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
		n++
	}
	buf.WriteString(tail)
	return buf.Bytes(), n, nil
}

// regionOf returns an ARN's region ("" if it has none).
func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// compareSeq orders two Kinesis sequence numbers: they are decimal integers
// of up to 128 bits whose text length varies (moto issues "1", "2", ...,
// Kinesis 56 digits), so string order is wrong.
func compareSeq(a, b string) int {
	x, okx := new(big.Int).SetString(a, 10)
	y, oky := new(big.Int).SetString(b, 10)
	if !okx || !oky {
		return strings.Compare(a, b)
	}
	return x.Cmp(y)
}
