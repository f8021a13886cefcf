package consumer

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/logfan/logfan/shared/emf"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/subscription"
)

// Health is sender health (health.Recorder): it recognises heartbeat
// records, which go to no sink, and is told about every record an
// invocation settled (before its retry point: a retried record is told
// when it is settled), then flushed. A failure of its table never costs an
// event: it is counted (Summary.HealthErr) and logged with the batch.
type Health interface {
	// IsHeartbeat reports whether logGroup is a heartbeat log group.
	IsHeartbeat(logGroup string) bool
	// Heartbeat records a heartbeat record.
	Heartbeat(m *subscription.Message, now time.Time)
	// Traffic records a data record: its events, their messages' bytes and its latest event time (ms).
	Traffic(m *subscription.Message, events int, bytes, lastEvent int64, now time.Time)
	// Flush writes what is due at the end of an invocation.
	Flush(ctx context.Context, now time.Time) (health.FlushResult, error)
	// Close writes everything pending (the instance is ending).
	Close(ctx context.Context, now time.Time) (health.FlushResult, error)
}

// HealthFlushTimeout bounds the sender-health writes at the end of an invocation.
const HealthFlushTimeout = 2 * time.Second

// seenRecord is a record of the current invocation that Health is told
// about once the retry point is known.
type seenRecord struct {
	index     int
	m         *subscription.Message
	heartbeat bool
}

// see keeps record i's parts for Health, which is told about them once
// the retry point is known (settleHealth).
func (h *Handler) see(i int, parts []subscription.Part, heartbeat bool) {
	for _, p := range parts {
		h.seen = append(h.seen, seenRecord{index: i, m: p.Message, heartbeat: heartbeat})
	}
}

// settleHealth tells Health about the settled records (index < cutoff),
// per record, and flushes it. The per-event work is one pass over the
// record's events for their bytes and latest time.
func (h *Handler) settleHealth(ctx context.Context, cutoff int, sum *Summary) {
	now := h.o.Now()
	for k := range h.seen {
		s := &h.seen[k]
		if s.index >= cutoff {
			continue // Lambda retries it: told then
		}
		if s.heartbeat {
			h.o.Health.Heartbeat(s.m, now)
			continue
		}
		var bytes, last int64
		for j := range s.m.LogEvents {
			e := &s.m.LogEvents[j]
			bytes += int64(len(e.Message))
			last = max(last, e.Timestamp)
		}
		h.o.Health.Traffic(s.m, len(s.m.LogEvents), bytes, last, now)
	}
	clear(h.seen) // keep no payload alive until the next invocation
	h.seen = h.seen[:0]
	fctx, cancel := context.WithTimeout(ctx, HealthFlushTimeout)
	defer cancel()
	res, err := h.o.Health.Flush(fctx, now)
	sum.HealthWrites = res.Writes
	if err != nil {
		sum.HealthErr = err.Error()
	}
}

// Shutdown writes the sender health still in memory (app.Main calls it
// when Lambda ends the instance with SIGTERM), within ctx.
func (h *Handler) Shutdown(ctx context.Context) error {
	if h.o.Health == nil {
		return nil
	}
	_, err := h.o.Health.Close(ctx, h.o.Now())
	return err
}

// healthAttrs are the batch log line's sender-health fields.
func healthAttrs(s Summary) []slog.Attr {
	attrs := []slog.Attr{slog.Int("heartbeats", s.Heartbeats)}
	if s.HealthWrites > 0 {
		attrs = append(attrs, slog.Int("healthWrites", s.HealthWrites))
	}
	if s.HealthErr != "" {
		attrs = append(attrs, slog.String("healthError", s.HealthErr))
	}
	return attrs
}

// healthMetrics writes the invocation's sender-health EMF document.
func (h *Handler) healthMetrics(now time.Time, s Summary) error {
	if h.o.Health == nil {
		return nil
	}
	failed := 0
	if s.HealthErr != "" {
		failed = 1
	}
	err := emf.Write(h.o.Metrics, now, map[string]string{emf.DimSink: h.o.Sink.Name()}, []emf.Metric{
		{Name: emf.MetricHeartbeats, Value: float64(s.Heartbeats), Unit: "Count"},
		{Name: emf.MetricHealthWrites, Value: float64(s.HealthWrites), Unit: "Count"},
		{Name: emf.MetricHealthErrors, Value: float64(failed), Unit: "Count"},
	})
	if err != nil {
		return errors.New("sender health: " + err.Error())
	}
	return nil
}
