// Package jsonstr appends Go strings as JSON string literals, quickly: eight
// bytes at a time are tested with word arithmetic (SWAR) and runs that need
// no escaping are copied in one piece, since log lines are mostly plain
// ASCII. One escaper serves logfan's two writers, which both write each
// byte that is not valid UTF-8 as U+FFFD and differ only in what they do
// with DEL (see Valid and SDK).
//
// Every policy escapes quote, backslash and the control characters U+0000
// to U+001F (\n, \r and \t by name, the rest as \u00XX, never \b or \f), and
// U+2028 and U+2029 (as \u2028 and \u2029) so the output is also valid
// JavaScript, as both writers always have. Nothing else is escaped (no HTML
// escaping of <, > or &).
package jsonstr

import (
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Options is a set of flags for the points on which JSON writers
// legitimately differ. Pass a constant: Append then compiles to a direct
// call of the escaper for that policy.
type Options uint8

const (
	// ReplaceInvalid writes each byte that is not part of valid UTF-8 as
	// U+FFFD, as encoding/json and the AWS SDK do; without it the byte is
	// copied as it is, so a message survives a byte-exact round trip (the
	// output is then JSON only if the input was valid UTF-8).
	ReplaceInvalid Options = 1 << iota
	// EscapeDEL writes U+007F as \u007f.
	EscapeDEL
)

const (
	// Valid is the policy of logfan's NDJSON records (S3 and Firehose): each
	// invalid byte as U+FFFD, as encoding/json does, so every line is valid
	// JSON (RFC 8259 requires UTF-8) for strict readers such as Athena's
	// SerDes; DEL is left as it is.
	Valid Options = ReplaceInvalid
	// Exact copies invalid UTF-8 byte-exact and leaves DEL as it is: the
	// output is JSON only if the input was valid UTF-8. No writer uses it
	// any more; it stays as the escaper's fastest policy and the reference
	// the benchmarks compare Valid with.
	Exact Options = 0
	// SDK is the policy of aws-sdk-go-v2's awsJson serializer (smithy-go
	// ShapeSerializer.appendEscapedString): each invalid byte as U+FFFD, DEL
	// escaped. PutLogEvents bodies written with it are byte-identical to the
	// SDK's.
	SDK = ReplaceInvalid | EscapeDEL
)

// Append appends s to dst as a quoted JSON string escaped under o.
func Append(dst []byte, s string, o Options) []byte {
	// One call, through a function value, keeps Append small enough to
	// inline, so that a constant o picks the escaper at compile time.
	f := appendKeeping
	if o&ReplaceInvalid != 0 {
		f = appendReplacing
	}
	return f(dst, s, o)
}

// appendKeeping is Append without ReplaceInvalid.
//
// Each word of s is tested once and every byte it flags is handled before
// the next word: JSON inside a message has a quote every few bytes. Bytes
// that need nothing, s[start:next], are copied in one piece when an escape
// or the end comes.
func appendKeeping(dst []byte, s string, o Options) []byte {
	return keepRest(append(dst, '"'), s, o)
}

// keepRest is appendKeeping after the opening quote.
func keepRest(dst []byte, s string, o Options) []byte {
	start, next := 0, 0 // s[start:next] is pending; s[next:] is unread
	for b := 0; b < len(s); b += 8 {
		var m uint64
		if b, m = nextKeep(s, b); m == 0 {
			break
		}
		for ; m != 0; m &= m - 1 {
			j := b + bits.TrailingZeros64(m)>>3
			if j < next {
				continue // inside a sequence already handled
			}
			switch c := s[j]; keepClass[c] {
			case escape:
				dst = append(dst, s[start:j]...)
				dst = appendEscape(dst, c)
				start, next = j+1, j+1
			case lineSep:
				// Bytes >= 0x80 are copied, so UTF-8 needs no decoding: the
				// only sequences to find are E2 80 A8 and E2 80 A9. E2 cannot
				// continue an earlier rune, so each occurrence is U+2028 or
				// U+2029 wherever it is.
				if j+2 < len(s) && s[j+1] == 0x80 && s[j+2]&^1 == 0xA8 {
					dst = append(dst, s[start:j]...)
					dst = appendLineSep(dst, s[j+2])
					start, next = j+3, j+3
				}
			case del:
				if o&EscapeDEL != 0 {
					dst = append(dst, s[start:j]...)
					dst = appendEscape(dst, c)
					start, next = j+1, j+1
				}
			}
		}
		if next > b+8 { // a sequence ran into the next word
			b = next - 8
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendReplacing is Append with ReplaceInvalid, built as appendKeeping.
// Every byte >= 0x80 starts a rune to validate; a run of valid ones is
// walked at once, left pending, and its bytes' flags skipped.
//
// At the first byte >= 0x80 the rest of s is validated once: if it is valid
// (text in any script almost always is), appendKeeping's loop finishes the
// string, since on valid UTF-8 the two policies write the same bytes and
// appendKeeping looks only at the 0xE2 of U+2028 and U+2029, not at every
// multibyte rune.
func appendReplacing(dst []byte, s string, o Options) []byte {
	dst = append(dst, '"')
	start, next := 0, 0 // s[start:next] is pending; s[next:] is unread
	checked := false    // whether s[j:] was validated at a first byte >= 0x80
	for b := 0; b < len(s); b += 8 {
		var m uint64
		if b, m = nextReplace(s, b); m == 0 {
			break
		}
		for ; m != 0; m &= m - 1 {
			j := b + bits.TrailingZeros64(m)>>3
			if j < next {
				continue // inside a sequence already handled
			}
			switch c := s[j]; replaceClass[c] {
			case escape:
				dst = append(dst, s[start:j]...)
				dst = appendEscape(dst, c)
				start, next = j+1, j+1
			case nonASCII:
				if !checked {
					checked = true
					if utf8.ValidString(s[j:]) {
						return keepRest(append(dst, s[start:j]...), s[j:], o)
					}
				}
				if n := runeRun(s[j:]); n > 0 {
					next = j + n // valid: stays pending
					break
				}
				_, size := utf8.DecodeRuneInString(s[j:])
				dst = append(dst, s[start:j]...)
				if size == 1 {
					dst = append(dst, "\uFFFD"...)
				} else {
					dst = appendLineSep(dst, s[j+2])
				}
				start, next = j+size, j+size
			case del:
				if o&EscapeDEL != 0 {
					dst = append(dst, s[start:j]...)
					dst = appendEscape(dst, c)
					start, next = j+1, j+1
				}
			}
		}
		if next > b+8 { // a sequence ran into the next word
			b = next - 8
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Word-at-a-time tests on 8 bytes loaded little-endian (first byte lowest).
// They work on the low 7 bits of each byte, t = w & lo7, where adding a
// constant of at most 0x80 per byte cannot carry into the next byte: so
// each byte's result is exact, whatever its neighbours.
const (
	lo7  = 0x7F7F7F7F7F7F7F7F
	hi   = 0x8080808080808080
	ones = 0x0101010101010101
)

// asciiOK sets the high bit of each byte of t (bytes of 7 bits) that is
// not below 0x20 nor a quote, backslash or DEL: t+0x60 reaches 0x80 iff
// t >= 0x20, and (t^c)+0x7F reaches 0x80 iff t != c.
func asciiOK(t uint64) uint64 {
	return (t + ones*(0x80-0x20)) & ((t ^ ones*'"') + lo7) & ((t ^ ones*'\\') + lo7) & ((t ^ ones*0x7F) + lo7)
}

// keepFlags flags (sets the high bit of) the bytes of w appendKeeping must
// look at: ASCII ones asciiOK rejects, and 0xE2, which may start U+2028 or
// U+2029.
func keepFlags(w uint64) uint64 {
	t := w & lo7
	isE2 := ^((t ^ ones*(0xE2&0x7F)) + lo7) & w // low 7 bits match, and the high bit is set
	return (^asciiOK(t)&^w | isE2) & hi
}

// replaceFlags flags the bytes of w appendReplacing must look at: ASCII
// ones asciiOK rejects, and every byte >= 0x80, which starts a rune to
// validate.
func replaceFlags(w uint64) uint64 {
	return (^asciiOK(w&lo7) | w) & hi
}

// load reads s[0:8] as a word; the compiler makes it one 64-bit load.
func load(s string) uint64 {
	s = s[:8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// lastWord returns the last 8 bytes of s as a word, after spaces (never
// flagged) if s is shorter. The tail of s, short of a word, is tested in it
// and the flags of the bytes before the tail dropped: each byte's flag is
// exact, so they cannot affect the others.
func lastWord(s string) uint64 {
	if len(s) >= 8 {
		return load(s[len(s)-8:])
	}
	w := uint64(ones * ' ')
	for k := 0; k < len(s); k++ {
		w = w>>8 | uint64(s[k])<<56
	}
	return w
}

// nextKeep returns the first word of s at or after b (at b plus a multiple
// of 8; the last one may be short) with a byte keepFlags flags, and its
// flags; they are 0 if there is none. It is small and apart from
// appendKeeping so that its loop over clean words stays in registers.
func nextKeep(s string, b int) (int, uint64) {
	rest := s[b:]
	for len(rest) >= 8 {
		if m := keepFlags(load(rest)); m != 0 {
			return len(s) - len(rest), m
		}
		rest = rest[8:]
	}
	return len(s) - len(rest), keepFlags(lastWord(s)) >> (8 * (8 - len(rest)))
}

// nextReplace is nextKeep for replaceFlags.
func nextReplace(s string, b int) (int, uint64) {
	rest := s[b:]
	for len(rest) >= 8 {
		if m := replaceFlags(load(rest)); m != 0 {
			return len(s) - len(rest), m
		}
		rest = rest[8:]
	}
	return len(s) - len(rest), replaceFlags(lastWord(s)) >> (8 * (8 - len(rest)))
}

// Byte classes, which decide what a flagged byte is.
const (
	plain    = iota // copied as it is
	escape          // written by appendEscape
	del             // 0x7F: escaped or not, by EscapeDEL
	lineSep         // 0xE2, which may start U+2028 or U+2029 (bytes kept)
	nonASCII        // starts a rune to validate (bytes replaced)
)

// keepClass and replaceClass classify bytes without and with
// ReplaceInvalid.
var keepClass, replaceClass = func() (k, r [256]uint8) {
	for c := range 0x20 {
		k[c], r[c] = escape, escape
	}
	k['"'], r['"'] = escape, escape
	k['\\'], r['\\'] = escape, escape
	k[0x7F], r[0x7F] = del, del
	for c := 0x80; c < 0x100; c++ {
		r[c] = nonASCII
	}
	k[0xE2] = lineSep
	return k, r
}()

const hexDigits = "0123456789abcdef"

// shortEscape holds the letter of the two-character escape of each byte
// that has one; the other control characters are written \u00XX.
var shortEscape = [256]byte{'"': '"', '\\': '\\', '\n': 'n', '\r': 'r', '\t': 't'}

// appendEscape appends the escape of the ASCII byte c.
func appendEscape(dst []byte, c byte) []byte {
	if e := shortEscape[c]; e != 0 {
		return append(dst, '\\', e)
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// appendLineSep appends \u2028 or \u2029; last is the last byte of the
// rune's UTF-8 (A8 or A9), whose low nibble is the last digit.
func appendLineSep(dst []byte, last byte) []byte {
	return append(dst, '\\', 'u', '2', '0', '2', hexDigits[last&0xF])
}

// runeRun returns the length of the run of valid non-ASCII runes that s
// starts with, up to an invalid byte or a U+2028 or U+2029.
func runeRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= utf8.RuneSelf {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			break
		}
		i += size
	}
	return i
}

// Repair returns s with each byte that is not part of valid UTF-8 replaced
// by U+FFFD, one replacement per invalid byte: the text a reader gets back
// from Append with ReplaceInvalid, and what the SDK's JSON serializer sends
// for such a byte (so what CloudWatch Logs stores). Writers of formats that
// are not JSON (Parquet) and the logs sink use it so that every sink stores
// the same text. A valid s is returned as it is, without copying.
func Repair(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	start := 0 // s[start:i] is valid and not yet written
	for i := 0; i < len(s); {
		if i+8 <= len(s) && load(s[i:])&hi == 0 {
			i += 8 // eight ASCII bytes
			continue
		}
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		if _, size := utf8.DecodeRuneInString(s[i:]); size > 1 {
			i += size
			continue
		}
		// An invalid byte: DecodeRuneInString reads it as (RuneError, 1),
		// while a literal U+FFFD in s is 3 bytes and stays.
		b.WriteString(s[start:i])
		b.WriteString("\uFFFD")
		i++
		start = i
	}
	b.WriteString(s[start:])
	return b.String()
}
