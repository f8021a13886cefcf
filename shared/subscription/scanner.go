package subscription

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the JSON scanner under the payload schema (schema.go): it
// reads strings, keys, numbers and literals, validates and skips values it
// does not keep, and names what it found in error messages.

// maxDepth bounds the nesting of values the parser skips over (the bound
// encoding/json uses); the skipper is iterative, so this is about refusing
// silly input, not about the stack.
const maxDepth = 10000

// strSpecial marks the bytes that end the fast scan of a string's contents.
var strSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

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
