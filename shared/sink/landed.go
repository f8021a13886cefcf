package sink

import (
	"strconv"
	"strings"
)

// Unit is a part of one record's events that landed in a sink although the
// batch ended with a retry point before it. The consumer keeps units in the
// ledger under the record's sequence number and, when Lambda re-delivers
// the record, hands the sink the record without those events.
type Unit struct {
	// Record is the index in Batch.Records of the record.
	Record int
	// Key names the events that landed. It is opaque to the consumer's
	// ledger, which only stores it; EventsKey is the form the sinks use, and
	// a sink that fans out to several targets can prefix it with the target.
	Key string
}

// EventsKey is the Unit key for the events from..to-1 of a record, counted
// in the record as it is in the stream (the indexes a re-delivery keeps,
// since a Kinesis record never changes), not in a Message an earlier
// attempt's events were left out of.
func EventsKey(from, to int) string {
	return "e" + strconv.Itoa(from) + "-" + strconv.Itoa(to)
}

// ParseEventsKey reverses EventsKey; ok is false for any other key.
func ParseEventsKey(key string) (from, to int, ok bool) {
	rest, found := strings.CutPrefix(key, "e")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, false
	}
	from, err1 := strconv.Atoi(a)
	to, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || from < 0 || to <= from {
		return 0, 0, false
	}
	return from, to, true
}

// Landing collects which events of the records from one index on landed,
// and turns them into Units. The zero value is unusable; see NewLanding.
type Landing struct {
	from   int
	events [][]bool // per record from `from` on: landed per event
	counts []int
}

// NewLanding returns a Landing for the records of b from index from on.
func NewLanding(b *Batch, from int) *Landing {
	if from < 0 || from > len(b.Records) {
		from = len(b.Records)
	}
	return &Landing{from: from, events: make([][]bool, len(b.Records)-from), counts: make([]int, len(b.Records)-from)}
}

// Add notes that event ev (an index in the record's Message) of record rec
// landed; records before the Landing's first are ignored.
func (l *Landing) Add(b *Batch, rec, ev int) {
	k := rec - l.from
	if k < 0 || k >= len(l.events) {
		return
	}
	if l.events[k] == nil {
		l.events[k] = make([]bool, len(b.Records[rec].Message.LogEvents))
	}
	if ev >= 0 && ev < len(l.events[k]) && !l.events[k][ev] {
		l.events[k][ev] = true
		l.counts[k]++
	}
}

// Units returns what landed as one Unit per run of events consecutive in
// the record as it is in the stream (see DecodedRecord.EventIndex).
func (l *Landing) Units(b *Batch) []Unit {
	var us []Unit
	for k, evs := range l.events {
		if l.counts[k] == 0 {
			continue
		}
		r := &b.Records[l.from+k]
		start, end := -1, -1
		for i, ok := range evs {
			if !ok {
				continue
			}
			o := r.EventIndex(i)
			if o == end {
				end++
				continue
			}
			if start >= 0 {
				us = append(us, Unit{Record: l.from + k, Key: EventsKey(start, end)})
			}
			start, end = o, o+1
		}
		us = append(us, Unit{Record: l.from + k, Key: EventsKey(start, end)})
	}
	return us
}

// Without returns r without the events keys name (EventsKey keys; others
// are ignored), with Origin set so that EventIndex still gives each
// remaining event's index in the record as it is in the stream, and how
// many events it left out. A key naming events the record never had is
// ignored: the events are delivered again rather than risk leaving out one
// that never landed.
func Without(r DecodedRecord, keys []string) (DecodedRecord, int) {
	n := len(r.Message.LogEvents)
	var landed map[int]bool // by index in the stream's record
	for _, k := range keys {
		from, to, ok := ParseEventsKey(k)
		if !ok || (r.Origin == nil && to > n) {
			continue
		}
		if n == 0 {
			break
		}
		if landed == nil {
			landed = map[int]bool{}
		}
		// Events past the last one left are of no interest (and bound the work).
		for e := from; e < min(to, r.EventIndex(n-1)+1); e++ {
			landed[e] = true
		}
	}
	if landed == nil {
		return r, 0
	}
	m := *r.Message
	m.LogEvents = nil
	origin := make([]int32, 0, n)
	skipped := 0
	for i := range n {
		if landed[r.EventIndex(i)] {
			skipped++
			continue
		}
		m.LogEvents = append(m.LogEvents, r.Message.LogEvents[i])
		origin = append(origin, int32(r.EventIndex(i)))
	}
	if skipped == 0 {
		return r, 0
	}
	r.Message, r.Origin = &m, origin
	return r, skipped
}
