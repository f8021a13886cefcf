// Package consumer is the Lambda handler every logfan function runs: it
// decodes a Kinesis batch (or a direct awslogs event), delivers the decoded
// records to one sink, writes every quarantine entry (records that can never
// be decoded, events the sink can never deliver), and tells Lambda where to
// retry from through batchItemFailures.
//
// Time budget of one invocation, from Lambda's deadline backwards:
// DeadlineMargin (3 s) is kept free to return the response; before it,
// QuarantineReserve (1 s, at most a tenth of the time left) is kept for
// quarantine writes; the sink retries until then (or DeliveryTimeout).
package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/logfan/logfan/shared/emf"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// Options configure a Handler.
type Options struct {
	// Sink receives the decoded events.
	Sink sink.Sink
	// Routes, if set, decide which of Sink's targets get each record; nil
	// sends every record to the sink's default target.
	Routes *routes.Table
	// Quarantine keeps undecodable records and undeliverable events.
	Quarantine quarantine.Quarantine
	// Retry is the policy for quarantine writes (the sinks get the same one).
	Retry retry.Policy
	// MaxDecompressed caps a payload's decompressed size
	// (subscription.DefaultMaxDecompressed if zero), and the decompressed
	// size of the payloads one invocation holds together: past it, the
	// rest of the batch is left for Lambda's next invocation.
	MaxDecompressed int64
	// DeliveryTimeout bounds a sink's retrying; zero means until DeadlineMargin before Lambda's deadline.
	DeliveryTimeout time.Duration
	// DeadlineMargin is kept free before Lambda's deadline to report failures (default 3s).
	DeadlineMargin time.Duration
	// QuarantineReserve is kept between the end of delivery and
	// DeadlineMargin for quarantine writes (default 1s, at most a tenth of the time left).
	QuarantineReserve time.Duration
	// Logger gets one line per batch (slog.Default() if nil).
	Logger *slog.Logger
	// Metrics receives EMF documents (none if nil); in Lambda this is stdout.
	Metrics io.Writer
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// OnSummary, if set, receives each invocation's summary (replay prints it).
	OnSummary func(Summary)
	// Ledger, if set, remembers what landed of a batch that ends with a
	// retry point, so that the retry skips it (package ledger).
	Ledger ledger.Store
	// LedgerName names this function's entries in a Ledger shared by several (default: the sink's name).
	LedgerName string
	// LedgerTimeout bounds reading the Ledger before delivery (DefaultLedgerTimeout if zero).
	LedgerTimeout time.Duration
	// Health, if set, recognises heartbeat records (delivered to no sink)
	// and records sender health (see health.go).
	Health Health
	// HubAccount is the recipient's own account: its payloads' events are
	// owned by the source account their system fields name (a hub of
	// centralized logs); no other payload's are (subscription.Attribute).
	// "" trusts none.
	HubAccount string
}

// Handler is a lambda.Handler: it takes the raw event JSON so that it can
// parse Kinesis batches with a lean decoder instead of reflection.
type Handler struct {
	o     Options
	dec   *subscription.Decoder
	seen  []seenRecord        // this invocation's records for Health
	parts []subscription.Part // scratch: one record's messages per source
	// testHook, if set, is called at each guarded stage (guard.go): tests panic in it.
	testHook func(stage string, rec int)
}

// New returns a Handler.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DeadlineMargin <= 0 {
		o.DeadlineMargin = DefaultDeadlineMargin
	}
	if o.QuarantineReserve <= 0 {
		o.QuarantineReserve = DefaultQuarantineReserve
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LedgerName == "" && o.Sink != nil {
		o.LedgerName = o.Sink.Name()
	}
	if o.LedgerTimeout <= 0 {
		o.LedgerTimeout = DefaultLedgerTimeout
	}
	return &Handler{o: o, dec: subscription.NewDecoder(o.MaxDecompressed)}
}

