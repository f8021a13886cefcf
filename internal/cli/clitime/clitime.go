// Package clitime reads the operator commands' -since and -until values:
// an RFC 3339 time, a UTC day, or a time relative to now such as 2h or 7d,
// so every command reads them the same way.
package clitime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Want describes the accepted forms, for flag help and errors.
const Want = "an RFC 3339 time (2026-01-02T15:04:05Z), a UTC day (2026-01-02), or a time ago such as 90m, 2h or 7d"

// Parse reads s as Want describes; a relative value is that long before now.
func Parse(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty time: want " + Want)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	d, err := parseAgo(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want %s", s, Want)
	}
	return now.Add(-d), nil
}

// parseAgo reads a non-negative Go duration that may start with a number of days ("7d", "1d12h").
func parseAgo(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 100*366 {
			return 0, errors.New("bad days")
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("bad duration")
	}
	return days + d, nil
}

// Range is a [Since, Until) window of event times; a zero end is open.
type Range struct {
	Since, Until time.Time
}

// ParseRange reads -since and -until (either may be empty: open) and checks that since is before until.
func ParseRange(since, until string, now time.Time) (Range, error) {
	var r Range
	var err error
	if since != "" {
		if r.Since, err = Parse(since, now); err != nil {
			return Range{}, fmt.Errorf("-since %w", err)
		}
	}
	if until != "" {
		if r.Until, err = Parse(until, now); err != nil {
			return Range{}, fmt.Errorf("-until %w", err)
		}
	}
	if !r.Since.IsZero() && !r.Until.IsZero() && !r.Since.Before(r.Until) {
		return Range{}, fmt.Errorf("-since %s is not before -until %s: swap them, or widen the window", r.Since.UTC().Format(time.RFC3339), r.Until.UTC().Format(time.RFC3339))
	}
	return r, nil
}
