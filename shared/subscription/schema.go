package subscription

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
)

// This file is the payload schema: which fields a subscription message has,
// their types, which are required, and how they become a Message. The JSON
// grammar itself (strings, numbers, skipping values) is scanner.go's.
//
// Together they are a single-pass JSON parser specialised for the
// subscription payload. It validates the whole document (RFC 8259 grammar,
// except that bytes that are not UTF-8 are passed through), checks the shape
// of the fields logfan uses, and builds no tree.
//
// Memory trick: JSON unescaping never makes a string longer, and everything
// kept (ids, messages, names) appears in the document in order, so the parser
// compacts the unescaped contents of kept strings into the front of the
// decompressed buffer as it goes (write index w never passes read index r).
// At the end that prefix is copied into ONE string, and every field is a
// substring of it: no allocation per event. The buffer itself is the
// Decoder's and is reused by the next Decode; nothing handed out points
// into it.

// span is a half-open byte range [off, end).
type span struct{ off, end int }

// eventSpans is one log event while parsing: ranges into the compacted
// string arena (id, msg) or into parser.raw (raw).
type eventSpans struct {
	id, msg span
	raw     span
	ts      int64
	hasRaw  bool
	have    uint8
}

// Bits of eventSpans.have.
const (
	haveID = 1 << iota
	haveTimestamp
	haveMessage
)

// Bits of parser.have and parser.null: payload fields seen as a value of the
// right type, or as JSON null.
const (
	fType = 1 << iota
	fOwner
	fGroup
	fStream
	fFilters
	fEvents
	fPolicy
)

type parser struct {
	b    []byte // the decompressed payload; b[:w] is overwritten with kept strings
	r, w int

	have, null                            uint8
	msgType, owner, group, stream, policy span
	filters                               []span
	events                                []eventSpans
	raw                                   []byte // raw extractedFields objects, back to back
	keyBuf                                []byte // scratch for keys that contain escapes
	stack                                 []byte // open containers while skipping a value
	shape                                 *DecodeError

	// System fields (sysAccount, sysRegion): the payload's top-level
	// ones, and runs of events whose extractedFields carry the same ones,
	// in event order. Most payloads have none, and cost nothing here.
	top     [2]span
	haveTop uint8
	srcs    []eventSource
	// The last event's extractedFields when they were compact as sent
	// (in p.raw), and whether a run of srcs ends with that event: the
	// next event's are usually the same bytes, which need no parsing.
	sameEF    span
	sameEvent int // the event sameEF is of, plus one; 0: none
	sameRun   bool
}

// Indexes and bits of the system fields.
const (
	sysAccount = 0
	sysRegion  = 1
)

// eventSource is the system fields of the extractedFields of the events
// from..to-1. Events of one log stream share them, so a payload usually
// has one run, and the values are in the arena once.
type eventSource struct {
	from, to int
	val      [2]span // in the arena
	have     uint8   // 1<<sysAccount | 1<<sysRegion
}

// sysField returns the system field key names, or -1.
func sysField(key []byte) int {
	switch string(key) {
	case "@aws.account":
		return sysAccount
	case "@aws.region":
		return sysRegion
	}
	return -1
}

// decode parses the decompressed payload b into a Message that owns its memory.
func (p *parser) decode(b []byte) (*Message, error) {
	*p = parser{
		b:       b,
		filters: p.filters[:0],
		events:  p.events[:0],
		raw:     p.raw[:0],
		keyBuf:  p.keyBuf[:0],
		stack:   p.stack[:0],
		srcs:    p.srcs[:0],
	}
	defer func() {
		p.b = nil
		if cap(p.raw) > retainBuffer {
			p.raw = nil
		}
	}()
	if err := p.payload(); err != nil {
		return nil, err
	}
	return p.message()
}

