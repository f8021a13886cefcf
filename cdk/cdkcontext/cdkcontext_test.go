package cdkcontext

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// parserOver returns a Parser over one value stored under key "k" (absent when v is nil).
func parserOver(t *testing.T, v any) *Parser {
	t.Helper()
	return NewParser(func(key string) any {
		if key != "k" {
			t.Errorf("lookup(%q), want only k", key)
			return nil
		}
		return v
	})
}

// fromJSON decodes a cdk.json value the way the CDK hands it to Go (float64, bool, []any...).
func fromJSON(t *testing.T, doc string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	return v
}

// wantProblems fails unless p recorded exactly the given messages, in order.
func wantProblems(t *testing.T, p *Parser, want ...string) {
	t.Helper()
	var got []string
	if err := p.Err(); err != nil {
		got = strings.Split(err.Error(), "\n")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

// readCase is one table row: a context value, what the reader under test
// should return for it, and the problems it should record.
type readCase[T any] struct {
	name     string
	v        any
	want     T
	problems []string
}

// runReads runs read on a fresh Parser over each case's value.
func runReads[T any](t *testing.T, read func(*Parser) T, cases []readCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := parserOver(t, tc.v)
			if got := read(p); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			wantProblems(t, p, tc.problems...)
		})
	}
}

func TestString(t *testing.T) {
	runReads(t, func(p *Parser) string { return p.String("k", "def") }, []readCase[string]{
		{name: "unset gives default", v: nil, want: "def"},
		{name: "string", v: "abc", want: "abc"},
		{name: "whitespace trimmed", v: "  abc \t\n", want: "abc"},
		{name: "blank gives default", v: "   ", want: "def"},
		{name: "empty gives default", v: "", want: "def"},
		{name: "json true", v: fromJSON(t, `true`), want: "true"},
		{name: "json false", v: fromJSON(t, `false`), want: "false"},
		{name: "json whole number", v: fromJSON(t, `42`), want: "42"},
		{name: "json account ID stays whole", v: fromJSON(t, `123456789012`), want: "123456789012"},
		{name: "json million not exponent", v: fromJSON(t, `1000000`), want: "1000000"},
		{name: "json negative", v: fromJSON(t, `-7`), want: "-7"},
		{name: "json fraction", v: fromJSON(t, `0.5`), want: "0.5"},
		{name: "json small fraction not exponent", v: fromJSON(t, `0.00001`), want: "0.00001"},
		{name: "json huge number not exponent", v: fromJSON(t, `1e21`), want: "1000000000000000000000"},
		{name: "go int", v: 8, want: "8"},
		{name: "json array prints as Go value", v: fromJSON(t, `["a","b"]`), want: "[a b]"},
	})
}

func TestMatch(t *testing.T) {
	reDigits := regexp.MustCompile(`^\d{3}$`)
	runReads(t, func(p *Parser) string { return p.Match("k", "000", reDigits, "three digits") }, []readCase[string]{
		{name: "unset checks and returns the default", v: nil, want: "000"},
		{name: "blank gives default", v: "  ", want: "000"},
		{name: "good string trimmed", v: " 123 ", want: "123"},
		{name: "good json number", v: fromJSON(t, `123`), want: "123"},
		{name: "bad value is returned and reported", v: "12a", want: "12a", problems: []string{`k="12a": want three digits`}},
	})
	// A default that fails its own pattern is a bug in the caller, and Match
	// must say so rather than pass it through silently.
	runReads(t, func(p *Parser) string { return p.Match("k", "x", reDigits, "three digits") }, []readCase[string]{
		{name: "bad default reported", v: nil, want: "x", problems: []string{`k="x": want three digits`}},
	})
}

func TestOptionalMatch(t *testing.T) {
	reDigits := regexp.MustCompile(`^\d{3}$`)
	runReads(t, func(p *Parser) string { return p.OptionalMatch("k", reDigits, "three digits") }, []readCase[string]{
		{name: "unset is empty and fine", v: nil, want: ""},
		{name: "blank is empty and fine", v: "  ", want: ""},
		{name: "good string trimmed", v: " 123 ", want: "123"},
		{name: "good json number", v: fromJSON(t, `123`), want: "123"},
		{name: "bad value is returned and reported", v: "12a", want: "12a", problems: []string{`k="12a": want three digits`}},
	})
}

func TestOneOf(t *testing.T) {
	runReads(t, func(p *Parser) string { return p.OneOf("k", "Alpha", "Alpha", "Beta") }, []readCase[string]{
		{name: "unset gives default", v: nil, want: "Alpha"},
		{name: "exact", v: "Beta", want: "Beta"},
		{name: "case-insensitive, canonical spelling returned", v: " bEtA ", want: "Beta"},
		{name: "unknown gives default and a problem", v: "gamma", want: "Alpha", problems: []string{`k="gamma": want one of Alpha, Beta`}},
		{name: "json bool is not a choice", v: true, want: "Alpha", problems: []string{`k="true": want one of Alpha, Beta`}},
	})
}

func TestBool(t *testing.T) {
	runReads(t, func(p *Parser) bool { return p.Bool("k", false) }, []readCase[bool]{
		{name: "unset gives default false", v: nil, want: false},
		{name: "json true", v: fromJSON(t, `true`), want: true},
		{name: "string with spaces and case", v: " TRUE ", want: true},
		{name: "json 1", v: fromJSON(t, `1`), want: true},
		{name: "json 2 is not a boolean", v: fromJSON(t, `2`), want: false, problems: []string{`k="2": want true or false`}},
	})
	runReads(t, func(p *Parser) bool { return p.Bool("k", true) }, []readCase[bool]{
		{name: "unset gives default true", v: nil, want: true},
		{name: "blank gives default", v: " ", want: true},
		{name: "json false", v: fromJSON(t, `false`), want: false},
		{name: "string from -c", v: "false", want: false},
		{name: "json 0", v: fromJSON(t, `0`), want: false},
		{name: "malformed gives default", v: "yes", want: true, problems: []string{`k="yes": want true or false`}},
	})
}

