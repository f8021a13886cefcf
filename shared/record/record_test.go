package record

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/logfan/logfan/shared/subscription"
)

func TestAppendJSONMatchesRecordSchema(t *testing.T) {
	m := &subscription.Message{Owner: "111111111111", LogGroup: "/aws/lambda/a\"b", LogStream: "s\\1", SubscriptionFilters: []string{"f1", "f2"}, PolicyLevel: "ACCOUNT_LEVEL_POLICY"}
	tests := []subscription.LogEvent{
		{ID: "1", Timestamp: 1, Message: "plain"},
		{ID: "2", Timestamp: -5, Message: "tab\there\nnewline \x00 \x1f \"q\" \\ <html>&amp; \u2028 \u2029 ü 😀"},
		{ID: "3", Timestamp: 1767225600000, Message: "", ExtractedFields: json.RawMessage(`{"@aws.account":"111111111111"}`)},
	}
	for _, ev := range tests {
		line := AppendJSON(nil, m, &ev)
		var got Record
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		want := From(m, &ev)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("round trip:\n got %s\nwant %s", gj, wj)
		}
	}
	m.PolicyLevel = ""
	line := string(AppendJSON(nil, m, &tests[0]))
	if strings.Contains(line, "policyLevel") || strings.Contains(line, "extractedFields") {
		t.Errorf("optional fields written when absent: %s", line)
	}
}

func TestAppendStringKeepsInvalidUTF8(t *testing.T) {
	s := "a\xffb\xc3(c"
	out := AppendString(nil, s)
	if want := "\"a\xffb\xc3(c\""; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "x", "\"\\\n\t\x00", "\u2028", "😀", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		if !utf8.ValidString(s) {
			return
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: %v", s, out, err)
		}
		if back != s {
			t.Fatalf("round trip %q -> %s -> %q", s, out, back)
		}
	})
}

func BenchmarkAppendLine(b *testing.B) {
	m := &subscription.Message{Owner: "111111111111", LogGroup: "/aws/lambda/app", LogStream: "2026/01/01/[$LATEST]abc", SubscriptionFilters: []string{"logfan"}}
	ev := subscription.LogEvent{ID: "37290000000000000000000000000000000000000000000000000000", Timestamp: 1767225600000,
		Message: strings.Repeat(`2026-01-01T00:00:00Z INFO handled /api/orders status=200 payload={"user":"u-1","note":"tab\there"} `, 2)}
	var buf []byte
	b.Run("impl=logfan", func(b *testing.B) {
		b.SetBytes(int64(len(AppendLine(nil, m, &ev))))
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendLine(buf[:0], m, &ev)
		}
	})
	b.Run("impl=baseline", func(b *testing.B) {
		b.SetBytes(int64(len(AppendLine(nil, m, &ev))))
		b.ReportAllocs()
		for b.Loop() {
			out, _ := json.Marshal(From(m, &ev))
			buf = append(buf[:0], out...)
		}
	})
}
