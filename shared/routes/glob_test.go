package routes

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern string
		yes, no []string
	}{
		{"/aws/cloudtrail/**", []string{"/aws/cloudtrail", "/aws/cloudtrail/", "/aws/cloudtrail/org", "/aws/cloudtrail/a/b/c"}, []string{"/aws/cloudtrail-x", "/aws/cloudtrai", "aws/cloudtrail/x"}},
		{"/security/*", []string{"/security/a", "/security/", "/security/vpc-flow"}, []string{"/security/a/b", "/security", "/securityx/a"}},
		{"/aws/lambda/healthcheck-*", []string{"/aws/lambda/healthcheck-", "/aws/lambda/healthcheck-prod"}, []string{"/aws/lambda/healthcheck", "/aws/lambda/healthcheck-a/b", "/aws/lambda/orders"}},
		{"/aws/*/prod", []string{"/aws/lambda/prod", "/aws//prod"}, []string{"/aws/lambda/x/prod", "/aws/lambda/prod2"}},
		{"**/prod", []string{"prod", "/prod", "a/prod", "/a/b/prod"}, []string{"production", "a/prodx"}},
		{"/a/**/b", []string{"/a/b", "/a/x/b", "/a/x/y/b"}, []string{"/a/xb", "/ab", "/a/b/c"}},
		{"*", []string{"", "anything", "no-slash.here"}, []string{"a/b", "/"}},
		{"**", []string{"", "a/b/c", "/"}, nil},
		{"a*b*c", []string{"abc", "aXbYc", "abbbc", "acbc"}, []string{"ab", "a/bc", "acb"}},
		{"literal.name", []string{"literal.name"}, []string{"literal-name", "literal.names"}},
		{"[x]?{a}", []string{"[x]?{a}"}, []string{"x", "xa"}},
	}
	for _, c := range cases {
		g, err := compileGlob(c.pattern)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		for _, s := range c.yes {
			if !g.match(s) {
				t.Errorf("%q should match %q", c.pattern, s)
			}
		}
		for _, s := range c.no {
			if g.match(s) {
				t.Errorf("%q should not match %q", c.pattern, s)
			}
		}
	}
}

func TestGlobErrors(t *testing.T) {
	for _, p := range []string{"", "a***", strings.Repeat("x", maxPattern+1)} {
		if _, err := compileGlob(p); err == nil {
			t.Errorf("%.20q: no error", p)
		}
	}
	// The longest pattern spans every state word.
	long := strings.Repeat("ab*", maxPattern/3) + "cd"
	g, err := compileGlob(long)
	if err != nil || len(long) != maxPattern {
		t.Fatal(len(long), err)
	}
	if !g.match(strings.Repeat("abXX", maxPattern/3)+"cd") || g.match(strings.Repeat("abXX", maxPattern/3)+"c") {
		t.Error("a pattern across all state words")
	}
}

// reference translates a pattern into a regular expression with the same
// meaning, as an independent oracle for the automaton.
func reference(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)^")
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "/**") && i+3 == len(p):
			b.WriteString("(/.*)?")
			i += 2
		case strings.HasPrefix(p[i:], "**/") && (i == 0 || p[i-1] == '/'):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case p[i] == '*':
			b.WriteString("[^/]*")
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func FuzzGlob(f *testing.F) {
	f.Add("/aws/**/x*", "/aws/a/b/xyz")
	f.Add("**/a/**", "a")
	f.Add("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Add("/a/**", "/a")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		g, err := compileGlob(pattern)
		if err != nil || !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			return // the regexp oracle needs UTF-8; the automaton works on bytes
		}
		want := reference(pattern).MatchString(name)
		if got := g.match(name); got != want {
			t.Fatalf("%q on %q: automaton %v, regexp %v", pattern, name, got, want)
		}
	})
}