func (p *parser) payload() error {
	p.skipWS()
	if p.r == len(p.b) {
		return decodeErr(ErrNotJSON, nil, "decompressed payload (%d bytes) holds no JSON value", len(p.b))
	}
	if c := p.b[p.r]; c != '{' {
		if err := p.skipValue(); err != nil {
			return err
		}
		if err := p.end(); err != nil {
			return err
		}
		return decodeErr(ErrShape, nil, "payload: want an object, got %s", kindOf(c))
	}
	p.r++
	for first := true; ; first = false {
		key, done, err := p.nextKey(first)
		if err != nil {
			return err
		}
		if done {
			return p.end()
		}
		switch string(key) {
		case "messageType":
			err = p.stringField(&p.msgType, fType, "messageType")
		case "owner":
			err = p.stringField(&p.owner, fOwner, "owner")
		case "logGroup":
			err = p.stringField(&p.group, fGroup, "logGroup")
		case "logStream":
			err = p.stringField(&p.stream, fStream, "logStream")
		case "policyLevel":
			err = p.stringField(&p.policy, fPolicy, "policyLevel")
		case "subscriptionFilters":
			err = p.filterList()
		case "logEvents":
			err = p.eventList()
		case "@aws.account":
			err = p.topSystemField(sysAccount)
		case "@aws.region":
			err = p.topSystemField(sysRegion)
		default:
			err = p.skipValue()
		}
		if err != nil {
			return err
		}
	}
}

// end checks that only whitespace follows the top-level value.
func (p *parser) end() error {
	p.skipWS()
	if p.r != len(p.b) {
		return decodeErr(ErrNotJSON, nil, "trailing data after the JSON value at offset %d: %s", p.r, clip(p.b[p.r:]))
	}
	return nil
}

// message checks the fields a message type requires and builds the Message.
// An unknown messageType wins over shape errors (another type may have
// another shape), and shape errors win over missing fields.
func (p *parser) message() (*Message, error) {
	typ := ""
	if p.have&fType != 0 {
		switch t := p.b[p.msgType.off:p.msgType.end]; string(t) {
		case DataMessage:
			typ = DataMessage
		case ControlMessage:
			typ = ControlMessage
		default:
			return nil, decodeErr(ErrUnknownType, nil, "%q", clip(t))
		}
	}
	if p.shape != nil {
		return nil, p.shape
	}
	if typ == "" {
		return nil, p.missing(fType, "messageType", "a string")
	}
	if typ == DataMessage {
		// A control message is a health check: it needs only its type.
		for _, f := range requiredData {
			if p.have&f.bit == 0 {
				return nil, p.missing(f.bit, f.name, f.want)
			}
		}
	}

	arena := string(p.b[:p.w])
	str := func(s span) string { return arena[s.off:s.end] }
	m := &Message{
		MessageType: typ,
		Owner:       str(p.owner),
		LogGroup:    str(p.group),
		LogStream:   str(p.stream),
		PolicyLevel: str(p.policy),
	}
	if p.have&fFilters != 0 {
		m.SubscriptionFilters = make([]string, len(p.filters))
		for i, s := range p.filters {
			m.SubscriptionFilters[i] = str(s)
		}
	}
	if typ == ControlMessage {
		return m, nil
	}
	var raw []byte
	m.LogEvents = make([]LogEvent, len(p.events))
	for i := range p.events {
		ev := &p.events[i]
		out := &m.LogEvents[i]
		out.ID, out.Timestamp, out.Message = str(ev.id), ev.ts, str(ev.msg)
		if ev.hasRaw {
			if raw == nil {
				raw = append([]byte(nil), p.raw...)
			}
			// Full slice expression: appending to one event's fields
			// must not overwrite the next event's.
			out.ExtractedFields = raw[ev.raw.off:ev.raw.end:ev.raw.end]
		}
	}
	if len(p.srcs) > 0 || p.haveTop != 0 {
		p.sources(m, str)
	}
	return m, nil
}

var requiredData = []struct {
	bit        uint8
	name, want string
}{
	{fOwner, "owner", "a string"},
	{fGroup, "logGroup", "a string"},
	{fStream, "logStream", "a string"},
	{fFilters, "subscriptionFilters", "an array of strings"},
	{fEvents, "logEvents", "an array of objects"},
}

func (p *parser) missing(bit uint8, name, want string) *DecodeError {
	if p.null&bit != 0 {
		return decodeErr(ErrShape, nil, "%s: want %s, got null", name, want)
	}
	return decodeErr(ErrShape, nil, "missing %s", name)
}

// setShape records the first shape problem; parsing goes on, so that a
// document that is not JSON at all is reported as such.
func (p *parser) setShape(format string, args ...any) {
	if p.shape == nil {
		p.shape = decodeErr(ErrShape, nil, format, args...)
	}
}

