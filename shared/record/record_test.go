package record

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/logfan/logfan/shared/jsonstr"
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
		var got Event
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
	if strings.Contains(line, "policyLevel") || strings.Contains(line, "extractedFields") || strings.Contains(line, "region") || strings.Contains(line, "hubAccount") {
		t.Errorf("optional fields written when absent: %s", line)
	}
}

// TestRegionAndHubAccount writes the region and the hub account when the
// message has them, and only then: nothing is invented.
func TestRegionAndHubAccount(t *testing.T) {
	d := subscription.NewDecoder(0)
	ev := `{"id":"1","timestamp":1,"message":"m","extractedFields":{"@aws.account":"111111111111","@aws.region":"eu-west-1"}}`
	for _, tt := range []struct {
		name, owner, event, hub string
		want                    string
	}{
		{"a hub's event", "999999999999", ev, "999999999999",
			`{"owner":"111111111111","logGroup":"/g","logStream":"s","subscriptionFilters":[],"id":"1","timestamp":1,"message":"m","extractedFields":{"@aws.account":"111111111111","@aws.region":"eu-west-1"},"region":"eu-west-1","hubAccount":"999999999999"}`},
		{"a sender's event", "111111111111", ev, "999999999999",
			`{"owner":"111111111111","logGroup":"/g","logStream":"s","subscriptionFilters":[],"id":"1","timestamp":1,"message":"m","extractedFields":{"@aws.account":"111111111111","@aws.region":"eu-west-1"},"region":"eu-west-1"}`},
		{"a sender claiming another account", "222222222222", ev, "999999999999",
			`{"owner":"222222222222","logGroup":"/g","logStream":"s","subscriptionFilters":[],"id":"1","timestamp":1,"message":"m","extractedFields":{"@aws.account":"111111111111","@aws.region":"eu-west-1"},"region":"eu-west-1"}`},
		{"no system fields", "111111111111", `{"id":"1","timestamp":1,"message":"m"}`, "999999999999",
			`{"owner":"111111111111","logGroup":"/g","logStream":"s","subscriptionFilters":[],"id":"1","timestamp":1,"message":"m"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			payload := `{"messageType":"DATA_MESSAGE","owner":"` + tt.owner + `","logGroup":"/g","logStream":"s","subscriptionFilters":[],"logEvents":[` + tt.event + `]}`
			m, err := d.Decode(subscription.Compress([]byte(payload)))
			if err != nil {
				t.Fatal(err)
			}
			subscription.Attribute(m, tt.hub)
			line := AppendJSON(nil, m, &m.LogEvents[0])
			if string(line) != tt.want {
				t.Fatalf("got  %s\nwant %s", line, tt.want)
			}
			// The record's context encodes to a payload that decodes and
			// attributes back to the same record (redrive, resend).
			var e Event
			if err := json.Unmarshal(line, &e); err != nil {
				t.Fatal(err)
			}
			c := e.Context()
			c.LogEvents = []subscription.LogEvent{e.LogEvent()}
			data, err := subscription.Encode(c)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := d.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if m2.Owner != tt.owner {
				t.Errorf("re-encoded payload's owner %q, want %q", m2.Owner, tt.owner)
			}
			subscription.Attribute(m2, tt.hub)
			if again := AppendJSON(nil, m2, &m2.LogEvents[0]); string(again) != tt.want {
				t.Errorf("after a round trip\n got %s\nwant %s", again, tt.want)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite testdata/golden.ndjson from the current AppendLine")

// goldenEvents cover what the string escaper must get right: every kind of
// escape, invalid UTF-8, U+2028/2029 and DEL, at offsets on both sides of
// 8-byte words, in short and long strings.
func goldenEvents() (*subscription.Message, []subscription.LogEvent) {
	m := &subscription.Message{Owner: "111111111111", LogGroup: "/aws/lambda/app\\x", LogStream: "2026/01/01/[$LATEST]\"abc\"",
		SubscriptionFilters: []string{"logfan", "f\u2028"}, PolicyLevel: "ACCOUNT_LEVEL_POLICY"}
	msgs := []string{
		"",
		"plain ascii line of some length, longer than a few words",
		`2026-01-01T00:00:00Z INFO handled /api/orders status=200 payload={"user":"u-1","note":"tab\there \"q\""}`,
		"control \x00\x01\x08\x0c\x1f tab\t nl\n cr\r quote\" backslash\\ del\x7f end",
		"1234567\x7f" + "234567\"" + "\\",
		"line\u2028sep\u2029para 1234\u2028" + "567\u2029",
		"invalid \xff\xfe bytes \xe2\x82 cut \xed\xa0\x80 surrogate \xc0\x80 overlong \x80",
		"1234567\xe2\x80\xa8 split at a word boundary \xe2\x80",
		"ünïcödé € 😀 \uFFFD заказ 注文 <html>&amp;</html>",
		strings.Repeat("\"", 40),
		strings.Repeat("abcdefg\\", 30) + "\xe2",
	}
	events := make([]subscription.LogEvent, len(msgs))
	for i, msg := range msgs {
		events[i] = subscription.LogEvent{ID: strings.Repeat("3", 40) + string(rune('0'+i%10)), Timestamp: 1767225600000 + int64(i), Message: msg}
	}
	events[2].ExtractedFields = json.RawMessage(`{"@aws.account":"111111111111"}`)
	return m, events
}

// TestAppendLineGolden pins AppendLine's bytes (S3 and Firehose readers
// see them) to testdata/golden.ndjson: written by the implementation before
// the escaper moved to jsonstr, then rewritten (-update) once when invalid
// UTF-8 became U+FFFD; only the line with invalid bytes changed.
func TestAppendLineGolden(t *testing.T) {
	m, events := goldenEvents()
	var got []byte
	for i := range events {
		got = AppendLine(got, m, &events[i])
	}
	path := filepath.Join("testdata", "golden.ndjson")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range min(len(gl), len(wl)) {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("line %d:\n got %q\nwant %q", i, gl[i], wl[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(gl), len(wl))
	}
}

// TestAppendStringReplacesInvalidUTF8 checks each invalid byte becomes one
// U+FFFD, as encoding/json writes it, and the output is valid JSON.
func TestAppendStringReplacesInvalidUTF8(t *testing.T) {
	for _, s := range []string{"a\xffb\xc3(c", "\xe2\x80 cut", "\xed\xa0\x80 surrogate", "\xc0\x80", "ok ü"} {
		out := AppendString(nil, s)
		want, _ := json.Marshal(s)
		want = bytes.ReplaceAll(want, []byte(`\ufffd`), []byte("\uFFFD"))
		if string(out) != string(want) {
			t.Errorf("AppendString(%q) = %q, want %q", s, out, want)
		}
		if !utf8.Valid(out) || !json.Valid(out) {
			t.Errorf("AppendString(%q) = %q: not valid UTF-8 JSON", s, out)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "x", "\"\\\n\t\x00", "\u2028", "😀", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		if !utf8.Valid(out) {
			t.Fatalf("AppendString(%q) = %q: not UTF-8", s, out)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: %v", s, out, err)
		}
		// encoding/json replaces each invalid byte with U+FFFD on marshal,
		// exactly as AppendString does: the oracle for any input.
		want := s
		if !utf8.ValidString(s) {
			want = jsonstr.Repair(s)
		}
		if back != want {
			t.Fatalf("round trip %q -> %s -> %q, want %q", s, out, back, want)
		}
	})
}

// BenchmarkAppendLine writes one NDJSON line per op: impl=logfan is
// AppendLine (invalid UTF-8 as U+FFFD), impl=exact the byte-exact writer it
// was before (the same code under jsonstr.Exact), impl=baseline
// encoding/json; msg=ascii is a typical app line, msg=unicode the same
// with Cyrillic and CJK text.
func BenchmarkAppendLine(b *testing.B) {
	m := &subscription.Message{Owner: "111111111111", LogGroup: "/aws/lambda/app", LogStream: "2026/01/01/[$LATEST]abc", SubscriptionFilters: []string{"logfan"}}
	msgs := map[string]string{
		"ascii":   strings.Repeat(`2026-01-01T00:00:00Z INFO handled /api/orders status=200 payload={"user":"u-1","note":"tab\there"} `, 2),
		"unicode": strings.Repeat(`2026-01-01T00:00:00Z INFO заказ обработан {"note":"注文を処理しました ü€"} `, 2),
	}
	for _, kind := range []string{"ascii", "unicode"} {
		ev := subscription.LogEvent{ID: "37290000000000000000000000000000000000000000000000000000", Timestamp: 1767225600000, Message: msgs[kind]}
		var buf []byte
		size := int64(len(AppendLine(nil, m, &ev)))
		b.Run("msg="+kind+"/impl=logfan", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendLine(buf[:0], m, &ev)
			}
		})
		b.Run("msg="+kind+"/impl=exact", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				buf = append(AppendJSONExact(buf[:0], m, &ev), '\n')
			}
		})
		b.Run("msg="+kind+"/impl=baseline", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				out, _ := json.Marshal(From(m, &ev))
				buf = append(buf[:0], out...)
			}
		})
	}
}

// TestColumnsAreTheEvent holds Columns to Event's JSON names and to the
// keys AppendJSON writes, in order, when every optional field is present.
func TestColumnsAreTheEvent(t *testing.T) {
	var names []string
	for _, c := range Columns {
		names = append(names, c.Name)
	}
	var tags []string
	rt := reflect.TypeFor[Event]()
	for i := range rt.NumField() {
		tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		tags = append(tags, tag)
	}
	if !reflect.DeepEqual(names, tags) {
		t.Errorf("Columns %v, Event's JSON names %v", names, tags)
	}
	m := &subscription.Message{Owner: "1", LogGroup: "g", LogStream: "s", SubscriptionFilters: []string{"f"}, PolicyLevel: "ACCOUNT_LEVEL_POLICY",
		Region: "eu-west-1", HubAccount: "999999999999"}
	line := AppendJSON(nil, m, &subscription.LogEvent{ID: "i", Timestamp: 1, Message: "m", ExtractedFields: json.RawMessage(`{"a":"b"}`)})
	dec := json.NewDecoder(bytes.NewReader(line))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(names, keys) {
		t.Errorf("Columns %v, AppendJSON's keys %v", names, keys)
	}
}
