package jsonstr

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

var policies = []struct {
	name string
	o    Options
	old  func([]byte, string) []byte // the escaper this policy replaced
}{
	{"exact", Exact, oldRecordAppendString},
	{"valid", Valid, nil},
	{"sdk", SDK, oldLogsAppendJSONString},
}

// check requires Append(s) under o to equal the reference, and also the
// escaper it replaced when there is one.
func check(t *testing.T, s string, o Options, old func([]byte, string) []byte) {
	t.Helper()
	got := string(Append(nil, s, o))
	if want := reference(s, o); got != want {
		t.Fatalf("Append(%q, %b) = %q, reference %q", s, o, got, want)
	}
	if old != nil {
		if want := string(old(nil, s)); got != want {
			t.Fatalf("Append(%q, %b) = %q, the old escaper wrote %q", s, o, got, want)
		}
	}
}

func TestAppendTable(t *testing.T) {
	tests := []struct {
		name, in, exact, sdk string
	}{
		{"empty", "", `""`, `""`},
		{"plain", "hello, world", `"hello, world"`, `"hello, world"`},
		{"plain longer than a word", "abcdefghijklmnopq", `"abcdefghijklmnopq"`, `"abcdefghijklmnopq"`},
		{"no HTML escaping", "<a href='x'>&amp;</a>/", `"<a href='x'>&amp;</a>/"`, `"<a href='x'>&amp;</a>/"`},
		{"all escapes", "\"\\\n\r\t\x00\x01\x08\x0c\x1f\x7f",
			`"\"\\\n\r\t\u0000\u0001\u0008\u000c\u001f` + "\x7f\"",
			`"\"\\\n\r\t\u0000\u0001\u0008\u000c\u001f\u007f"`},
		{"only quotes", `""""""""""`, `"\"\"\"\"\"\"\"\"\"\""`, `"\"\"\"\"\"\"\"\"\"\""`},
		{"DEL alone", "\x7f", "\"\x7f\"", `"\u007f"`},
		{"line terminators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`, `"a\u2028b\u2029c"`},
		{"neighbours of U+2028 kept", "\u2027\u202a\u2008", "\"\u2027\u202a\u2008\"", "\"\u2027\u202a\u2008\""},
		{"multibyte kept", "ü € 😀 \uFFFD", "\"ü € 😀 \uFFFD\"", "\"ü € 😀 \uFFFD\""},
		{"invalid byte", "a\xffb", "\"a\xffb\"", "\"a\uFFFDb\""},
		{"lone continuation", "\x80", "\"\x80\"", "\"\uFFFD\""},
		{"truncated rune at end", "ab\xe2\x82", "\"ab\xe2\x82\"", "\"ab\uFFFD\uFFFD\""},
		{"truncated U+2028 at end", "\xe2\x80", "\"\xe2\x80\"", "\"\uFFFD\uFFFD\""},
		{"lone E2", "\xe2", "\"\xe2\"", "\"\uFFFD\""},
		{"E2 then U+2028", "\xe2\xe2\x80\xa8", "\"\xe2\\u2028\"", "\"\uFFFD\\u2028\""},
		{"surrogate half", "\xed\xa0\x80", "\"\xed\xa0\x80\"", "\"\uFFFD\uFFFD\uFFFD\""},
		{"overlong NUL", "\xc0\x80", "\"\xc0\x80\"", "\"\uFFFD\uFFFD\""},
		{"invalid then escape", "\xff\"", "\"\xff\\\"\"", "\"\uFFFD\\\"\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range policies {
				want := tc.exact
				switch p.o {
				case SDK:
					want = tc.sdk
				case Valid: // SDK's replacements, DEL as it is
					want = strings.ReplaceAll(tc.sdk, `\u007f`, "\x7f")
				}
				if got := string(Append(nil, tc.in, p.o)); got != want {
					t.Errorf("%s: Append(%q) = %q, want %q", p.name, tc.in, got, want)
				}
				check(t, tc.in, p.o, p.old)
			}
		})
	}
}