// stringField parses a string-valued payload field; null counts as absent.
func (p *parser) stringField(dst *span, bit uint8, name string) error {
	switch c := p.peek(); c {
	case '"':
		s, err := p.str()
		*dst = s
		p.have |= bit
		p.null &^= bit
		return err
	case 'n':
		*dst = span{}
		p.have &^= bit
		p.null |= bit
		return p.literal("null")
	default:
		p.setShape("%s: want a string, got %s", name, kindOf(c))
		return p.skipValue()
	}
}

// openArray starts an array-valued payload field: it consumes the '[' and
// reports true, or consumes a null (which counts as absent) or a value of
// the wrong kind (a shape error) and reports false.
func (p *parser) openArray(bit uint8, name, want string) (bool, error) {
	switch c := p.peek(); c {
	case '[':
		p.have |= bit
		p.null &^= bit
		p.r++
		return true, nil
	case 'n':
		p.have &^= bit
		p.null |= bit
		return false, p.literal("null")
	default:
		p.setShape("%s: want %s, got %s", name, want, kindOf(c))
		return false, p.skipValue()
	}
}

func (p *parser) filterList() error {
	p.filters = p.filters[:0]
	if open, err := p.openArray(fFilters, "subscriptionFilters", "an array of strings"); !open {
		return err
	}
	for i := 0; ; i++ {
		done, err := p.nextElem(i == 0)
		if err != nil || done {
			return err
		}
		if c := p.peek(); c == '"' {
			var s span
			s, err = p.str()
			p.filters = append(p.filters, s)
		} else {
			p.setShape("subscriptionFilters[%d]: want a string, got %s", i, kindOf(c))
			err = p.skipValue()
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) eventList() error {
	p.events = p.events[:0]
	p.raw = p.raw[:0]
	p.srcs, p.sameEvent = p.srcs[:0], 0 // a repeated logEvents replaces the events
	if open, err := p.openArray(fEvents, "logEvents", "an array of objects"); !open {
		return err
	}
	for i := 0; ; i++ {
		done, err := p.nextElem(i == 0)
		if err != nil || done {
			return err
		}
		if c := p.peek(); c == '{' {
			err = p.event(i)
		} else {
			p.setShape("logEvents[%d]: want an object, got %s", i, kindOf(c))
			err = p.skipValue()
		}
		if err != nil {
			return err
		}
	}
}

// event parses logEvents[idx], the parser being at its '{'.
func (p *parser) event(idx int) error {
	p.r++
	var ev eventSpans
	for first := true; ; first = false {
		key, done, err := p.nextKey(first)
		if err != nil {
			return err
		}
		if done {
			break
		}
		c := p.peek()
		switch string(key) {
		case "id":
			switch {
			case c == '"':
				ev.id, err = p.str()
				ev.have |= haveID
			case c == '-' || isDigit(c):
				// Emulators such as moto send a number: keep its text.
				ev.id, err = p.keepNumber()
				ev.have |= haveID
			default:
				p.setShape("logEvents[%d].id: want a string or a number, got %s", idx, kindOf(c))
				err = p.skipValue()
			}
		case "timestamp":
			if c == '-' || isDigit(c) {
				ev.ts, err = p.timestamp(idx)
				ev.have |= haveTimestamp
			} else {
				p.setShape("logEvents[%d].timestamp: want a number, got %s", idx, kindOf(c))
				err = p.skipValue()
			}
		case "message":
			if c == '"' {
				ev.msg, err = p.str()
				ev.have |= haveMessage
			} else {
				p.setShape("logEvents[%d].message: want a string, got %s", idx, kindOf(c))
				err = p.skipValue()
			}
		case "extractedFields":
			p.dropSource(len(p.events)) // a repeated field's last value wins
			switch c {
			case '{':
				err = p.extracted(&ev)
			case 'n':
				ev.hasRaw = false
				err = p.literal("null")
			default:
				p.setShape("logEvents[%d].extractedFields: want an object, got %s", idx, kindOf(c))
				err = p.skipValue()
			}
		default:
			err = p.skipValue()
		}
		if err != nil {
			return err
		}
	}
	switch {
	case ev.have&haveID == 0:
		p.setShape("logEvents[%d]: missing id", idx)
	case ev.have&haveTimestamp == 0:
		p.setShape("logEvents[%d]: missing timestamp", idx)
	case ev.have&haveMessage == 0:
		p.setShape("logEvents[%d]: missing message", idx)
	}
	p.events = append(p.events, ev)
	return nil
}

// extracted parses an event's extractedFields object, the parser being at
// its '{': the object goes compacted into p.raw, and the system fields
// among its members into p.srcs.
func (p *parser) extracted(ev *eventSpans) error {
	start := p.r
	idx := len(p.events)
	if p.sameEvent == idx && idx > 0 && (!p.sameRun || p.srcs[len(p.srcs)-1].to == idx) {
		// The previous event's object, byte for byte, is a complete
		// object: these bytes are one, valid and compact, with the same
		// system fields.
		prev := p.raw[p.sameEF.off:p.sameEF.end]
		if end := start + len(prev); end <= len(p.b) && string(p.b[start:end]) == string(prev) {
			if p.sameRun {
				p.srcs[len(p.srcs)-1].to++
			}
			off := len(p.raw)
			p.raw = append(p.raw, prev...)
			ev.raw, ev.hasRaw = span{off, len(p.raw)}, true
			p.sameEF, p.sameEvent = ev.raw, idx+1
			p.r = end
			return nil
		}
	}
	p.r++
	var at [2]span // each system field's string value, quotes included; off 0: none
	for first := true; ; first = false {
		// Fast path: filter patterns extract strings, and CloudWatch Logs
		// writes them compact: `"key":"value"` without escapes, then ','
		// or '}'. Anything else takes the general path from the same byte.
		if b, i := p.b, p.r; i < len(b) {
			if !first && b[i] == ',' {
				i++
			}
			if (first || i > p.r) && i < len(b) && b[i] == '"' {
				ke := plainEnd(b, i+1)
				if ke+2 < len(b) && b[ke] == '"' && b[ke+1] == ':' && b[ke+2] == '"' {
					if ve := plainEnd(b, ke+3); ve < len(b) && b[ve] == '"' {
						if k := sysField(b[i+1 : ke]); k >= 0 {
							at[k] = span{ke + 2, ve + 1}
						}
						p.r = ve + 1
						continue
					}
				}
			}
		}
		key, done, err := p.nextKey(first)
		if err != nil {
			return err
		}
		if done {
			break
		}
		// Filter patterns extract strings: skip those without the
		// general skipper's bookkeeping.
		k := sysField(key)
		switch {
		case p.peek() != '"':
			if k >= 0 {
				at[k] = span{} // the last value wins, and it is not a string
			}
			err = p.skipValue()
		case k < 0:
			err = p.skipString()
		default:
			at[k].off = p.r
			err = p.skipString()
			at[k].end = p.r
		}
		if err != nil {
			return err
		}
	}
	end := p.r
	off := len(p.raw)
	obj := p.b[start:end]
	p.sameEvent = 0
	if isCompact(obj) {
		p.raw = append(p.raw, obj...)
		p.sameEvent = idx + 1
	} else {
		p.raw = appendCompact(p.raw, obj)
	}
	ev.raw, ev.hasRaw = span{off, len(p.raw)}, true
	p.sameEF, p.sameRun = ev.raw, false
	if at[sysAccount].off|at[sysRegion].off == 0 {
		return nil
	}
	p.sameRun = true
	s := eventSource{from: idx, to: idx + 1}
	var last *eventSource
	if n := len(p.srcs); n > 0 && p.srcs[n-1].to == idx {
		last = &p.srcs[n-1]
	}
	// The object is copied, so the arena may now take its bytes: a value
	// the previous event had too is not copied again, and the others are
	// unescaped into it in document order, where the write index stays
	// behind each value's text as it does for every string.
	order := [2]int{sysAccount, sysRegion}
	if at[sysRegion].off != 0 && (at[sysAccount].off == 0 || at[sysRegion].off < at[sysAccount].off) {
		order = [2]int{sysRegion, sysAccount}
	}
	for _, k := range order {
		v := at[k]
		if v.off == 0 {
			continue
		}
		s.have |= 1 << k
		if last != nil && last.have&(1<<k) != 0 {
			text, prev := p.b[v.off+1:v.end-1], last.val[k]
			if string(text) == string(p.b[prev.off:prev.end]) && bytes.IndexByte(text, '\\') < 0 {
				s.val[k] = prev
				continue
			}
		}
		p.r = v.off
		val, err := p.str() // validated by skipString: cannot fail
		if err != nil {
			return err
		}
		s.val[k] = val
	}
	p.r = end
	if last != nil && last.have == s.have && last.val == s.val {
		last.to++
		return nil
	}
	p.srcs = append(p.srcs, s)
	return nil
}

// dropSource forgets the system fields of event idx's extractedFields,
// which a repeated extractedFields member replaces.
func (p *parser) dropSource(idx int) {
	if p.sameEvent == idx+1 {
		p.sameEvent = 0
	}
	n := len(p.srcs)
	if n == 0 || p.srcs[n-1].to != idx+1 {
		return
	}
	if p.srcs[n-1].to--; p.srcs[n-1].to == p.srcs[n-1].from {
		p.srcs = p.srcs[:n-1]
	}
}

// topSystemField parses a system field at the payload's top level: a
// string is kept, null or any other value leaves it absent (it is not
// one of the fields a subscription payload must have right).
func (p *parser) topSystemField(k int) error {
	bit := uint8(1) << k
	if p.peek() == '"' {
		s, err := p.str()
		p.top[k] = s
		p.haveTop |= bit
		return err
	}
	p.haveTop &^= bit
	return p.skipValue()
}

// sources sets m's Account and Region, or EventSources when the events'
// differ: each event's system fields, each taken from its extractedFields
// or else from the payload's top level, and ignored when not plausible.
// The work is per run of events with the same fields, not per event.
func (p *parser) sources(m *Message, str func(span) string) {
	var top Source
	if p.haveTop&(1<<sysAccount) != 0 {
		top.Account = validAccount(str(p.top[sysAccount]))
	}
	if p.haveTop&(1<<sysRegion) != 0 {
		top.Region = validRegion(str(p.top[sysRegion]))
	}
	resolve := func(es *eventSource) Source {
		src := top
		if es.have&(1<<sysAccount) != 0 {
			if v := validAccount(str(es.val[sysAccount])); v != "" {
				src.Account = v
			}
		}
		if es.have&(1<<sysRegion) != 0 {
			if v := validRegion(str(es.val[sysRegion])); v != "" {
				src.Region = v
			}
		}
		return src
	}
	// The usual case: one source for every event, from one run or from
	// the top level alone.
	n := len(m.LogEvents)
	switch {
	case n == 0:
		return
	case len(p.srcs) == 0:
		m.Account, m.Region = top.Account, top.Region
		return
	case len(p.srcs) == 1 && p.srcs[0].from == 0 && p.srcs[0].to == n:
		s := resolve(&p.srcs[0])
		m.Account, m.Region = s.Account, s.Region
		return
	}
	// Runs of several sources, or events without fields between them:
	// rare (a hub's log group merging streams of one name).
	m.EventSources = make([]Source, n)
	for i := range m.EventSources {
		m.EventSources[i] = top
	}
	for k := range p.srcs {
		s := resolve(&p.srcs[k])
		for i := p.srcs[k].from; i < p.srcs[k].to; i++ {
			m.EventSources[i] = s
		}
	}
	for _, s := range m.EventSources[1:] {
		if s != m.EventSources[0] {
			return
		}
	}
	m.Account, m.Region = m.EventSources[0].Account, m.EventSources[0].Region
	m.EventSources = nil
}

// validAccount returns s if it is a 12-digit account ID, else "".
func validAccount(s string) string {
	if len(s) != 12 {
		return ""
	}
	for i := range len(s) {
		if !isDigit(s[i]) {
			return ""
		}
	}
	return s
}

// validRegion returns s if it is shaped like a region name, else "":
// '-'-separated words of lowercase letters, at least two, then a number
// (us-east-1, us-gov-west-1, cn-north-1), at most 32 bytes. The shape, not
// a list: a region AWS opens tomorrow is still attributed.
func validRegion(s string) string {
	if len(s) > 32 {
		return ""
	}
	words := 0
	i := 0
	for {
		j := i
		for i < len(s) && s[i] >= 'a' && s[i] <= 'z' {
			i++
		}
		if i == j || i == len(s) || s[i] != '-' {
			i = j // not a word: the number starts here
			break
		}
		words++
		i++
	}
	if words < 2 || i == len(s) {
		return ""
	}
	for ; i < len(s); i++ {
		if !isDigit(s[i]) {
			return ""
		}
	}
	return s
}

// appendCompact appends the JSON value src (already validated) to dst
// without the whitespace between its tokens, and with U+2028 and U+2029
// inside its strings written as \u2028 and \u2029. The object then fits on
// one NDJSON line and is escaped like every string the sinks write
// (shared/jsonstr), whatever layout the sender gave it. Nothing else
// changes: escapes and bytes that are not UTF-8 are copied as they are.
//
// A compact ASCII object is copied as it is (isCompact); otherwise strings
// are skipped with the scanner's word-at-a-time plainEnd and only the bytes
// between them are looked at one by one.
func appendCompact(dst, src []byte) []byte {
	if isCompact(src) {
		return append(dst, src...)
	}
	seps := bytes.IndexByte(src, 0xE2) >= 0
	start := 0 // src[start:i] is still to be copied
	for i := 0; i < len(src); {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[start:i]...)
			i++
			start = i
		case '"':
			end := i + 1
			for {
				end = plainEnd(src, end)
				if end >= len(src) || src[end] == '"' {
					break
				}
				end += 2 // a backslash and the byte it escapes
			}
			end = min(end+1, len(src))
			if seps {
				dst = append(dst, src[start:i]...)
				dst = appendSeparatorsEscaped(dst, src[i:end])
				start = end
			}
			i = end
		default:
			i++
		}
	}
	return append(dst, src[start:]...)
}

