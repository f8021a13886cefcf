package jsonstr_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/logfan/logfan/internal/devkit/cputime"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/jsonstr"
)

// benchLines are 1,000 generated messages of one kind, ~200 bytes where
// the kind allows: app lines with a JSON tail (padded to 200 B with tokens
// by eventgen), CloudTrail records (JSON, ~520 B, a quote every few bytes),
// random tokens (200 B), and a Cyrillic and CJK line with a few escapes
// (~200 B) to show the multibyte path.
func benchLines(tb testing.TB, kind string) []string {
	tb.Helper()
	if kind == "unicode" {
		base := "2026-01-01T00:00:00Z INFO заказ обработан \"ok\" 注文を処理しました ü€ "
		lines := make([]string, 1000)
		long := strings.Repeat(base, 3)
		for i := range lines {
			n := 200 - i%8
			for !utf8.RuneStart(long[n]) {
				n--
			}
			lines[i] = long[:n]
		}
		return lines
	}
	size := 200
	if kind == eventgen.KindCloudTrail {
		size = 0 // its natural size
	}
	m := eventgen.New(7).Message(eventgen.Source{Owner: "111111111111", LogGroup: "/aws/lambda/app", LogStream: "s", Kind: kind},
		1000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Millisecond, size)
	lines := make([]string, len(m.LogEvents))
	for i, ev := range m.LogEvents {
		lines[i] = ev.Message
	}
	return lines
}

// BenchmarkAppend escapes 1,000 messages per op. impl=old-record is the
// baseline for Exact (record.AppendString before this package), impl=old-logs
// for SDK (logssink's escaper before); impl=valid is what NDJSON records use
// since invalid UTF-8 became U+FFFD, to compare with impl=exact.
func BenchmarkAppend(b *testing.B) {
	impls := []struct {
		name string
		fn   func([]byte, string) []byte
	}{
		{"old-record", jsonstr.OldRecordAppendString},
		{"exact", func(dst []byte, s string) []byte { return jsonstr.Append(dst, s, jsonstr.Exact) }},
		{"valid", func(dst []byte, s string) []byte { return jsonstr.Append(dst, s, jsonstr.Valid) }},
		{"old-logs", jsonstr.OldLogsAppendJSONString},
		{"sdk", func(dst []byte, s string) []byte { return jsonstr.Append(dst, s, jsonstr.SDK) }},
	}
	for _, kind := range []string{eventgen.KindApp, eventgen.KindCloudTrail, eventgen.KindRandom, "unicode"} {
		lines := benchLines(b, kind)
		size := 0
		for _, l := range lines {
			size += len(l)
		}
		for _, impl := range impls {
			b.Run("kind="+kind+"/impl="+impl.name, func(b *testing.B) {
				buf := make([]byte, 0, 4096)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				cpu0 := cputime.Process()
				for b.Loop() {
					for _, l := range lines {
						buf = impl.fn(buf[:0], l)
					}
				}
				b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N*len(lines)), "cpu-ns/line")
			})
		}
	}
}

// BenchmarkRepair repairs 1,000 messages per op. impl=old-jsonstr is
// Repair before, impl=old-logs logssink's repairUTF8 before they became one
// (Repair). kind=app is valid text (the common case, which returns at
// once); kind=app-invalid has one invalid byte per line; kind=latin1 is
// Latin-1 text, every accented letter an invalid byte.
func BenchmarkRepair(b *testing.B) {
	impls := []struct {
		name string
		fn   func(string) string
	}{
		{"old-jsonstr", jsonstr.OldRepair},
		{"old-logs", jsonstr.OldLogsRepairUTF8},
		{"repair", jsonstr.Repair},
	}
	app := benchLines(b, eventgen.KindApp)
	kinds := map[string][]string{"app": app}
	for _, kind := range []string{"app-invalid", "latin1"} {
		lines := make([]string, len(app))
		for i, l := range app {
			if kind == "app-invalid" {
				lines[i] = l[:len(l)/2] + "\xff" + l[len(l)/2:]
			} else {
				lines[i] = strings.NewReplacer("e", "\xe9", "a", "\xe0", "u", "\xfc").Replace(l)
			}
		}
		kinds[kind] = lines
	}
	for _, kind := range []string{"app", "app-invalid", "latin1"} {
		lines := kinds[kind]
		size := 0
		for _, l := range lines {
			size += len(l)
		}
		for _, impl := range impls {
			b.Run("kind="+kind+"/impl="+impl.name, func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				cpu0 := cputime.Process()
				for b.Loop() {
					for _, l := range lines {
						_ = impl.fn(l)
					}
				}
				b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N*len(lines)), "cpu-ns/line")
			})
		}
	}
}