// Defaults of the Options.
const (
	// DefaultDeadlineMargin is kept free before Lambda's deadline to return the response.
	DefaultDeadlineMargin = 3 * time.Second
	// DefaultQuarantineReserve is kept for quarantine writes after delivery.
	DefaultQuarantineReserve = time.Second
	// DefaultTimeout bounds an invocation whose context has no deadline (a
	// local replay): Lambda's own maximum, so retrying always ends.
	DefaultTimeout = 15 * time.Minute
	// quarantineWriters bounds parallel quarantine writes (one S3 PUT each).
	quarantineWriters = 8
)

// Poison is a record that could not be decoded and went to the quarantine.
type Poison struct {
	SequenceNumber string `json:"sequenceNumber"`
	Reason         string `json:"reason"`
}

// Summary counts what one invocation did.
type Summary struct {
	Records         int      `json:"records"`
	ControlMessages int      `json:"controlMessages"`
	Events          int      `json:"events"`
	Bytes           int64    `json:"bytes"`
	Delivered       int      `json:"delivered"`
	Quarantined     int      `json:"quarantined"`
	Rejected        int      `json:"rejected"`
	Retried         int      `json:"retried"`
	Poison          []Poison `json:"poison,omitempty"`
	// RetryFrom is the sequence number Lambda must retry from, or "".
	RetryFrom string `json:"retryFrom,omitempty"`
	// RetryEvents counts events left for the retry (from RetryFrom on).
	RetryEvents int `json:"retryEvents"`
	// Err says why RetryFrom is set.
	Err string `json:"error,omitempty"`
	// Dropped counts events that matched no route or a route without targets.
	Dropped int `json:"dropped"`
	// OtherSinks counts events whose route sends this sink nothing (other sinks get them).
	OtherSinks int `json:"otherSinks"`
	// Routes counts events per route (routed invocations only).
	Routes []RouteCount `json:"routes,omitempty"`
	// Skipped counts events left out because an earlier attempt delivered them (the ledger).
	Skipped int `json:"skipped,omitempty"`
	// LedgerErr says why the ledger could not be read or written (the batch
	// is then delivered at least once, not lost).
	LedgerErr string `json:"ledgerError,omitempty"`
	// Heartbeats counts heartbeat events: recognised, delivered to no sink,
	// and not counted in Events or Bytes.
	Heartbeats int `json:"heartbeats"`
	// HealthWrites counts the sender-health table writes at the end of the invocation.
	HealthWrites int `json:"healthWrites,omitempty"`
	// HealthErr says why sender health could not be written (no event is lost for it).
	HealthErr string `json:"healthError,omitempty"`
}

// RouteCount counts one route's events in an invocation.
type RouteCount struct {
	// Route is the route's name, or Unmatched.
	Route string `json:"route"`
	// Events counts the events that matched the route.
	Events int `json:"events"`
	// Deliveries counts the deliveries owed to this sink's targets (events × targets).
	Deliveries int `json:"deliveries"`
	// Targets names this sink's targets the route sends to.
	Targets []string `json:"targets,omitempty"`
}

// Unmatched names, in summaries and metrics, the events no route matched.
const Unmatched = "(unmatched)"

// Invoke implements lambda.Handler. A panic is returned as an error (Lambda
// retries the invocation) rather than ending the process.
func (h *Handler) Invoke(ctx context.Context, payload []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.logPanic(ctx, "invoke", p)
			out, err = nil, fmt.Errorf("logfan: %w", panicError("the handler", p))
		}
	}()
	h.at(stageParse, -1)
	inv, err := invocation.Parse(payload)
	if err != nil {
		// Lambda only sends well-formed events; this is a hand-made payload.
		return nil, fmt.Errorf("logfan: %w", err)
	}
	if inv.IsAWSLogs {
		sum, err := h.HandleAWSLogs(ctx, inv.AWSLogsData)
		if err != nil {
			return nil, err
		}
		return json.Marshal(sum)
	}
	resp, _ := h.HandleKinesis(ctx, inv.Records)
	return json.Marshal(resp)
}

