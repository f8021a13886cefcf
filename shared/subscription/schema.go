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
			switch c {
			case '{':
				start := p.r
				if err = p.skipValue(); err == nil {
					off := len(p.raw)
					p.raw = appendCompact(p.raw, p.b[start:p.r])
					ev.raw, ev.hasRaw = span{off, len(p.raw)}, true
				}
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