// isCompact reports, a word at a time, that src has neither a byte up to
// ' ' (so no whitespace, in strings or between tokens) nor an 0xE2 (which
// starts U+2028 and U+2029): what a compact ASCII object looks like, and
// what appendCompact copies as it is.
func isCompact(src []byte) bool {
	i := 0
	for ; i+8 <= len(src); i += 8 {
		x := binary.LittleEndian.Uint64(src[i:])
		e := x ^ (lsbs * 0xE2)
		if ((x-lsbs*0x21)&^x|(e-lsbs)&^e)&msbs != 0 {
			return false
		}
	}
	for ; i < len(src); i++ {
		if src[i] <= ' ' || src[i] == 0xE2 {
			return false
		}
	}
	return true
}

// appendSeparatorsEscaped appends s with U+2028 and U+2029 (E2 80 A8 and
// E2 80 A9) written as \u2028 and \u2029.
func appendSeparatorsEscaped(dst, s []byte) []byte {
	for {
		k := bytes.IndexByte(s, 0xE2)
		if k < 0 {
			return append(dst, s...)
		}
		if k+2 < len(s) && s[k+1] == 0x80 && s[k+2]&^1 == 0xA8 {
			dst = append(dst, s[:k]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, "89"[s[k+2]&1])
			s = s[k+3:]
			continue
		}
		dst = append(dst, s[:k+1]...)
		s = s[k+1:]
	}
}

