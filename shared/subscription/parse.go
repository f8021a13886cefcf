package subscription

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a single-pass JSON scanner specialised for the subscription
// payload. It validates the whole document (RFC 8259 grammar, except that
// bytes that are not UTF-8 are passed through), checks the shape of the
// fields logfan uses, and builds no tree.
//
// Memory trick: JSON unescaping never makes a string longer, and everything
// kept (ids, messages, names) appears in the document in order, so the parser
// compacts the unescaped contents of kept strings into the front of the
// decompressed buffer as it goes (write index w never passes read index r).
// At the end that prefix is copied into ONE string, and every field is a
// substring of it: no allocation per event. The buffer itself is the
// Decoder's and is reused by the next Decode; nothing handed out points
// into it.

// maxDepth bounds the nesting of values the parser skips over (the bound
// encoding/json uses); the skipper is iterative, so this is about refusing
// silly input, not about the stack.
const maxDepth = 10000

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

// strSpecial marks the bytes that end the fast scan of a string's contents.
var strSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

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
					p.raw = append(p.raw, p.b[start:p.r]...)
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

// str parses the string at p.r (its opening quote) and compacts its
// unescaped contents into the arena at p.w.
func (p *parser) str() (span, error) {
	b := p.b
	i := p.r + 1
	start, w := p.w, p.w
	for {
		// Fast path: scan and move 8 bytes at a time. Storing a whole word
		// at w is safe once w trails i by 8 or more (always, after the
		// first key): it only overwrites bytes already consumed.
		found := false
		for i+8 <= len(b) && i-w >= 8 {
			x := binary.LittleEndian.Uint64(b[i:])
			binary.LittleEndian.PutUint64(b[w:], x)
			if m := specialMask(x); m != 0 {
				k := bits.TrailingZeros64(m) >> 3
				i, w = i+k, w+k
				found = true
				break
			}
			i, w = i+8, w+8
		}
		if !found {
			for i < len(b) && !strSpecial[b[i]] {
				b[w] = b[i]
				i, w = i+1, w+1
			}
			if i == len(b) {
				p.r = i
				return span{}, p.syntaxErr("the closing quote of a string")
			}
		}
		switch c := b[i]; c {
		case '"':
			p.r, p.w = i+1, w
			return span{start, w}, nil
		case '\\':
			r, n, err := p.escape(i)
			if err != nil {
				return span{}, err
			}
			// Safe in place: an escape of n bytes decodes to at most n
			// bytes, and w <= i.
			if r < utf8.RuneSelf {
				b[w] = byte(r)
				w++
			} else {
				w += utf8.EncodeRune(b[w:], r)
			}
			i += n
		default:
			p.r = i
			return span{}, p.syntaxErr("no raw control character in a string (escape it)")
		}
	}
}

// SWAR constants: one bit or byte value in every byte of a word.
const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// specialMask flags (in the top bit of each byte) the bytes of x that end
// plain string contents: '"', '\\' and control characters. Borrows can set
// false flags, but only above a true one, so the lowest flag is exact.
func specialMask(x uint64) uint64 {
	q := x ^ (lsbs * '"')
	s := x ^ (lsbs * '\\')
	return ((q-lsbs)&^q | (s-lsbs)&^s | (x-lsbs*0x20)&^x) & msbs
}

