// Package invocation parses the Lambda event payloads a logfan consumer
// receives: a Kinesis batch, or a direct CloudWatch Logs subscription
// ({"awslogs":{"data":"..."}}). It reads only the fields logfan uses.
//
// Parsing a 6 MB batch of 10,000 records costs a handful of allocations,
// not several per record: the JSON is parsed with a pooled fastjson Parser,
// every record's data is base64-decoded into one shared buffer, and every
// record's strings are slices of one string. A record's Data therefore
// shares its backing array with its neighbours (each slice is capped, so
// appending to one copies rather than overwrites the next); keeping any of
// them keeps the batch's data alive, which matches how a consumer uses them.
//
// The awslogs data of a direct subscription is the same gzip payload a
// Kinesis record carries: decode it with subscription.Decoder.Decode.
package invocation

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/valyala/fastjson"
)

// ErrUnknownEvent means the payload is neither a Kinesis batch nor an awslogs event.
var ErrUnknownEvent = errors.New("not a Kinesis or awslogs event")

// ErrMalformed means the payload is not JSON, or a field logfan reads has the wrong type or encoding.
var ErrMalformed = errors.New("malformed Lambda event")

// Invocation is one parsed Lambda event: either Records (Kinesis) or AWSLogsData is set.
type Invocation struct {
	// Records are the Kinesis records, in stream order.
	Records []KinesisRecord
	// AWSLogsData is the gzip payload of a direct subscription event (already base64-decoded).
	AWSLogsData []byte
	// IsAWSLogs reports a direct subscription event.
	IsAWSLogs bool
}

// KinesisRecord is one Kinesis record of a Lambda event, its data base64-decoded.
type KinesisRecord struct {
	// EventID is "<shardId>:<sequenceNumber>".
	EventID string
	// EventSourceARN is the stream's ARN.
	EventSourceARN string
	// SequenceNumber is the record's sequence number.
	SequenceNumber string
	// PartitionKey is the record's partition key.
	PartitionKey string
	// ApproximateArrivalTimestamp is seconds since the epoch, as Lambda sends it.
	ApproximateArrivalTimestamp float64
	// Data is the record's data, base64-decoded.
	Data []byte
}

// ShardID returns the shard the record came from, taken from EventID.
func (r *KinesisRecord) ShardID() string {
	if i := strings.LastIndexByte(r.EventID, ':'); i > 0 {
		return r.EventID[:i]
	}
	return "unknown-shard"
}

// state is the reusable scratch of one Parse call.
type state struct {
	p     fastjson.Parser
	arena []byte
	recs  []recordSpans
}

// recordSpans holds a record's strings as [off, end) ranges of state.arena
// while the arena is still growing, and its data's base64 text.
type recordSpans struct {
	eventID, arn, seq, key [2]int
	arrival                float64
	b64                    []byte
}

var states = sync.Pool{New: func() any { return new(state) }}

// maxPooled is the largest scratch a pooled state keeps between calls; the
// Lambda payload limit is 6 MB, so typical batches always fit.
const maxPooled = 8 << 20

// Parse parses a Lambda event payload. The Invocation owns its memory: it
// stays valid after later calls.
func Parse(payload []byte) (*Invocation, error) {
	st := states.Get().(*state)
	defer func() {
		if cap(st.arena) > maxPooled {
			st.arena = nil
		}
		clear(st.recs) // drop references into the parser's copy of the payload
		st.recs = st.recs[:0]
		states.Put(st)
	}()

	v, err := st.p.ParseBytes(payload)
	if err != nil {
		return nil, fmt.Errorf("parse Lambda event: %w: %w", ErrMalformed, err)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("parse Lambda event: %w: want a JSON object, got %s", ErrUnknownEvent, v.Type())
	}
	if aw := v.Get("awslogs"); aw != nil && aw.Type() != fastjson.TypeNull {
		return parseAWSLogs(aw)
	}
	recs := v.Get("Records")
	if recs == nil || recs.Type() == fastjson.TypeNull {
		return nil, ErrUnknownEvent
	}
	arr, err := recs.Array()
	if err != nil {
		return nil, fmt.Errorf("parse Lambda event: %w: Records: want an array, got %s", ErrMalformed, recs.Type())
	}
	return st.records(arr)
}

func parseAWSLogs(aw *fastjson.Value) (*Invocation, error) {
	d := aw.Get("data")
	if d == nil || d.Type() == fastjson.TypeNull {
		return nil, fmt.Errorf("awslogs event: %w: empty data", ErrUnknownEvent)
	}
	b64, err := d.StringBytes()
	if err != nil {
		return nil, fmt.Errorf("awslogs event: %w: awslogs.data: want a string, got %s", ErrMalformed, d.Type())
	}
	data := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(data, b64)
	if err != nil {
		return nil, fmt.Errorf("awslogs event: %w: awslogs.data: %w", ErrMalformed, err)
	}
	if n == 0 {
		// Empty, or only line breaks (which base64 skips).
		return nil, fmt.Errorf("awslogs event: %w: empty data", ErrUnknownEvent)
	}
	return &Invocation{AWSLogsData: data[:n:n], IsAWSLogs: true}, nil
}