// TestAppendKeepsPrefix checks Append appends: dst's bytes stay.
func TestAppendKeepsPrefix(t *testing.T) {
	for _, p := range policies {
		got := string(Append([]byte("prefix:"), "a\"b", p.o))
		if got != `prefix:"a\"b"` {
			t.Errorf("%s: %q", p.name, got)
		}
	}
}

// specials are the byte sequences the escaper must notice, and some it
// must not be fooled by.
var specials = []string{
	"\"", "\\", "\x00", "\x08", "\x1f", "\x7f", "\n", "\r", "\t",
	"é", "€", "😀", "\uFFFD", "\u2028", "\u2029", "\u202a",
	"\xff", "\x80", "\xe2", "\xe2\x80", "\xe2\x82", "\xed\xa0\x80", "\xc0\x80", "\xf0\x9f\x98",
	" ", "~", "!", "#", "[", "]", "\xe1", "\xe3",
}

// TestAppendEveryPosition puts each special at every offset of strings of
// up to 24 bytes of ASCII, and of multibyte filler, so the word test meets
// it at each position of a word and across word boundaries (a multibyte
// rune split over two words included).
func TestAppendEveryPosition(t *testing.T) {
	for _, fill := range []string{"a", "é", "\xff"} {
		for _, sp := range specials {
			for n := 0; n <= 24; n++ {
				for pos := 0; pos <= n; pos++ {
					s := strings.Repeat("a", pos) + sp + strings.Repeat(fill, n-pos)
					for _, p := range policies {
						check(t, s, p.o, p.old)
					}
				}
			}
		}
	}
}

// TestAppendPairs puts two sequences in a 16-byte string at every pair of
// offsets. The word test may flag a byte falsely after a true match (a
// borrow from " - 0x01 01..." spills into the next byte); bytes one above
// a special (!, #, ], 0x80, 0xE3) are the ones such a borrow could fool.
func TestAppendPairs(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive, on one goroutine: -race finds nothing more here; the run without -short covers it")
	}
	const n = 16
	for _, a := range specials {
		for _, b := range specials {
			for i := 0; i+len(a) <= n; i++ {
				for j := i + len(a); j+len(b) <= n; j++ {
					s := strings.Repeat("x", i) + a + strings.Repeat("y", j-i-len(a)) + b + strings.Repeat("z", n-j-len(b))
					for _, p := range policies {
						check(t, s, p.o, p.old)
					}
				}
			}
		}
	}
}

// TestAppendAllBytePairs runs every two-byte string, and each one again
// inside a word, through both policies.
func TestAppendAllBytePairs(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive, on one goroutine: -race finds nothing more here; the run without -short covers it")
	}
	var buf [2]byte
	for x := range 256 {
		for y := range 256 {
			buf[0], buf[1] = byte(x), byte(y)
			for _, s := range []string{string(buf[:]), "abc" + string(buf[:]) + "def\u2028ghijklm"} {
				for _, p := range policies {
					check(t, s, p.o, p.old)
				}
			}
		}
	}
}

// TestAppendRandom runs 20,000 pseudo-random strings, up to 100 bytes
// drawn mostly from the specials, through both policies.
func TestAppendRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive, on one goroutine: -race finds nothing more here; the run without -short covers it")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range 20000 {
		b.Reset()
		for n := rng.IntN(100); b.Len() < n; {
			if rng.IntN(3) == 0 {
				b.WriteString(specials[rng.IntN(len(specials))])
			} else {
				b.WriteByte(byte('a' + rng.IntN(26)))
			}
		}
		for _, p := range policies {
			check(t, b.String(), p.o, p.old)
		}
	}
}

