package s3layout

import (
	"fmt"
	"strings"
)

// unreserved reports whether Escape keeps b as it is. The set is the
// one that needs no quoting anywhere the value travels: S3 keys, URLs, Hive
// partition directories (which reserve '/', '=', ':', '#', '%' and more) and
// Athena queries.
func unreserved(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_' || b == '.'
}

const upperHex = "0123456789ABCDEF"

// Escape escapes s for use as one Hive-style partition value in an S3
// key: bytes other than A-Z a-z 0-9 '-' '_' '.' become %XX (upper-case hex,
// Hive's own escaping for partition directories), so "/aws/lambda/fn"
// becomes "%2Faws%2Flambda%2Ffn". Unescape reverses it exactly.
func Escape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0xF])
	}
	return b.String()
}

// Unescape reverses Escape. It rejects anything Escape cannot produce (a
// malformed or lower-case escape, an escaped unreserved byte, a raw
// reserved byte), so a value maps back to exactly one name.
func Unescape(v string) (string, error) {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		if c != '%' || i+2 >= len(v) {
			return "", fmt.Errorf("unescape %q: unexpected %q at byte %d", v, c, i)
		}
		hi, lo := unhex(v[i+1]), unhex(v[i+2])
		if hi < 0 || lo < 0 {
			return "", fmt.Errorf("unescape %q: bad escape %q at byte %d", v, v[i:i+3], i)
		}
		d := byte(hi<<4 | lo)
		if unreserved(d) {
			return "", fmt.Errorf("unescape %q: %q needs no escape (byte %d)", v, v[i:i+3], i)
		}
		b.WriteByte(d)
		i += 2
	}
	return b.String(), nil
}

// unhex decodes one upper-case hex digit, or returns -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
