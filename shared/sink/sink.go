// Package sink defines the contract between the consumer handler and the
// services log events are delivered to.
package sink

import (
	"context"

	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/subscription"
)

// DecodedRecord is one DATA_MESSAGE Kinesis record, decoded.
type DecodedRecord struct {
	// SequenceNumber is the Kinesis sequence number, the identifier Lambda retries from.
	SequenceNumber string
	// Message is the decoded subscription payload.
	Message *subscription.Message
	// Route is the index, in Batch.Routes, of the route the record matched
	// (meaningful only when Batch.Routes is set).
	Route int
	// Targets are the indexes, in Batch.Routes.Targets(sink name), of the
	// targets of this sink the record goes to; nil means the sink's one
	// default target (no routes configured).
	Targets []int
	// Origin is nil, or, when an earlier attempt already delivered some of
	// the record's events and they were left out of Message, the index each
	// remaining event had in the record as it is in the stream.
	Origin []int32
}

// EventIndex is the index event i of Message has in the record as it is in
// the stream, which a retry of the record does not change.
func (r *DecodedRecord) EventIndex(i int) int {
	if r.Origin == nil {
		return i
	}
	return int(r.Origin[i])
}

// Copies is how many deliveries the record's events are owed: one per target.
func (r *DecodedRecord) Copies() int { return max(1, len(r.Targets)) }

// Batch is what one invocation hands a sink: the decodable DATA_MESSAGE
// records of one shard, in stream order.
type Batch struct {
	// ShardID is the Kinesis shard the records came from (e.g. shardId-000000000000).
	ShardID string
	// Records are in stream order; control messages, poison records and
	// records routed to none of this sink's targets are not here.
	Records []DecodedRecord
	// Routes is the route table the records were routed by, or nil.
	Routes *routes.Table
	// Landed lists what an earlier attempt delivered of these records that
	// the consumer could not leave out itself: keys a sink made for one of
	// its targets (Fanout's), which that sink honours (see Unit).
	Landed []Unit
}

// Events counts the log events in b.
func (b *Batch) Events() int {
	n := 0
	for i := range b.Records {
		n += len(b.Records[i].Message.LogEvents)
	}
	return n
}

// Undeliverable is one event a sink can never deliver (over a service limit,
// refused by the service). The sink reports it; the consumer writes it to
// the quarantine with Reason, or retries its record if that write fails.
type Undeliverable struct {
	// Record is the index in Batch.Records of the event's record.
	Record int
	// Event is the index of the event in that record's LogEvents.
	Event int
	// Target names the route target the event could not reach ("" without routes).
	Target string
	// Kind is a short, stable name of the cause, counted in metrics (e.g. "tooOld").
	Kind string
	// Reason says in full why the event cannot be delivered.
	Reason string
}

// Result says what became of a batch. Every delivery an event is owed (one
// per target, see DecodedRecord.Copies) is counted in exactly one of
// Delivered, Undeliverable, or the records from FailedAt on.
type Result struct {
	// Delivered counts the events that landed (once per target).
	Delivered int
	// Undeliverable lists the events the sink can never deliver, for the
	// consumer to quarantine. Events of records from FailedAt on are not listed.
	Undeliverable []Undeliverable
	// Bytes counts the payload bytes delivered.
	Bytes int64
	// Retries counts calls the sink repeated after a retryable failure.
	Retries int
	// FailedAt is the index in Batch.Records of the first record whose events
	// did not all land (Lambda must retry from it), or -1 when none failed.
	FailedAt int
	// Err says why FailedAt is set.
	Err error
	// Landed lists, when FailedAt is set, what of the records from FailedAt
	// on did land, so that the retry can skip it (see Unit).
	Landed []Unit
}

// Sink delivers batches of log events to one service.
type Sink interface {
	// Name is the sink's short name (s3, firehose, logs, stdout), used in logs and metrics.
	Name() string
	// Deliver delivers b and reports what landed, what never can, and from
	// which record Lambda must retry; it does not drop events. A panic in
	// Deliver (or in a goroutine it joins through Group) fails the whole
	// batch, which is retried.
	Deliver(ctx context.Context, b *Batch) Result
}
