package logssink

import (
	"cmp"
	"slices"

	"github.com/logfan/logfan/shared/jsonstr"
)

// PutLogEvents limits, from the API reference
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html)
// and /work/shared/docs/aws-limits.md.
const (
	// EventOverhead is what PutLogEvents adds to each event's UTF-8 message
	// bytes when it sizes a batch: "plus 26 bytes for each log event".
	EventOverhead = 26
	// DefaultMaxBatchBytes is the batch size limit: "The maximum batch size is
	// 1,048,576 bytes", counted as message bytes plus EventOverhead per event.
	DefaultMaxBatchBytes = 1_048_576
	// DefaultMaxBatchEvents is "The maximum number of log events in a batch is 10,000".
	DefaultMaxBatchEvents = 10_000
	// DefaultMaxSpanMillis is the longest time span of one batch: "A batch of
	// log events in a single request cannot span more than 24 hours" (newer
	// docs: "the time span in a single batch cannot exceed 24 hours"). A span
	// of exactly 24 h does not exceed it, so last-first == 86,400,000 ms is
	// allowed and 86,400,001 ms is split.
	DefaultMaxSpanMillis = 24 * 60 * 60 * 1000
	// DefaultMaxMessageBytes is the largest message sent: CloudWatch Logs
	// takes events of up to 1 MB, counted like the batch (UTF-8 message
	// bytes plus EventOverhead), so one event may fill a whole batch:
	// 1,048,576 - 26 = 1,048,550 message bytes. Should the service refuse
	// an event under it anyway, the refusal is an InvalidParameterException
	// that the sink bisects down to that event, which is then quarantined
	// with the service's reason (RejectedInvalidParameter): never lost.
	DefaultMaxMessageBytes = DefaultMaxBatchBytes - EventOverhead
	// LegacyMaxMessageBytes is the message limit under the older 256 KB
	// event size ("Each log event can be no larger than 256 KB", the
	// overhead included: 262,144 - 26, where the CloudWatch agent truncates),
	// for WithLimits where that limit still applies.
	LegacyMaxMessageBytes = 256*1024 - EventOverhead
)

// Limits are the PutLogEvents limits the sink batches within. Every field
// must be positive; DefaultLimits gives the documented values.
type Limits struct {
	// MaxBatchEvents caps the events per PutLogEvents call.
	MaxBatchEvents int
	// MaxBatchBytes caps the sum of UTF-8 message bytes plus EventOverhead per event.
	MaxBatchBytes int
	// MaxSpanMillis caps last-first timestamp in one call (inclusive: a span equal to it is allowed).
	MaxSpanMillis int64
	// MaxMessageBytes caps one event's UTF-8 message bytes; larger events are undeliverable.
	MaxMessageBytes int
}

// DefaultLimits returns the documented PutLogEvents limits.
func DefaultLimits() Limits {
	return Limits{
		MaxBatchEvents:  DefaultMaxBatchEvents,
		MaxBatchBytes:   DefaultMaxBatchBytes,
		MaxSpanMillis:   DefaultMaxSpanMillis,
		MaxMessageBytes: DefaultMaxMessageBytes,
	}
}

// event is one log event on its way to a target stream.
type event struct {
	ts  int64
	msg string // as sent: valid UTF-8
	rec int32  // index of its record in the sink.Batch
	idx int32  // index in that record's Message.LogEvents
}

// eventSize is what an event counts toward MaxBatchBytes.
func eventSize(msg string) int { return len(msg) + EventOverhead }

// repairUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD (3 bytes), one replacement per invalid byte
// (jsonstr.Repair, which every sink uses), and whether it replaced any.
// That is exactly what the SDK's JSON serializer sends for such a byte
// (smithy-go's awsJson ShapeSerializer; TestInvalidUTF8AsTheSDKSendsIt
// checks it), so the returned string is what CloudWatch Logs stores and its
// length is what the service counts. Valid input is returned as is, without
// allocating.
func repairUTF8(s string) (string, bool) {
	r := jsonstr.Repair(s)
	// Each replacement turns one byte into three, so any makes r longer.
	return r, len(r) != len(s)
}

// sortEvents orders events by timestamp, keeping arrival order among equal
// timestamps (PutLogEvents requires chronological order; stability makes
// the order, and so the rejected-event indexes, deterministic).
func sortEvents(evs []event) {
	if slices.IsSortedFunc(evs, byTimestamp) {
		return
	}
	slices.SortStableFunc(evs, byTimestamp)
}

func byTimestamp(a, b event) int { return cmp.Compare(a.ts, b.ts) }

// span is a half-open range [start, end) of a target's sorted events: one
// PutLogEvents call.
type span struct{ start, end int }

// pack cuts sorted events into PutLogEvents batches, greedily, in order:
// a batch ends before the event that would take it over MaxBatchEvents or
// MaxBatchBytes, or make last-first exceed MaxSpanMillis. Every event must
// already fit alone (eventSize <= MaxBatchBytes). It appends to dst.
func pack(dst []span, evs []event, lim Limits) []span {
	start, bytes := 0, 0
	for i := range evs {
		size := eventSize(evs[i].msg)
		if i > start && (i-start >= lim.MaxBatchEvents || bytes+size > lim.MaxBatchBytes || evs[i].ts-evs[start].ts > lim.MaxSpanMillis) {
			dst = append(dst, span{start, i})
			start, bytes = i, 0
		}
		bytes += size
	}
	if start < len(evs) {
		dst = append(dst, span{start, len(evs)})
	}
	return dst
}
