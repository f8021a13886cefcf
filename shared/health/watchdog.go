package health

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/logfan/logfan/shared/emf"
)

// Reader reads the table back; dynamohealth.Store implements it.
type Reader interface {
	// Senders returns every sender item.
	Senders(ctx context.Context) ([]Sender, error)
	// LogGroupDays returns the log-group items of one UTC day.
	LogGroupDays(ctx context.Context, day string) ([]LogGroupDay, error)
}

// Read reads what Evaluate needs at now. cache, if not nil, keeps finished
// days between calls: a day no instance writes any more (a log-group key
// is written at most DefaultLogGroupInterval after its last record, so
// FinishedAfter past the day's end), and a warm watchdog reads one day
// every five minutes, not eight.
func Read(ctx context.Context, r Reader, now time.Time, cache *DayCache) ([]Sender, Days, error) {
	senders, err := r.Senders(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := DayNames(now)
	days := make(Days, len(names))
	for i, d := range names {
		end, _ := time.Parse(DayLayout, d)
		finished := now.Sub(end.AddDate(0, 0, 1)) >= FinishedAfter
		if finished && cache != nil {
			if items, ok := cache.get(d); ok {
				days[i] = items
				continue
			}
		}
		if days[i], err = r.LogGroupDays(ctx, d); err != nil {
			return nil, nil, err
		}
		if finished && cache != nil {
			cache.put(d, days[i], names)
		}
	}
	return senders, days, nil
}

// FinishedAfter is how long after its end a day's log-group items no longer
// change: the consumers' last hourly write, with a margin.
const FinishedAfter = DefaultLogGroupInterval + time.Hour

// DayCache keeps finished days' log-group items in memory.
type DayCache struct {
	mu   sync.Mutex
	days map[string][]LogGroupDay
}

func (c *DayCache) get(day string) ([]LogGroupDay, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	items, ok := c.days[day]
	return items, ok
}

// put stores day and drops days no longer in window.
func (c *DayCache) put(day string, items []LogGroupDay, window []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.days == nil {
		c.days = map[string][]LogGroupDay{}
	}
	c.days[day] = items
	for d := range c.days {
		keep := false
		for _, w := range window {
			keep = keep || d == w
		}
		if !keep {
			delete(c.days, d)
		}
	}
}

// Watchdog is the scheduled function's logic: read, evaluate, report.
type Watchdog struct {
	Reader   Reader
	Settings Settings
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Logger gets one line per run naming the silent and late senders.
	Logger *slog.Logger
	// Metrics receives the run's EMF document (namespace logfan, no dimensions).
	Metrics io.Writer
	cache   DayCache
}

// maxNamed bounds the senders and log groups one log line names.
const maxNamed = 100

// Run evaluates the senders once: EMF metrics SilentSenders, LateSenders,
// NeverSeenSenders, UnexpectedSenders and SilentLogGroups, and one log line.
// A failure to read the table is returned (and no metric is written: the
// stack's alarm treats missing data as breaching).
func (w *Watchdog) Run(ctx context.Context) (*Report, error) {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	senders, days, err := Read(ctx, w.Reader, now, &w.cache)
	if err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	rep := Evaluate(now, w.Settings, senders, days)
	if w.Metrics != nil {
		c := func(n string, v int) emf.Metric { return emf.Metric{Name: n, Value: float64(v), Unit: "Count"} }
		if err := emf.Write(w.Metrics, now, nil, []emf.Metric{
			c(emf.MetricSilentSenders, rep.Silent), c(emf.MetricLateSenders, rep.Late), c(emf.MetricNeverSeenSenders, rep.NeverSeen),
			c(emf.MetricUnexpectedSenders, rep.Unexpected), c(emf.MetricSilentLogGroups, rep.SilentLogGroups),
		}); err != nil {
			return rep, fmt.Errorf("watchdog metrics: %w", err)
		}
	}
	if w.Logger != nil {
		w.log(ctx, rep)
	}
	return rep, nil
}

func (w *Watchdog) log(ctx context.Context, rep *Report) {
	named := map[string][]string{}
	var silentGroups []string
	for _, s := range rep.Senders {
		if s.Expected || s.State == StateUnexpected {
			if l := named[s.State]; len(l) < maxNamed {
				named[s.State] = append(l, s.Name())
			}
		}
		for _, g := range s.LogGroups {
			if g.Silent && len(silentGroups) < maxNamed {
				silentGroups = append(silentGroups, s.Name()+":"+g.LogGroup)
			}
		}
	}
	level := slog.LevelInfo
	if rep.Silent > 0 || rep.Late > 0 {
		level = slog.LevelWarn
	}
	w.Logger.LogAttrs(ctx, level, "watchdog",
		slog.Int("senders", len(rep.Senders)),
		slog.Int("silentSenders", rep.Silent), slog.Int("lateSenders", rep.Late), slog.Int("neverSeenSenders", rep.NeverSeen),
		slog.Int("unexpectedSenders", rep.Unexpected), slog.Int("silentLogGroups", rep.SilentLogGroups),
		slog.Any("silent", nonNil(named[StateSilent])), slog.Any("late", nonNil(named[StateLate])),
		slog.Any("neverSeen", nonNil(named[StateNeverSeen])), slog.Any("unexpected", nonNil(named[StateUnexpected])),
		slog.Any("silentLogGroupNames", nonNil(silentGroups)),
	)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