// records builds the Records in two passes: the first checks every record
// and sizes the shared string arena and data buffer, the second fills them.
func (st *state) records(arr []*fastjson.Value) (*Invocation, error) {
	st.arena = st.arena[:0]
	dataLen := 0
	for i, r := range arr {
		if r.Type() != fastjson.TypeObject {
			return nil, fmt.Errorf("record %d: %w: want an object, got %s", i, ErrMalformed, r.Type())
		}
		var rs recordSpans
		var err error
		if rs.eventID, err = st.str(r, "eventID"); err != nil {
			return nil, recordErr(i, "", err)
		}
		// Only error paths need the id as a string; don't allocate one per record.
		eventID := func() string { return string(st.arena[rs.eventID[0]:rs.eventID[1]]) }
		if rs.arn, err = st.arnStr(r, i); err != nil {
			return nil, recordErr(i, eventID(), err)
		}
		k := r.Get("kinesis")
		if k == nil || k.Type() != fastjson.TypeObject {
			// Another service's event (S3, SQS, ...) also has Records.
			return nil, fmt.Errorf("%s: %w: no kinesis object", recordName(i, eventID()), ErrUnknownEvent)
		}
		if rs.seq, err = st.str(k, "sequenceNumber"); err != nil {
			return nil, recordErr(i, eventID(), err)
		}
		if rs.seq[0] == rs.seq[1] {
			// A Kinesis record without the one field that checkpoints it.
			return nil, recordErr(i, eventID(), errors.New("kinesis.sequenceNumber is missing or empty"))
		}
		if rs.key, err = st.str(k, "partitionKey"); err != nil {
			return nil, recordErr(i, eventID(), err)
		}
		if a := k.Get("approximateArrivalTimestamp"); a != nil && a.Type() != fastjson.TypeNull {
			if rs.arrival, err = a.Float64(); err != nil {
				return nil, recordErr(i, eventID(), fmt.Errorf("kinesis.approximateArrivalTimestamp: want a number, got %s", a.Type()))
			}
		}
		if d := k.Get("data"); d != nil && d.Type() != fastjson.TypeNull {
			if rs.b64, err = d.StringBytes(); err != nil {
				return nil, recordErr(i, eventID(), fmt.Errorf("kinesis.data: want a base64 string, got %s", d.Type()))
			}
		}
		dataLen += base64.StdEncoding.DecodedLen(len(rs.b64))
		st.recs = append(st.recs, rs)
	}

	arena := string(st.arena)
	data := make([]byte, dataLen)
	inv := &Invocation{Records: make([]KinesisRecord, len(st.recs))}
	off := 0
	for i := range st.recs {
		rs := &st.recs[i]
		out := &inv.Records[i]
		out.EventID = arena[rs.eventID[0]:rs.eventID[1]]
		out.EventSourceARN = arena[rs.arn[0]:rs.arn[1]]
		out.SequenceNumber = arena[rs.seq[0]:rs.seq[1]]
		out.PartitionKey = arena[rs.key[0]:rs.key[1]]
		out.ApproximateArrivalTimestamp = rs.arrival
		n, err := base64.StdEncoding.Decode(data[off:], rs.b64)
		if err != nil {
			return nil, recordErr(i, out.EventID, fmt.Errorf("kinesis.data: %w", err))
		}
		out.Data = data[off : off+n : off+n]
		off += n
	}
	return inv, nil
}

func recordErr(i int, eventID string, err error) error {
	return fmt.Errorf("%s: %w: %w", recordName(i, eventID), ErrMalformed, err)
}

// recordName names a record in errors by index and, if it has one, event ID.
func recordName(i int, eventID string) string {
	if eventID == "" {
		return fmt.Sprintf("record %d", i)
	}
	return fmt.Sprintf("record %d (%s)", i, eventID)
}

// str appends the string field key of o (absent or null: "") to the arena.
func (st *state) str(o *fastjson.Value, key string) ([2]int, error) {
	v := o.Get(key)
	if v == nil || v.Type() == fastjson.TypeNull {
		return [2]int{len(st.arena), len(st.arena)}, nil
	}
	b, err := v.StringBytes()
	if err != nil {
		return [2]int{}, fmt.Errorf("%s: want a string, got %s", key, v.Type())
	}
	off := len(st.arena)
	st.arena = append(st.arena, b...)
	return [2]int{off, len(st.arena)}, nil
}

// arnStr is str for eventSourceARN, which is the same for every record of a
// batch: it is stored once.
func (st *state) arnStr(o *fastjson.Value, i int) ([2]int, error) {
	if i > 0 {
		prev := st.recs[i-1].arn
		if v := o.Get("eventSourceARN"); v != nil && v.Type() == fastjson.TypeString {
			if b, _ := v.StringBytes(); string(b) == string(st.arena[prev[0]:prev[1]]) {
				return prev, nil
			}
		}
	}
	return st.str(o, "eventSourceARN")
}
