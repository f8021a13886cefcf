package logssink

import (
	"fmt"
	"strings"
	"testing"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

func msgFrom(owner, group, stream string, evs ...subscription.LogEvent) sink.DecodedRecord {
	return sink.DecodedRecord{SequenceNumber: "s", Message: &subscription.Message{Owner: owner, LogGroup: group, LogStream: stream, LogEvents: evs}}
}

func le(id string, ts int64, msg string) subscription.LogEvent {
	return subscription.LogEvent{ID: id, Timestamp: ts, Message: msg}
}

// TestPrepareGroupsByTarget: events go to the stream their source's names
// expand to; sources that sanitize to the same target share one stream,
// sorted by time with arrival order kept among equal timestamps, and each
// event remembers its record and position.
func TestPrepareGroupsByTarget(t *testing.T) {
	s := New(nil, config.Logs{GroupTemplate: "/t/{owner}", StreamTemplate: "{logStream}"})
	b := &sink.Batch{Records: []sink.DecodedRecord{
		msgFrom("1", "/g", "a:b", le("r0e0", 30, "x"), le("r0e1", 10, "y")),
		msgFrom("2", "/g", "a:b", le("r1e0", 5, "z")),
		msgFrom("1", "/other", "a*b", le("r2e0", 10, "w"), le("r2e1", 1, "v")), // same target as record 0
		msgFrom("1", "/g", "c", le("r3e0", 7, "u")),
	}}
	works, pre := s.prepare(b)
	if len(pre) != 0 {
		t.Fatalf("refused %v", pre)
	}
	got := map[string]string{}
	for _, w := range works {
		var ids []string
		for _, e := range w.events {
			ev := b.Records[e.rec].Message.LogEvents[e.idx]
			if ev.Timestamp != e.ts || ev.Message != e.msg {
				t.Fatalf("event %v does not point at its source %+v", e, ev)
			}
			ids = append(ids, ev.ID)
		}
		got[w.t.String()] = strings.Join(ids, " ")
		if len(w.spans) != 1 || w.spans[0] != (span{0, len(w.events)}) {
			t.Errorf("%s: spans %v", w.t, w.spans)
		}
	}
	want := map[string]string{
		"/t/1:a_b": "r2e1 r0e1 r2e0 r0e0", // r0e1 and r2e0 tie at 10: arrival order
		"/t/2:a_b": "r1e0",
		"/t/1:c":   "r3e0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("targets = %v, want %v", got, want)
	}
}

// TestPrepareRefuses checks the per-event limits: a message of exactly the
// limit (1 MB events: 1,048,576 bytes with the 26-byte overhead) goes out,
// one byte more is refused as oversize, the size counts after UTF-8 repair,
// empty messages are refused, and the older 256 KB limit is an option. A
// refused event is reported undeliverable with its kind and reason.
func TestPrepareRefuses(t *testing.T) {
	limit := DefaultMaxMessageBytes
	legacy := []Option{WithLimits(Limits{MaxMessageBytes: LegacyMaxMessageBytes})}
	tests := []struct {
		name   string
		opts   []Option
		msg    string
		kind   string // "" when the event is sent
		reason string
	}{
		{"256 KB to 1 MB is delivered", nil, strings.Repeat("a", 900_000), "", ""},
		{"exactly the limit", nil, strings.Repeat("a", limit), "", ""},
		{"one byte over", nil, strings.Repeat("a", limit+1), KindTooLarge, "oversize: message is 1048551 bytes, over the 1048550-byte"},
		{"over only after repair", nil, strings.Repeat("a", limit-1) + "\xff", KindTooLarge, "oversize: message is 1048552 bytes after replacing invalid UTF-8"},
		{"repaired within the limit", nil, strings.Repeat("a", limit-3) + "\xff", "", ""},
		{"multi-byte counted in bytes", nil, strings.Repeat("é", limit/2+1), KindTooLarge, "oversize"},
		{"empty", nil, "", KindEmpty, "empty message"},
		{"256 KB limit: at the limit", legacy, strings.Repeat("b", LegacyMaxMessageBytes), "", ""},
		{"256 KB limit: one byte over", legacy, strings.Repeat("b", LegacyMaxMessageBytes+1), KindTooLarge, "over the 262118-byte"},
		{"strict UTF-8", []Option{WithInvalidUTF8(QuarantineInvalidUTF8)}, "caf\xe9", KindInvalidUTF8, "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(nil, config.Logs{}, tc.opts...)
			b := &sink.Batch{Records: []sink.DecodedRecord{msgFrom("1", "/g", "s", le("ok", 1, "fine"), le("x", 2, tc.msg))}}
			works, pre := s.prepare(b)
			sent := len(works[0].events)
			switch {
			case tc.kind == "" && (sent != 2 || len(pre) != 0):
				t.Fatalf("sent %d, refused %v; want both sent", sent, pre)
			case tc.kind != "" && (sent != 1 || len(pre) != 1 || pre[0].rec != 0 || pre[0].idx != 1 || pre[0].kind != tc.kind || !strings.Contains(pre[0].reason, tc.reason)):
				t.Fatalf("sent %d, refused %+v; want event 1 refused as %s with %q", sent, pre, tc.kind, tc.reason)
			}
			for _, e := range works[0].events {
				if eventSize(e.msg) > DefaultMaxBatchBytes {
					t.Fatalf("an event of %d bytes cannot fit a batch", eventSize(e.msg))
				}
			}
		})
	}
}
