package firehosesink

import (
	"bytes"

	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/sink"
)

// span says how many events (and NDJSON bytes) of one Kinesis record a
// Firehose record carries, so that a landed Firehose record can be credited
// to the Kinesis records its events came from.
type span struct {
	rec    int // index in Batch.Records
	from   int // index of the first event in the record's LogEvents; the events are consecutive
	events int
	bytes  int
}

// fhRecord is one Firehose record: NDJSON lines, each ending in '\n', so
// that records concatenate cleanly into the destination's objects.
type fhRecord struct {
	data []byte
	// first is the lowest Batch.Records index of the events packed here:
	// what FailedAt must cover if this record never lands.
	first int
	spans []span
}

// call is the set of Firehose records one PutRecordBatch sends.
type call struct {
	recs  []fhRecord
	bytes int // sum of len(data): the 4 MiB rule counts bytes before base64
}

// oversize is an event whose NDJSON line alone exceeds the record limit.
type oversize struct {
	rec, event int
	line       []byte // a copy: the packer's arena is reused
}

// packer turns a batch's events, in stream order, into Firehose records and
// PutRecordBatch calls within the limits, one call at a time, so memory
// stays at about one call's worth however big the batch is.
type packer struct {
	b      *sink.Batch
	lim    Limits
	single bool

	i, j int // cursor: the next event is b.Records[i].Message.LogEvents[j]

	arena []byte // NDJSON of the call being built; records are sub-slices
	spans []span // spans of the call being built; records hold sub-slices

	open       bool // a record is being filled at arena[openStart:]
	openStart  int
	openSpans  int // index in spans of the open record's first span
	openEvents int
}

func newPacker(b *sink.Batch, lim Limits, single bool, arena []byte) *packer {
	return &packer{b: b, lim: lim, single: single, arena: arena[:0]}
}

// exhausted reports whether every event has been placed in a call or handed
// back as oversize.
func (p *packer) exhausted() bool {
	p.skipEmpty()
	return p.i >= len(p.b.Records)
}

// cursorRecord is the lowest Batch.Records index with an event not yet
// placed in a call, or len(Records) when none is left.
func (p *packer) cursorRecord() int {
	p.skipEmpty()
	return p.i
}

func (p *packer) skipEmpty() {
	for p.i < len(p.b.Records) && (p.b.Records[p.i].Message == nil || p.j >= len(p.b.Records[p.i].Message.LogEvents)) {
		p.i++
		p.j = 0
	}
}

// startCall resets the arena for a new call. Only valid once no record of
// the previous call is still waiting to be resent, since records alias it.
func (p *packer) startCall(c *call) {
	p.arena = p.arena[:0]
	p.spans = p.spans[:0]
	c.recs = c.recs[:0]
	c.bytes = 0
}

// fill adds records to c until c is full or the events run out. It returns
// early with an event whose line alone exceeds the record limit; the caller
// reports it undeliverable and calls fill again to go on with the same call.
func (p *packer) fill(c *call) *oversize {
	for {
		p.skipEmpty()
		if p.i >= len(p.b.Records) {
			p.closeOpen(c)
			return nil
		}
		m := p.b.Records[p.i].Message
		start := len(p.arena)
		p.arena = record.AppendLine(p.arena, m, &m.LogEvents[p.j])
		n := len(p.arena) - start
		if n > p.lim.RecordBytes {
			// Splitting a line would break the one-JSON-object-per-line
			// contract readers rely on, so the event is reported undeliverable whole.
			o := &oversize{rec: p.i, event: p.j, line: bytes.Clone(p.arena[start:])}
			p.arena = p.arena[:start]
			p.j++
			return o
		}
		if p.open && (p.single || len(p.arena)-p.openStart > p.lim.RecordBytes || c.bytes+len(p.arena)-p.openStart > p.lim.CallBytes) {
			// The line does not fit the open record: close the record just
			// before it. The line already sits right after it in the arena,
			// where the next record starts.
			p.closeAt(c, start)
		}
		if !p.open {
			if len(c.recs) >= p.lim.Records || c.bytes+n > p.lim.CallBytes {
				// The call is full; drop the rendered line and render it
				// again for the next call (one line per call, cheaper than
				// moving it across arenas).
				p.arena = p.arena[:start]
				return nil
			}
			p.open, p.openStart, p.openSpans, p.openEvents = true, start, len(p.spans), 0
		}
		if k := len(p.spans) - 1; k >= p.openSpans && p.spans[k].rec == p.i && p.spans[k].from+p.spans[k].events == p.j {
			p.spans[k].events++
			p.spans[k].bytes += n
		} else {
			p.spans = append(p.spans, span{rec: p.i, from: p.j, events: 1, bytes: n})
		}
		p.openEvents++
		p.j++
	}
}

func (p *packer) closeOpen(c *call) { p.closeAt(c, len(p.arena)) }

func (p *packer) closeAt(c *call, end int) {
	if !p.open {
		return
	}
	p.open = false
	sp := p.spans[p.openSpans:len(p.spans):len(p.spans)]
	c.recs = append(c.recs, fhRecord{data: p.arena[p.openStart:end:end], first: sp[0].rec, spans: sp})
	c.bytes += end - p.openStart
}

// arenaSize is the arena capacity worth allocating up front for b: about
// the NDJSON of its first call, at most a full call and some lines past it.
// One allocation of the right size instead of append doubling from a small
// pooled arena (the pool rarely survives the collections an invocation's
// decoding triggers) saves a few MB of garbage per invocation.
func arenaSize(b *sink.Batch, lim Limits) int {
	limit := lim.CallBytes + lim.CallBytes/16
	n := 0
	for i := range b.Records {
		m := b.Records[i].Message
		if m == nil {
			continue
		}
		// The fields every line repeats, and the keys, quotes and digits around them.
		per := len(m.Owner) + len(m.LogGroup) + len(m.LogStream) + len(m.PolicyLevel) + len(m.Region) + len(m.HubAccount) + 180
		for _, f := range m.SubscriptionFilters {
			per += len(f) + 3
		}
		for k := range m.LogEvents {
			ev := &m.LogEvents[k]
			// An eighth more for escapes, as JSON inside messages needs.
			n += per + len(ev.ID) + len(ev.Message) + len(ev.Message)/8 + len(ev.ExtractedFields)
			if n >= limit {
				return limit
			}
		}
	}
	return n
}