// attribute returns m as one message per source (subscription.Split),
// each attributed to its source account where the hub's trust allows
// (subscription.Attribute). The result is valid until the next call.
func (h *Handler) attribute(m *subscription.Message) []subscription.Part {
	h.parts = append(h.parts[:0], subscription.Split(m)...)
	if len(h.parts) == 0 {
		h.parts = append(h.parts, subscription.Part{Message: m})
	}
	for _, p := range h.parts {
		subscription.Attribute(p.Message, h.o.HubAccount)
	}
	return h.parts
}

// checkAccounting is the last line of defence against a sink bug losing
// events silently: every event before FailedAt (all of them when FailedAt is
// -1) must have been delivered or quarantined. If the counts say otherwise,
// the whole batch is retried: duplicates are recoverable, loss is not.
func checkAccounting(b *sink.Batch, res sink.Result) sink.Result {
	upTo := len(b.Records)
	if res.FailedAt >= 0 && res.FailedAt < upTo {
		upTo = res.FailedAt
	}
	owed := 0
	for i := range upTo {
		owed += len(b.Records[i].Message.LogEvents) * b.Records[i].Copies()
	}
	undeliverable := 0
	for _, u := range res.Undeliverable {
		if u.Record >= 0 && u.Record < upTo && u.Event >= 0 && u.Event < len(b.Records[u.Record].Message.LogEvents) {
			undeliverable++
		}
	}
	if res.Delivered+undeliverable >= owed {
		return res
	}
	res.Landed = nil // a sink that miscounts cannot be trusted with what landed either
	res.Err = errors.Join(fmt.Errorf("sink accounted for %d of the %d events before record %d (delivered %d, undeliverable %d): retrying the whole batch",
		res.Delivered+undeliverable, owed, upTo, res.Delivered, undeliverable), res.Err)
	res.FailedAt = 0
	return res
}

// deliver calls the sink, turning a panic into a failure of the whole batch:
// Lambda retries it, the process lives on, and nothing is lost. (A sink's
// own goroutines hand their panics to Deliver's through sink.Group.)
func (h *Handler) deliver(ctx context.Context, b *sink.Batch) (res sink.Result) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		stack := debug.Stack()
		if gp, ok := p.(*sink.Panic); ok {
			p, stack = gp.Value, gp.Stack
		}
		h.o.Logger.LogAttrs(ctx, slog.LevelError, "sink panicked", slog.String("sink", h.o.Sink.Name()),
			slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(stack)))
		res = sink.Result{FailedAt: 0, Err: fmt.Errorf("%s sink panicked: %v", h.o.Sink.Name(), p)}
	}()
	return h.o.Sink.Deliver(ctx, b)
}

// quarantineEvents writes the events the sink reported undeliverable (those
// before FailedAt: the others are retried anyway) to the quarantine. It
// returns how many were written and, if some write failed, the lowest
// record index whose events are not all accounted for, and why.
func (h *Handler) quarantineEvents(ctx context.Context, b *sink.Batch, res sink.Result) (written, failedAt int, err error) {
	failedAt = -1
	if len(res.Undeliverable) == 0 {
		return 0, -1, nil
	}
	upTo := len(b.Records)
	if res.FailedAt >= 0 && res.FailedAt < upTo {
		upTo = res.FailedAt
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		sem  = make(chan struct{}, quarantineWriters)
		name = h.o.Sink.Name()
	)
	for _, u := range res.Undeliverable {
		if u.Record < 0 || u.Record >= upTo || u.Event < 0 || u.Event >= len(b.Records[u.Record].Message.LogEvents) {
			continue
		}
		r := &b.Records[u.Record]
		ev := &r.Message.LogEvents[u.Event]
		e := quarantine.Entry{
			Kind: quarantine.KindEvent, Sink: name, Target: u.Target, Shard: b.ShardID, SequenceNumber: r.SequenceNumber,
			EventID: ev.ID, Event: r.EventIndex(u.Event), Reason: u.Reason, Data: record.AppendJSONExact(nil, r.Message, ev), // original bytes: a redrive re-sends what came in
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			perr := h.put(ctx, e)
			mu.Lock()
			defer mu.Unlock()
			if perr == nil {
				written++
				return
			}
			if failedAt < 0 || u.Record < failedAt {
				failedAt, err = u.Record, fmt.Errorf("quarantine event %d (ID %q) of record %s: %w", e.Event, ev.ID, r.SequenceNumber, perr)
			}
		}()
	}
	wg.Wait()
	return written, failedAt, err
}