// TestAppendOptionsIndependent covers the combination no caller uses.
func TestAppendOptionsIndependent(t *testing.T) {
	for _, o := range []Options{EscapeDEL} {
		for _, s := range []string{"\x7f", "a\xff\x7fb", "0123456\x7f89abcdef\xe2\x80", "\u2028\x7f\xc3"} {
			check(t, s, o, nil)
		}
	}
}

// TestAppendNoAllocs checks Append writes into dst's spare capacity only.
func TestAppendNoAllocs(t *testing.T) {
	s := strings.Repeat("2026-01-01 INFO \"q\" \\ \t ü \xff \u2028 ", 8)
	dst := make([]byte, 0, 4*len(s))
	for _, p := range policies {
		if n := testing.AllocsPerRun(100, func() { dst = Append(dst[:0], s, p.o) }); n != 0 {
			t.Errorf("%s: %v allocations per call", p.name, n)
		}
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range append(specials, "", "0123456789abcdef", "0123456\xe2\x80\xa8", "01234567\xe2\x80\xa9x",
		"abcdefg\xf0\x9f\x98\x80h", "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", "payload={\"user\":\"u-1\",\"note\":\"tab\\there\"}") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range policies {
			check(t, s, p.o, p.old)
		}
		check(t, s, EscapeDEL, nil)
		// The output is JSON whenever it must be, and reads back as s (or
		// as s with invalid bytes replaced).
		sdk := Append(nil, s, SDK)
		if !utf8.Valid(sdk) {
			t.Fatalf("SDK output of %q is not UTF-8: %q", s, sdk)
		}
		var back string
		if err := json.Unmarshal(sdk, &back); err != nil {
			t.Fatalf("SDK output of %q: %v", s, err)
		}
		if want := string([]rune(s)); back != want { // one U+FFFD per invalid byte
			t.Fatalf("SDK round trip %q -> %q, want %q", s, back, want)
		}
		// Valid is what S3 and Firehose readers get: the text Repair gives.
		valid := Append(nil, s, Valid)
		if err := json.Unmarshal(valid, &back); err != nil || !utf8.Valid(valid) || back != Repair(s) {
			t.Fatalf("Valid round trip %q -> %q, want %q (%v)", s, back, Repair(s), err)
		}
		if utf8.ValidString(s) {
			if err := json.Unmarshal(Append(nil, s, Exact), &back); err != nil || back != s {
				t.Fatalf("Exact round trip %q -> %q (%v)", s, back, err)
			}
		}
	})
}

func TestRepair(t *testing.T) {
	for _, s := range []string{"", "plain", "ü 😀 \u2028", "a\xffb", "\xe2\x80", "\xed\xa0\x80", "\xc0\x80x", "x\xf0\x9f\x98"} {
		got := Repair(s)
		if want := string([]rune(s)); got != want { // []rune gives one U+FFFD per invalid byte
			t.Errorf("Repair(%q) = %q, want %q", s, got, want)
		}
	}
	s := "already valid ü"
	if n := testing.AllocsPerRun(100, func() { _ = Repair(s) }); n != 0 {
		t.Errorf("Repair of a valid string allocates %v times", n)
	}
}

// TestRepairAsBefore holds Repair, now the one repair of invalid UTF-8, to
// both it replaced (its own first version and logssink's repairUTF8) on
// random bytes: mostly ASCII, with multibyte runes, stray continuation and
// lead bytes, truncated runes and literal U+FFFD around word boundaries.
func TestRepairAsBefore(t *testing.T) {
	pieces := []string{"a", "bcdefgh", " ", "ü", "€", "😀", "\uFFFD", "\xff", "\x80", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\xc0\xaf"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		got := Repair(s)
		if want := oldRepair(s); got != want {
			t.Fatalf("Repair(%q) = %q, Repair before %q", s, got, want)
		}
		if want := oldLogsRepairUTF8(s); got != want {
			t.Fatalf("Repair(%q) = %q, logssink's repairUTF8 before %q", s, got, want)
		}
	}
}