// plainEnd returns the index of the first byte at or after i that ends
// plain string contents, or len(b).
func plainEnd(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if m := specialMask(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && !strSpecial[b[i]] {
		i++
	}
	return i
}

// key parses an object key without keeping it; the result is valid until
// the next key.
func (p *parser) key() ([]byte, error) {
	b := p.b
	start := p.r + 1
	i := plainEnd(b, start)
	if i < len(b) && b[i] == '"' {
		p.r = i + 1
		return b[start:i], nil
	}
	// Slow path: the key has escapes (or is broken).
	p.keyBuf = p.keyBuf[:0]
	seg := start
	for {
		i = plainEnd(b, i)
		if i == len(b) {
			p.r = i
			return nil, p.syntaxErr("the closing quote of a key")
		}
		p.keyBuf = append(p.keyBuf, b[seg:i]...)
		switch c := b[i]; c {
		case '"':
			p.r = i + 1
			return p.keyBuf, nil
		case '\\':
			r, n, err := p.escape(i)
			if err != nil {
				return nil, err
			}
			p.keyBuf = utf8.AppendRune(p.keyBuf, r)
			i += n
			seg = i
		default:
			p.r = i
			return nil, p.syntaxErr("no raw control character in a key (escape it)")
		}
	}
}

// escape decodes the escape sequence at b[i] == '\\' and returns the rune
// and the number of bytes it spans. A \u escape of a UTF-16 surrogate that
// is not part of a valid high-low pair denotes no character; it decodes to
// U+FFFD, as encoding/json does (the only way the decoder ever produces a
// U+FFFD that was not in the input).
func (p *parser) escape(i int) (rune, int, error) {
	b := p.b
	if i+1 >= len(b) {
		p.r = len(b)
		return 0, 0, p.syntaxErr("an escape sequence")
	}
	switch c := b[i+1]; c {
	case '"', '\\', '/':
		return rune(c), 2, nil
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
		r1, ok := hex4(b, i+2)
		if !ok {
			p.r = i
			return 0, 0, p.syntaxErr(`\u and four hex digits`)
		}
		if !utf16.IsSurrogate(r1) {
			return r1, 6, nil
		}
		if r1 < 0xDC00 && i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
			if r2, ok := hex4(b, i+8); ok && r2 >= 0xDC00 && r2 < 0xE000 {
				return utf16.DecodeRune(r1, r2), 12, nil
			}
		}
		return utf8.RuneError, 6, nil
	}
	p.r = i
	return 0, 0, p.syntaxErr(`a valid escape (\" \\ \/ \b \f \n \r \t \uXXXX)`)
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number scans a JSON number and reports whether it is a plain integer.
func (p *parser) number() (isInt bool, err error) {
	b, i := p.b, p.r
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		p.r = i
		return false, p.syntaxErr("a digit")
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		i++
		if i == len(b) || !isDigit(b[i]) {
			p.r = i
			return false, p.syntaxErr("a digit after the decimal point")
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
		isInt = false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) || !isDigit(b[i]) {
			p.r = i
			return false, p.syntaxErr("a digit in the exponent")
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
		isInt = false
	}
	p.r = i
	return isInt, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// nextKey moves to the next member of an object whose '{' (first) or
// previous member has been consumed, and reads its key and colon. done
// reports the closing '}'.
func (p *parser) nextKey(first bool) (key []byte, done bool, err error) {
	p.skipWS()
	switch c := p.peek(); {
	case c == '}':
		p.r++
		return nil, true, nil
	case !first && c == ',':
		p.r++
		p.skipWS()
	case !first:
		return nil, false, p.syntaxErr("',' or '}' after an object member")
	}
	if p.peek() != '"' {
		return nil, false, p.syntaxErr("a string key")
	}
	if key, err = p.key(); err != nil {
		return nil, false, err
	}
	p.skipWS()
	if p.peek() != ':' {
		return nil, false, p.syntaxErr("':' after an object key")
	}
	p.r++
	p.skipWS()
	return key, false, nil
}

// nextElem moves to the next element of an array whose '[' (first) or
// previous element has been consumed. done reports the closing ']'.
func (p *parser) nextElem(first bool) (done bool, err error) {
	p.skipWS()
	switch c := p.peek(); {
	case c == ']':
		p.r++
		return true, nil
	case first:
		return false, nil
	case c == ',':
		p.r++
		p.skipWS()
		return false, nil
	}
	return false, p.syntaxErr("',' or ']' after an array element")
}

// skipValue validates and skips one JSON value of any kind, iteratively.
func (p *parser) skipValue() error {
	base := len(p.stack)
	for {
		p.skipWS()
		switch c := p.peek(); {
		case c == '{' || c == '[':
			p.r++
			p.skipWS()
			if (c == '{' && p.peek() == '}') || (c == '[' && p.peek() == ']') {
				p.r++
				break
			}
			if len(p.stack)-base >= maxDepth {
				return decodeErr(ErrNotJSON, nil, "nesting deeper than %d at offset %d", maxDepth, p.r)
			}
			p.stack = append(p.stack, c)
			if c == '{' {
				if err := p.skipMemberKey(); err != nil {
					return err
				}
			}
			continue
		case c == '"':
			if err := p.skipString(); err != nil {
				return err
			}
		case c == 't':
			if err := p.literal("true"); err != nil {
				return err
			}
		case c == 'f':
			if err := p.literal("false"); err != nil {
				return err
			}
		case c == 'n':
			if err := p.literal("null"); err != nil {
				return err
			}
		case c == '-' || isDigit(c):
			if _, err := p.number(); err != nil {
				return err
			}
		default:
			return p.syntaxErr("a JSON value")
		}
		// A value is complete: close the containers it completes.
		for {
			if len(p.stack) == base {
				return nil
			}
			p.skipWS()
			top, c := p.stack[len(p.stack)-1], p.peek()
			if c == ',' {
				p.r++
				if top == '{' {
					p.skipWS()
					if err := p.skipMemberKey(); err != nil {
						return err
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				p.r++
				p.stack = p.stack[:len(p.stack)-1]
				continue
			}
			if top == '{' {
				return p.syntaxErr("',' or '}' after an object member")
			}
			return p.syntaxErr("',' or ']' after an array element")
		}
	}
}

// skipMemberKey skips `"key" :` inside a skipped object.
func (p *parser) skipMemberKey() error {
	if p.peek() != '"' {
		return p.syntaxErr("a string key")
	}
	if err := p.skipString(); err != nil {
		return err
	}
	p.skipWS()
	if p.peek() != ':' {
		return p.syntaxErr("':' after an object key")
	}
	p.r++
	return nil
}

// skipString validates and skips the string at p.r.
func (p *parser) skipString() error {
	b := p.b
	i := p.r + 1
	for {
		i = plainEnd(b, i)
		if i == len(b) {
			p.r = i
			return p.syntaxErr("the closing quote of a string")
		}
		switch b[i] {
		case '"':
			p.r = i + 1
			return nil
		case '\\':
			_, n, err := p.escape(i)
			if err != nil {
				return err
			}
			i += n
		default:
			p.r = i
			return p.syntaxErr("no raw control character in a string (escape it)")
		}
	}
}

func (p *parser) literal(lit string) error {
	if len(p.b)-p.r >= len(lit) && string(p.b[p.r:p.r+len(lit)]) == lit {
		p.r += len(lit)
		return nil
	}
	return p.syntaxErr(lit)
}

func (p *parser) skipWS() {
	b, i := p.b, p.r
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	p.r = i
}

// peek returns the byte at p.r, or 0 (never valid there) at the end.
func (p *parser) peek() byte {
	if p.r < len(p.b) {
		return p.b[p.r]
	}
	return 0
}

func (p *parser) syntaxErr(want string) *DecodeError {
	if p.r >= len(p.b) {
		return decodeErr(ErrNotJSON, nil, "unexpected end of data at offset %d, want %s", p.r, want)
	}
	return decodeErr(ErrNotJSON, nil, "unexpected %s at offset %d, want %s", describeByte(p.b[p.r]), p.r, want)
}

func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// kindOf names the JSON kind a value starting with c has.
func kindOf(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || isDigit(c):
		return "a number"
	}
	return "something that is not JSON"
}

// clip shortens b for an error message.
func clip(b []byte) string {
	const n = 40
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
