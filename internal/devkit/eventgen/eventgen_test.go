package eventgen

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestDeterministicAndDecodable(t *testing.T) {
	src := Source{Owner: "111111111111", LogGroup: "/aws/lambda/app", LogStream: "2026/01/01/[$LATEST]abc", Kind: KindCloudTrail}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := MustPayload(New(7).Message(src, 50, start, time.Second, 0))
	b := MustPayload(New(7).Message(src, 50, start, time.Second, 0))
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different payloads")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var got events.CloudwatchLogsData
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("payload is not the CloudWatch Logs shape: %v", err)
	}
	if got.Owner != src.Owner || got.LogGroup != src.LogGroup || len(got.LogEvents) != 50 {
		t.Fatalf("got owner %q group %q with %d events", got.Owner, got.LogGroup, len(got.LogEvents))
	}
	seen := map[string]bool{}
	for _, e := range got.LogEvents {
		if seen[e.ID] {
			t.Fatalf("duplicate event id %s", e.ID)
		}
		seen[e.ID] = true
		if !json.Valid([]byte(e.Message)) {
			t.Fatalf("cloudtrail message is not JSON: %s", e.Message)
		}
	}
}

func TestMessageLinesKeepsOrderAndFillsPlaceholders(t *testing.T) {
	src := Source{Owner: "222222222222", LogGroup: "/app", LogStream: "s", Filter: "f"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := New(3).MessageLines(src, []string{"first {owner} {ts}", "second {iso}", "third"}, start, time.Second)
	want := []string{"first 222222222222 1767225600", "second 2026-01-01T00:00:01Z", "third"}
	if len(m.LogEvents) != len(want) || m.SubscriptionFilters[0] != "f" || m.MessageType != "DATA_MESSAGE" {
		t.Fatalf("got %+v", m)
	}
	for i, w := range want {
		if e := m.LogEvents[i]; e.Message != w || e.Timestamp != start.Add(time.Duration(i)*time.Second).UnixMilli() {
			t.Errorf("event %d = %q at %d, want %q", i, e.Message, e.Timestamp, w)
		}
	}
}

func TestFillSecondValues(t *testing.T) {
	src := Source{Owner: "111111111111", LogGroup: "/g", LogStream: "s"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	plain := New(5).MessageLines(src, []string{"{ip} {n} {rand}"}, start, time.Second)
	two := New(5).MessageLines(src, []string{"{ip} {n} {rand} {ip2} {n2} {rand2}"}, start, time.Second)
	a, b := plain.LogEvents[0].Message, two.LogEvents[0].Message
	if !strings.HasPrefix(b, a+" ") {
		t.Fatalf("second values changed the first ones: %q vs %q", a, b)
	}
	g := strings.Fields(b)
	if len(g) != 6 || g[3] == g[0] || g[5] == g[2] || strings.Contains(b, "{") {
		t.Fatalf("second values not filled independently: %q", b)
	}
}