// timestamp parses a number as int64 milliseconds. CloudWatch Logs sends
// integers; a number with a fraction or exponent (some producers write
// floats) is accepted and truncated toward zero; a value outside int64 is a
// shape error.
func (p *parser) timestamp(idx int) (int64, error) {
	start := p.r
	isInt, err := p.number()
	if err != nil {
		return 0, err
	}
	text := p.b[start:p.r]
	if isInt {
		if v, ok := atoi64(text); ok {
			return v, nil
		}
	} else if f, err := strconv.ParseFloat(string(text), 64); err == nil {
		f = math.Trunc(f)
		if f >= math.MinInt64 && f < math.MaxInt64 {
			return int64(f), nil
		}
	}
	p.setShape("logEvents[%d].timestamp: %s is out of range for int64 milliseconds", idx, clip(text))
	return 0, nil
}

// atoi64 parses a JSON integer (grammar already checked).
func atoi64(b []byte) (int64, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) > 19 { // JSON forbids leading zeros, so this overflows
		return 0, false
	}
	var u uint64
	for _, c := range b {
		u = u*10 + uint64(c-'0') // 19 digits fit in uint64
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// keepNumber scans a number and copies its text into the arena.
func (p *parser) keepNumber() (span, error) {
	start := p.r
	if _, err := p.number(); err != nil {
		return span{}, err
	}
	s := span{p.w, p.w + (p.r - start)}
	p.w += copy(p.b[p.w:], p.b[start:p.r])
	return s, nil
}
