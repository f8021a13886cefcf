// Package quarantine keeps what logfan can never deliver, with the reason,
// so that nothing is dropped silently and everything can be redriven later.
package quarantine

import "context"

// Kinds of quarantined entry.
const (
	// KindRecord is a whole Kinesis record that could not be decoded; Data is its raw bytes.
	KindRecord = "record"
	// KindEvent is one log event a sink could not deliver; Data is its NDJSON line (record schema).
	KindEvent = "event"
)

// Entry is one quarantined item.
type Entry struct {
	// Kind is KindRecord or KindEvent.
	Kind string
	// Sink is the sink that gave up on an event; empty for undecodable records.
	Sink string
	// Target is the route target the event could not reach (routes.Target.Name); empty without routes.
	Target string
	// Shard is the Kinesis shard ID.
	Shard string
	// SequenceNumber is the Kinesis sequence number of the record.
	SequenceNumber string
	// EventID is the log event's ID (KindEvent only).
	EventID string
	// Reason says why it was quarantined.
	Reason string
	// Data is the raw record data (KindRecord) or the event's NDJSON line (KindEvent).
	Data []byte
}

// Quarantine stores entries. Put must be idempotent: putting the same entry
// twice (a retried batch) stores it once.
type Quarantine interface {
	Put(ctx context.Context, e Entry) error
}