func TestInt(t *testing.T) {
	runReads(t, func(p *Parser) int { return p.Int("k", 5, 1, 10) }, []readCase[int]{
		{name: "unset gives default", v: nil, want: 5},
		{name: "blank gives default", v: "  ", want: 5},
		{name: "json number", v: fromJSON(t, `7`), want: 7},
		{name: "string from -c", v: " 9 ", want: 9},
		{name: "go int", v: 3, want: 3},
		{name: "lower bound", v: "1", want: 1},
		{name: "upper bound", v: fromJSON(t, `10`), want: 10},
		{name: "below range", v: "0", want: 5, problems: []string{`k="0": want an integer from 1 to 10`}},
		{name: "above range", v: fromJSON(t, `11`), want: 5, problems: []string{`k="11": want an integer from 1 to 10`}},
		{name: "json fraction", v: fromJSON(t, `2.5`), want: 5, problems: []string{`k="2.5": want an integer from 1 to 10`}},
		{name: "not a number", v: "ten", want: 5, problems: []string{`k="ten": want an integer from 1 to 10`}},
		{name: "json bool", v: true, want: 5, problems: []string{`k="true": want an integer from 1 to 10`}},
	})
}

func TestList(t *testing.T) {
	runReads(t, func(p *Parser) []string { return p.List("k") }, []readCase[[]string]{
		{name: "unset", v: nil},
		{name: "empty string", v: ""},
		{name: "comma-separated from -c", v: "a,b,c", want: []string{"a", "b", "c"}},
		{name: "spaces and empty items dropped", v: " a , ,b,, ", want: []string{"a", "b"}},
		{name: "single item", v: " a ", want: []string{"a"}},
		{name: "json array", v: fromJSON(t, `["a"," b ",""]`), want: []string{"a", "b"}},
		{name: "json empty array", v: fromJSON(t, `[]`)},
		{name: "go string slice", v: []string{"x", " ", " y"}, want: []string{"x", "y"}},
		{name: "json number", v: fromJSON(t, `123456789012`), want: []string{"123456789012"}},
		// Account IDs written as JSON numbers keep their digits.
		{name: "json array of numbers", v: fromJSON(t, `[1, 123456789012]`), want: []string{"1", "123456789012"}},
	})
}

func TestErrCollectsEveryProblemInOrder(t *testing.T) {
	// GIVEN a context where several keys are wrong
	ctx := map[string]any{"count": "many", "mode": "sideways", "flag": "maybe", "id": "x"}
	p := NewParser(func(k string) any { return ctx[k] })
	sentinel := errors.New("cross-key rule broken")
	// WHEN every key is read and a cross-key rule fails too
	p.Int("count", 1, 1, 3)
	p.OneOf("mode", "up", "up", "down")
	p.Bool("flag", false)
	p.OptionalMatch("id", regexp.MustCompile(`^\d+$`), "digits")
	p.Report(sentinel)
	p.Report(nil)
	p.Fail("other", `quo"te`, "no quotes")
	// THEN one error lists them all, in the order found, with the value quoted
	wantProblems(t, p,
		`count="many": want an integer from 1 to 3`,
		`mode="sideways": want one of up, down`,
		`flag="maybe": want true or false`,
		`id="x": want digits`,
		`cross-key rule broken`,
		`other="quo\"te": want no quotes`,
	)
	if !errors.Is(p.Err(), sentinel) {
		t.Error("Err does not wrap a reported error")
	}
}

func TestErrIsNilWithoutProblems(t *testing.T) {
	p := NewParser(func(string) any { return nil })
	p.String("a", "x")
	p.List("b")
	p.Report(nil)
	if err := p.Err(); err != nil {
		t.Fatalf("Err = %v, want nil", err)
	}
}

func TestCheckKeys(t *testing.T) {
	known := []string{"shardCount", "streamMode", "s3Prefix"}
	err := CheckKeys(map[string]any{"sharCount": 2, "shardCount": 1, "zzz": 1, "@aws-cdk/core:x": true, "aws:cdk:enable-path-metadata": true, "cli-telemetry": false}, known)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`unknown context key "sharCount": did you mean shardCount?`, `unknown context key "zzz" (`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "aws") || strings.Contains(err.Error(), "telemetry") {
		t.Errorf("CDK's own keys refused: %v", err)
	}
	if err := CheckKeys(map[string]any{"shardCount": 1}, known); err != nil {
		t.Error(err)
	}
}

func TestIgnoredAndKeys(t *testing.T) {
	ctx := map[string]any{"shardCount": 3.0, "streamMode": "on-demand", "other": 1.0}
	p := NewParser(func(k string) any { return ctx[k] })
	p.Ignored("shardCount", "1", "on-demand")
	p.Ignored("other", "1", "never") // at its default
	p.Ignored("missing", "1", "never")
	if w := p.Warnings(); len(w) != 1 || w[0].Key != "shardCount" || w[0].Message != "shardCount=3 is ignored: on-demand" {
		t.Errorf("warnings %+v", w)
	}
	if got := strings.Join(p.Keys(), ","); got != "missing,other,shardCount" {
		t.Errorf("keys read %s", got)
	}
}
