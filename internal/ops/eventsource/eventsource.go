// Package eventsource is the Lambda Kinesis event source mapping's side of an
// invocation: the Kinesis event it builds from the records GetRecords
// returned, within Lambda's payload limit. logfan redrive builds it to offer
// re-read records to a handler, and the emulator's poller (internal/devkit/poller)
// to run handlers locally, so both offer exactly what Lambda would.
package eventsource

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/logfan/logfan/shared/invocation"
)

// DefaultMaxPayload is Lambda's limit on a synchronous invocation's request
// payload (6 MB): the event source mapping shrinks a batch to fit it.
const DefaultMaxPayload = 6 * 1024 * 1024

// streamRecord is what the Lambda event says of a record GetRecords
// returned: its real sequence number, partition key, arrival time and
// encryption.
func streamRecord(r types.Record) invocation.StreamRecord {
	return invocation.StreamRecord{
		SequenceNumber: aws.ToString(r.SequenceNumber),
		PartitionKey:   aws.ToString(r.PartitionKey),
		Arrival:        aws.ToTime(r.ApproximateArrivalTimestamp),
		Data:           r.Data,
		Encrypted:      r.EncryptionType == types.EncryptionTypeKms,
	}
}

// Event marshals the Lambda Kinesis event for recs, taking records in order
// while the payload stays within maxPayload bytes (at least one record, so
// that an oversized record is still offered rather than skipped). It returns
// the payload and how many records it holds.
func Event(src invocation.EventSource, recs []types.Record, maxPayload int) ([]byte, int, error) {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	const head, tail = `{"Records":[`, `]}`
	var buf bytes.Buffer
	buf.WriteString(head)
	n := 0
	for _, r := range recs {
		b, err := json.Marshal(invocation.KinesisEventRecord(src, streamRecord(r)))
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