// put writes one quarantine entry under the retry policy.
func (h *Handler) put(ctx context.Context, e quarantine.Entry) error {
	_, err := h.o.Retry.Do(ctx, h.call("quarantine write", func(ctx context.Context) error { return h.o.Quarantine.Put(ctx, e) }))
	return err
}

// HandleAWSLogs processes a direct subscription event. An undecodable
// payload is quarantined (retrying cannot fix it); a delivery failure is
// returned as an error so that Lambda's asynchronous retries redeliver it.
func (h *Handler) HandleAWSLogs(ctx context.Context, data []byte) (Summary, error) {
	// The awslogs event has no sequence number; a hash of the payload stands
	// in for it, so a retried event gets the same S3 keys and quarantine keys.
	sum64 := fnv.New64a()
	sum64.Write(data)
	id := strconv.FormatUint(sum64.Sum64(), 16)
	rec := invocation.KinesisRecord{EventID: "awslogs:" + id, SequenceNumber: id, Data: data}
	_, sum := h.HandleKinesis(ctx, []invocation.KinesisRecord{rec})
	if sum.RetryFrom != "" {
		return sum, fmt.Errorf("logfan: %d events not delivered: %s", sum.RetryEvents, sum.Err)
	}
	return sum, nil
}

// deliveryContext leaves DeadlineMargin and the quarantine reserve before
// Lambda's deadline so that a sink still retrying gives up in time for the
// handler to quarantine what the sink refused and report the failure
// instead of timing out (a timeout would retry the whole batch).
func (h *Handler) deliveryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	var deadline time.Time
	if d, ok := ctx.Deadline(); ok {
		end := d.Add(-h.o.DeadlineMargin)
		deadline = end.Add(-min(h.o.QuarantineReserve, max(end.Sub(h.o.Now()), 0)/10))
	}
	if h.o.DeliveryTimeout > 0 {
		if d := h.o.Now().Add(h.o.DeliveryTimeout); deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	if deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline)
}

// quarantineContext ends DeadlineMargin before Lambda's deadline.
func (h *Handler) quarantineContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, d.Add(-h.o.DeadlineMargin))
	}
	return context.WithCancel(ctx)
}

type ownerCount struct {
	events int
	bytes  int64
}

// report writes the batch's log line and EMF metrics.
func (h *Handler) report(ctx context.Context, start time.Time, shard string, s Summary, owners map[string]*ownerCount) {
	h.logBatch(ctx, start, shard, s)
	if h.o.Metrics == nil {
		return
	}
	if err := h.writeMetrics(s, owners); err != nil {
		h.o.Logger.LogAttrs(ctx, slog.LevelWarn, "emf", slog.String("error", err.Error()))
	}
}

