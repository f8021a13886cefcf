// Package quarantine keeps what logfan can never deliver, with the reason,
// so that nothing is dropped silently and everything can be redriven later.
package quarantine

import (
	"context"
	"strconv"
)

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
	// EventID is the log event's ID (KindEvent only). It is not the
	// entry's identity: a sender can repeat an ID or leave it empty.
	EventID string
	// Event is the event's index in its record as the record is in the
	// stream (KindEvent only): with the record's sequence number, the sink
	// and the target, the entry's identity.
	Event int
	// Reason says why it was quarantined.
	Reason string
	// Data is the raw record data (KindRecord) or the event's NDJSON line (KindEvent).
	Data []byte
}

// Identity is what makes two entries the same entry: Kind, Sink, Target,
// Shard, SequenceNumber and Event, not Reason or Data (a retried batch may
// word a reason differently) and not EventID (senders repeat IDs).
func (e *Entry) Identity() string {
	return e.Kind + "\x00" + e.Sink + "\x00" + e.Target + "\x00" + e.Shard + "\x00" + e.SequenceNumber + "\x00" + strconv.Itoa(e.Event)
}

// Quarantine stores entries. Put must be idempotent: putting the same entry
// twice (a retried batch) stores it once; entries are the same when their
// Identity is.
type Quarantine interface {
	Put(ctx context.Context, e Entry) error
}
