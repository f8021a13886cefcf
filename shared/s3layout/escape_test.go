package s3layout

import (
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"111111111111", "111111111111"},
		{"/aws/lambda/my-fn", "%2Faws%2Flambda%2Fmy-fn"},
		{"app.prod_2#blue", "app.prod_2%23blue"},
		{"100%", "100%25"},
		{"a=b:c d", "a%3Db%3Ac%20d"},
		{"~", "%7E"},
		{"é", "%C3%A9"},
		{"\x00\xff", "%00%FF"},
	}
	for _, tt := range tests {
		got := Escape(tt.in)
		if got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := Unescape(got)
		if err != nil || back != tt.in {
			t.Errorf("Unescape(%q) = %q, %v; want %q", got, back, err, tt.in)
		}
	}
}

func TestEscapeRoundTripEveryByte(t *testing.T) {
	var all strings.Builder
	for c := 0; c < 256; c++ {
		all.WriteByte(byte(c))
		s := string([]byte{byte(c)})
		e := Escape(s)
		if strings.ContainsAny(e, "/=:#~ ") {
			t.Errorf("Escape(%q) = %q keeps a reserved byte", s, e)
		}
		if back, err := Unescape(e); err != nil || back != s {
			t.Errorf("byte %#x: round trip gave %q, %v", c, back, err)
		}
	}
	if back, err := Unescape(Escape(all.String())); err != nil || back != all.String() {
		t.Errorf("all bytes: round trip failed: %v", err)
	}
}

func TestUnescapeRejects(t *testing.T) {
	for _, v := range []string{"%", "%2", "%2f", "%GG", "a/b", "a b", "%41", "x~0123456789abcdef"} {
		if got, err := Unescape(v); err == nil {
			t.Errorf("Unescape(%q) = %q, want an error", v, got)
		}
	}
}