// logBatch writes the batch's log line: a warning when the batch has a
// retry point or the ledger or sender health failed.
func (h *Handler) logBatch(ctx context.Context, start time.Time, shard string, s Summary) {
	level := slog.LevelInfo
	if s.RetryFrom != "" {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("sink", h.o.Sink.Name()), slog.String("shard", shard),
		slog.Int("records", s.Records), slog.Int("controlMessages", s.ControlMessages),
		slog.Int("events", s.Events), slog.Int64("bytes", s.Bytes),
		slog.Int("delivered", s.Delivered), slog.Int("retried", s.Retried),
		slog.Int("rejected", s.Rejected), slog.Int("quarantined", s.Quarantined),
		slog.Int("poisonRecords", len(s.Poison)), slog.Int("retryEvents", s.RetryEvents),
		slog.Duration("duration", h.o.Now().Sub(start)),
	}
	if h.o.Routes != nil {
		attrs = append(attrs, slog.Int("dropped", s.Dropped), slog.Int("otherSinks", s.OtherSinks), slog.Any("routes", s.Routes))
	}
	if s.RetryFrom != "" {
		attrs = append(attrs, slog.String("retryFrom", s.RetryFrom), slog.String("error", s.Err))
	}
	if s.Skipped > 0 {
		attrs = append(attrs, slog.Int("skipped", s.Skipped))
	}
	if s.LedgerErr != "" {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("ledgerError", s.LedgerErr))
	}
	if h.o.Health != nil {
		attrs = append(attrs, healthAttrs(s)...)
		if s.HealthErr != "" {
			level = slog.LevelWarn
		}
	}
	h.o.Logger.LogAttrs(ctx, level, "batch", attrs...)
}

// writeMetrics writes the batch's EMF documents: per owner, for the sink,
// per route, the routing counts and sender health.
func (h *Handler) writeMetrics(s Summary, owners map[string]*ownerCount) error {
	name := h.o.Sink.Name()
	now := h.o.Now()
	failed := 0
	if s.RetryFrom != "" {
		failed = 1
	}
	c := func(n string, v int) emf.Metric { return emf.Metric{Name: n, Value: float64(v), Unit: "Count"} }
	var err error
	for owner, oc := range owners {
		err = errors.Join(err, emf.Write(h.o.Metrics, now, map[string]string{emf.DimSink: name, emf.DimOwner: owner}, []emf.Metric{
			c(emf.MetricEvents, oc.events), {Name: emf.MetricBytes, Value: float64(oc.bytes), Unit: "Bytes"},
		}))
	}
	err = errors.Join(err, emf.Write(h.o.Metrics, now, map[string]string{emf.DimSink: name}, []emf.Metric{
		c(emf.MetricRecords, s.Records), c(emf.MetricEvents, s.Events), {Name: emf.MetricBytes, Value: float64(s.Bytes), Unit: "Bytes"},
		c(emf.MetricDelivered, s.Delivered), c(emf.MetricRetried, s.Retried), c(emf.MetricQuarantined, s.Quarantined),
		c(emf.MetricRejected, s.Rejected), c(emf.MetricPoisonRecords, len(s.Poison)), c(emf.MetricControlMessages, s.ControlMessages),
		c(emf.MetricFailedRecords, failed),
	}))
	for _, rc := range s.Routes {
		err = errors.Join(err, emf.Write(h.o.Metrics, now, map[string]string{emf.DimSink: name, emf.DimRoute: rc.Route}, []emf.Metric{
			c(emf.MetricEvents, rc.Events), c(emf.MetricDeliveries, rc.Deliveries),
		}))
	}
	if h.o.Routes != nil {
		err = errors.Join(err, emf.Write(h.o.Metrics, now, map[string]string{emf.DimSink: name}, []emf.Metric{
			c(emf.MetricDropped, s.Dropped), c(emf.MetricOtherSinks, s.OtherSinks),
		}))
	}
	return errors.Join(err, h.healthMetrics(now, s))
}

// maxDecompressed is the cap on a payload's and an invocation's decompressed size.
func (h *Handler) maxDecompressed() int64 {
	if h.o.MaxDecompressed > 0 {
		return h.o.MaxDecompressed
	}
	return subscription.DefaultMaxDecompressed
}
