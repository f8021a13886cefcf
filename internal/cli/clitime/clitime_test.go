package clitime

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-01-02T15:04:05Z":      time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
		"2026-01-02T15:04:05+01:00": time.Date(2026, 1, 2, 14, 4, 5, 0, time.UTC),
		"2026-01-02":                time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		"2h":                        now.Add(-2 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"1d12h":                     now.Add(-36 * time.Hour),
		" 0s ":                      now,
	} {
		got, err := Parse(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-2h", "2", "d", "3dd", "2026-13-01", "1.5d"} {
		if _, err := Parse(bad, now); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
			t.Errorf("%q: got %v, want an error naming the forms", bad, err)
		}
	}
}

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	r, err := ParseRange("2h", "", now)
	if err != nil || !r.Since.Equal(now.Add(-2*time.Hour)) || !r.Until.IsZero() {
		t.Errorf("got %+v, %v", r, err)
	}
	if _, err := ParseRange("1h", "2h", now); err == nil || !strings.Contains(err.Error(), "not before") {
		t.Errorf("since after until: got %v", err)
	}
	if _, err := ParseRange("x", "", now); err == nil || !strings.HasPrefix(err.Error(), "-since") {
		t.Errorf("bad since: got %v", err)
	}
}
