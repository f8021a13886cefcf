// Package sink defines the contract between the consumer handler and the
// services log events are delivered to.
package sink

import (
	"context"

	"github.com/logfan/logfan/shared/subscription"
)

// Record is one DATA_MESSAGE Kinesis record, decoded.
type Record struct {
	// SequenceNumber is the Kinesis sequence number, the identifier Lambda retries from.
	SequenceNumber string
	// Message is the decoded subscription payload.
	Message *subscription.Message
}

// Batch is what one invocation hands a sink: the decodable DATA_MESSAGE
// records of one shard, in stream order.
type Batch struct {
	// ShardID is the Kinesis shard the records came from (e.g. shardId-000000000000).
	ShardID string
	// Records are in stream order; control messages and poison records are not here.
	Records []Record
}

// Events counts the log events in b.
func (b *Batch) Events() int {
	n := 0
	for i := range b.Records {
		n += len(b.Records[i].Message.LogEvents)
	}
	return n
}

// Result says what became of a batch. Every event of the batch is counted in
// exactly one of Delivered, Quarantined, or the records from FailedAt on.
type Result struct {
	// Delivered counts the events that landed.
	Delivered int
	// Quarantined counts events the sink could never deliver (over a service
	// limit, rejected by the service) and wrote to the quarantine with a reason.
	Quarantined int
	// Rejected counts quarantined events by the reason the service gave.
	Rejected map[string]int
	// Bytes counts the payload bytes delivered.
	Bytes int64
	// Retries counts calls the sink repeated after a retryable failure.
	Retries int
	// FailedAt is the index in Batch.Records of the first record whose events
	// did not all land (Lambda must retry from it), or -1 when none failed.
	FailedAt int
	// Err says why FailedAt is set.
	Err error
}

// Sink delivers batches of log events to one service.
type Sink interface {
	// Name is the sink's short name (s3, firehose, logs, stdout), used in logs and metrics.
	Name() string
	// Deliver delivers b and reports what landed; it never panics and reports
	// failures through Result.FailedAt rather than dropping events.
	Deliver(ctx context.Context, b *Batch) Result
}
