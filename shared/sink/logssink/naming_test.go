package logssink

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"
	"unsafe"

	"github.com/logfan/logfan/shared/config"
)

// The documented name rules (CreateLogGroup, CreateLogStream), checked
// independently of the sanitizers.
var groupRule = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)

func validStreamRule(s string) bool {
	n := len(utf16.Encode([]rune(s)))
	return n >= 1 && n <= MaxNameLength && !strings.ContainsAny(s, ":*")
}

func TestSanitizeGroup(t *testing.T) {
	long := "/logfan/111111111111/" + strings.Repeat("g", 600)
	tests := []struct{ in, want string }{
		{"/logfan/111111111111/aws/lambda/fn", "/logfan/111111111111/aws/lambda/fn"},
		{"a.b-c_d/e#f", "a.b-c_d/e#f"},
		{"with space", "with_space"},
		{"colon:star*", "colon_star_"},
		{"ünïcode", "_n_code"},             // one '_' per rune, not per byte
		{"emoji😀x", "emoji_x"},             // a 4-byte rune is one '_'
		{"bad\xff\xfebytes", "bad__bytes"}, // one '_' per invalid byte
		{"", "_"},
		{"aws/lambda/fn", "_aws/lambda/fn"}, // "aws/" prefix is reserved
		{"aws", "aws"},
		{"AWS/x", "AWS/x"},
		{"aws:x", "aws_x"},
		{long, long[:503] + hashSuffix(long)},
	}
	for _, tc := range tests {
		got := SanitizeGroup(tc.in)
		if got != tc.want {
			t.Errorf("SanitizeGroup(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !groupRule.MatchString(got) || strings.HasPrefix(got, "aws/") {
			t.Errorf("SanitizeGroup(%q) = %q breaks the group name rules", tc.in, got)
		}
		if SanitizeGroup(got) != got {
			t.Errorf("SanitizeGroup is not idempotent on %q", got)
		}
	}
	if a, b := SanitizeGroup(long+"a"), SanitizeGroup(long+"b"); a == b || len(a) != MaxNameLength {
		t.Errorf("long names sharing a 512-char prefix: %q vs %q (len %d)", a[490:], b[490:], len(a))
	}
	if got := SanitizeGroup(strings.Repeat("g", 512)); got != strings.Repeat("g", 512) {
		t.Errorf("a 512-character name was changed")
	}
}

func TestSanitizeStream(t *testing.T) {
	emoji := strings.Repeat("😀", 300) // 300 runes, 600 UTF-16 units
	tests := []struct{ in, want string }{
		{"2026/01/01/[$LATEST]abc", "2026/01/01/[$LATEST]abc"},
		{"i-0123 eth0 ünïcode", "i-0123 eth0 ünïcode"},
		{"host:port*", "host_port_"},
		{"bad\xffbyte", "bad_byte"},
		{"", "_"},
		{strings.Repeat("s", 512), strings.Repeat("s", 512)},
		{strings.Repeat("s", 513), strings.Repeat("s", 503) + hashSuffix(strings.Repeat("s", 513))},
		{strings.Repeat("é", 512), strings.Repeat("é", 512)}, // 1,024 bytes but 512 characters
		{emoji, strings.Repeat("😀", 251) + hashSuffix(emoji)},
	}
	for _, tc := range tests {
		got := SanitizeStream(tc.in)
		if got != tc.want {
			t.Errorf("SanitizeStream(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !validStreamRule(got) {
			t.Errorf("SanitizeStream(%q) = %q breaks the stream name rules", tc.in, got)
		}
		if SanitizeStream(got) != got {
			t.Errorf("SanitizeStream is not idempotent on %q", got)
		}
	}
}

func TestNamerTemplates(t *testing.T) {
	tests := []struct {
		name                  string
		groupTmpl, streamTmpl string
		owner, group, stream  string
		wantGroup, wantStream string
	}{
		{"defaults", config.DefaultLogsGroupTemplate, config.DefaultLogsStreamTemplate, "111111111111", "/aws/lambda/fn", "2026/01/01/[$LATEST]ab",
			"/logfan/111111111111/aws/lambda/fn", "2026/01/01/[$LATEST]ab"},
		{"group only, reserved prefix", "{logGroup}", "{owner}-{logStream}", "222222222222", "/aws/lambda/fn", "s",
			"_aws/lambda/fn", "222222222222-s"},
		{"group in stream", "/central", "{owner}/{logGroup}/{logStream}", "333333333333", "/app/api", "i-1:eth0",
			"/central", "333333333333/app/api/i-1_eth0"},
		{"literal junk sanitized", "/logfan/{owner} {logGroup}", "{logStream}", "1", "g", "",
			"/logfan/1_g", "_"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNamer(tc.groupTmpl, tc.streamTmpl, 0)
			got := n.Target(tc.owner, tc.group, tc.stream)
			if got != (Target{tc.wantGroup, tc.wantStream}) {
				t.Fatalf("Target = %+v, want %s / %s", got, tc.wantGroup, tc.wantStream)
			}
		})
	}
}

func TestNamerCacheBounded(t *testing.T) {
	n := NewNamer(config.DefaultLogsGroupTemplate, config.DefaultLogsStreamTemplate, 3)
	first := n.Target("1", "/g", "s")
	if again := n.Target("1", "/g", "s"); again != first || n.Len() != 1 {
		t.Fatalf("cached lookup = %+v (len %d), want %+v (len 1)", again, n.Len(), first)
	}
	for i, s := range []string{"a", "b", "c", "d", "e"} {
		n.Target("1", "/g", s)
		if n.Len() > 3 {
			t.Fatalf("after %d more sources the cache holds %d > 3", i+1, n.Len())
		}
	}
	if got := n.Target("1", "/g", "s"); got != first {
		t.Fatalf("after eviction Target = %+v, want %+v", got, first)
	}
	if allocs := testing.AllocsPerRun(100, func() { n.Target("1", "/g", "s") }); allocs != 0 {
		t.Fatalf("a cached lookup allocates %v times", allocs)
	}
}

// TestNamerDoesNotPinPayloads checks the cache keeps its own copies of the
// source names, not slices of the (possibly huge) decoded payload text.
func TestNamerDoesNotPinPayloads(t *testing.T) {
	payload := strings.Repeat("x", 1<<20) + "owner/group/stream"
	owner, group, stream := payload[1<<20:1<<20+5], payload[1<<20+6:1<<20+11], payload[1<<20+12:]
	n := NewNamer("{owner}{logGroup}", "{logStream}", 0)
	tg := n.Target(owner, group, stream)
	within := func(s string) bool {
		if len(s) == 0 {
			return false
		}
		p, q := unsafe.StringData(payload), unsafe.StringData(s)
		return uintptr(unsafe.Pointer(q)) >= uintptr(unsafe.Pointer(p)) && uintptr(unsafe.Pointer(q)) < uintptr(unsafe.Pointer(p))+uintptr(len(payload))
	}
	for k, v := range n.cache {
		for _, s := range []string{k.owner, k.group, k.stream, v.Group, v.Stream} {
			if within(s) {
				t.Fatalf("cache entry %q points into the payload", s)
			}
		}
	}
	if tg.Stream != "stream" || tg.Group != "ownergroup" {
		t.Fatalf("target %+v", tg)
	}
}
