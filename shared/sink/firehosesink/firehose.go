package firehosesink

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/sink"
)

// PutRecordBatchAPI is the one Firehose call the sink needs, with the SDK's
// exact signature, so *firehose.Client satisfies it and tests can fake it.
type PutRecordBatchAPI interface {
	PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, optFns ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)
}

// ReasonTooLarge is the Result.Rejected key of events quarantined because
// their NDJSON line alone exceeds the Firehose record limit.
const ReasonTooLarge = "event exceeds Firehose record limit"

// Defaults for retrying inside one Deliver.
const (
	// DefaultBackoffBase is the first retry's maximum delay; it doubles per consecutive failure.
	DefaultBackoffBase = 100 * time.Millisecond
	// DefaultBackoffMax caps the delay between retries.
	DefaultBackoffMax = 5 * time.Second
	// DefaultAttemptTimeout bounds one PutRecordBatch call (SDK retries
	// included). The SDK's HTTP client has no response timeout, so without
	// it a half-open connection would hold the call until the invocation's
	// deadline instead of being retried.
	DefaultAttemptTimeout = 30 * time.Second
)

// Sink delivers batches to one Firehose stream. It is safe for concurrent use.
type Sink struct {
	client         PutRecordBatchAPI
	stream         string
	single         bool
	q              quarantine.Quarantine
	lim            Limits
	backoffBase    time.Duration
	backoffMax     time.Duration
	attemptTimeout time.Duration
	sleep          func(context.Context, time.Duration) error
	arenas         sync.Pool // *[]byte NDJSON arenas, reused across invocations
}

var _ sink.Sink = (*Sink)(nil)

// Option adjusts a Sink (mostly for tests).
type Option func(*Sink)

// WithLimits overrides the PutRecordBatch limits; zero fields keep the documented values.
func WithLimits(l Limits) Option { return func(s *Sink) { s.lim = l.orDefault() } }

// WithBackoff sets the jittered exponential backoff: the n-th consecutive
// retry waits a random duration up to min(max, base*2^n).
func WithBackoff(base, max time.Duration) Option {
	return func(s *Sink) {
		if base > 0 {
			s.backoffBase = base
		}
		if max > 0 {
			s.backoffMax = max
		}
	}
}

// WithAttemptTimeout bounds each PutRecordBatch call; zero or negative means only ctx bounds it.
func WithAttemptTimeout(d time.Duration) Option { return func(s *Sink) { s.attemptTimeout = d } }

// WithSleep replaces the backoff sleep (a clock for tests); it must return
// ctx's error if ctx ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Sink) {
		if sleep != nil {
			s.sleep = sleep
		}
	}
}

// New returns a Sink writing to cfg.Stream through client, packing several
// events per record unless cfg.Packing is config.PackingSingle, and writing
// events too large for a record to q.
func New(client PutRecordBatchAPI, cfg config.Firehose, q quarantine.Quarantine, opts ...Option) *Sink {
	s := &Sink{
		client:         client,
		stream:         cfg.Stream,
		single:         cfg.Packing == config.PackingSingle,
		q:              q,
		lim:            DefaultLimits(),
		backoffBase:    DefaultBackoffBase,
		backoffMax:     DefaultBackoffMax,
		attemptTimeout: DefaultAttemptTimeout,
		sleep:          sleepCtx,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Name implements sink.Sink.
func (s *Sink) Name() string { return config.SinkFirehose }

// Deliver implements sink.Sink. Events are packed in stream order; entries
// that fail are resent alone, with backoff, until ctx ends. FailedAt is the
// lowest index of a Kinesis record with an event in a Firehose record that
// never landed, not yet sent, or not quarantined. Delivered, Quarantined and
// Bytes count only records before FailedAt, so that every event is counted
// once; events beyond it that did land will be sent again when Lambda
// retries from FailedAt (Err says how many).
func (s *Sink) Deliver(ctx context.Context, b *sink.Batch) (res sink.Result) {
	res.FailedAt = -1
	if b == nil || len(b.Records) == 0 {
		return res
	}
	defer func() {
		// A bug must not lose events or crash the invocation: report the
		// whole batch as not delivered, so Lambda retries it.
		if r := recover(); r != nil {
			res = sink.Result{FailedAt: 0, Retries: res.Retries, Err: fmt.Errorf("firehose sink: internal error: %v", r)}
		}
	}()
	if s.stream == "" {
		return sink.Result{FailedAt: 0, Err: errors.New("firehose sink: no stream configured")}
	}
	d := &delivery{
		s:           s,
		b:           b,
		landed:      make([]int, len(b.Records)),
		landedBytes: make([]int64, len(b.Records)),
		quarantined: make([]int, len(b.Records)),
		failedMin:   len(b.Records),
	}
	arena := s.getArena()
	p := newPacker(b, s.lim, s.single, *arena)
	res = d.run(ctx, p)
	// Keep the arena for the next invocation unless a huge line grew it.
	if cap(p.arena) <= maxPooledArena {
		*arena = p.arena[:0]
		s.arenas.Put(arena)
	}
	return res
}

// maxPooledArena is the largest arena kept between invocations: a full call
// (4 MiB) and the line that did not fit, with room to spare.
const maxPooledArena = 8 << 20

func (s *Sink) getArena() *[]byte {
	if a, ok := s.arenas.Get().(*[]byte); ok {
		return a
	}
	a := make([]byte, 0, 256<<10)
	return &a
}

// delivery is the state of one Deliver.
type delivery struct {
	s *Sink
	b *sink.Batch

	// Per Batch.Records index: events landed, their bytes, events quarantined.
	landed      []int
	landedBytes []int64
	quarantined []int
	// failedMin is the lowest record index known not to be done for a reason
	// other than a pending Firehose record (a quarantine write failed).
	failedMin int
	retries   int
	lastErr   error
}

func (d *delivery) run(ctx context.Context, p *packer) sink.Result {
	var (
		c        call
		pending  []fhRecord
		input    = &firehose.PutRecordBatchInput{DeliveryStreamName: &d.s.stream}
		failures int  // consecutive failed attempts, for the backoff
		resend   bool // pending was sent before
	)
	for {
		if len(pending) == 0 {
			if p.exhausted() {
				break
			}
			// Only now is nothing left to resend, so the arena the
			// previous call's records alias can be reused.
			p.startCall(&c)
			for {
				o := p.fill(&c)
				if o == nil {
					break
				}
				if err := d.quarantine(ctx, o); err != nil {
					d.failedMin = min(d.failedMin, o.rec)
					d.lastErr = err
					p.stop(&c)
					break
				}
			}
			pending, resend = c.recs, false
			if len(pending) == 0 {
				if !p.exhausted() {
					// Cannot happen with limits from orDefault; never spin on it.
					d.lastErr = errors.New("firehose sink: internal error: packer made no progress")
					break
				}
				continue
			}
		}
		if ctx.Err() != nil {
			d.noteCtx(ctx)
			break
		}
		input.Records = input.Records[:0]
		n := 0
		for i := range pending {
			input.Records = append(input.Records, types.Record{Data: pending[i].data})
			n += len(pending[i].data)
		}
		if resend {
			d.retries++
		}
		resend = true
		out, err := d.put(ctx, input)
		if err == nil && len(out.RequestResponses) != len(pending) {
			// The API promises one response per record; without that we
			// cannot tell what landed, so resend all (duplicates over loss).
			err = fmt.Errorf("%d responses for %d records", len(out.RequestResponses), len(pending))
		}
		if err != nil {
			d.lastErr = fmt.Errorf("put %d records (%d bytes) to Firehose stream %s: %w", len(pending), n, d.s.stream, err)
			if !retryable(ctx, err) || !d.backoff(ctx, failures) {
				break
			}
			failures++
			continue
		}
		if a, ok := retry.GetAttemptResults(out.ResultMetadata); ok && len(a.Results) > 1 {
			d.retries += len(a.Results) - 1
		}
		failed := pending[:0]
		var code, msg string
		for k := range out.RequestResponses {
			e := &out.RequestResponses[k]
			if (e.ErrorCode != nil && *e.ErrorCode != "") || e.RecordId == nil {
				failed = append(failed, pending[k])
				if code == "" {
					code, msg = deref(e.ErrorCode), deref(e.ErrorMessage)
				}
				continue
			}
			d.land(&pending[k])
		}
		if len(failed) == 0 {
			pending, failures = nil, 0
			continue
		}
		d.lastErr = fmt.Errorf("put records to Firehose stream %s: %d of %d records failed (first: %s: %s)", d.s.stream, len(failed), len(pending), code, msg)
		pending = failed
		if !d.backoff(ctx, failures) {
			break
		}
		failures++
	}
	return d.result(p, pending)
}

// put makes one PutRecordBatch call, bounded by the attempt timeout.
func (d *delivery) put(ctx context.Context, in *firehose.PutRecordBatchInput) (*firehose.PutRecordBatchOutput, error) {
	if d.s.attemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.s.attemptTimeout)
		defer cancel()
	}
	return d.s.client.PutRecordBatch(ctx, in)
}

func (d *delivery) land(r *fhRecord) {
	for _, sp := range r.spans {
		d.landed[sp.rec] += sp.events
		d.landedBytes[sp.rec] += int64(sp.bytes)
	}
}

func (d *delivery) quarantine(ctx context.Context, o *oversize) error {
	r := &d.b.Records[o.rec]
	ev := &r.Message.LogEvents[o.event]
	if d.s.q == nil {
		return fmt.Errorf("event %s of record %s is over the Firehose record limit and no quarantine is configured", ev.ID, r.SequenceNumber)
	}
	e := quarantine.Entry{
		Kind:           quarantine.KindEvent,
		Sink:           config.SinkFirehose,
		Shard:          d.b.ShardID,
		SequenceNumber: r.SequenceNumber,
		EventID:        ev.ID,
		Reason:         fmt.Sprintf("%s (%d bytes > %d)", ReasonTooLarge, len(o.line), d.s.lim.RecordBytes),
		Data:           o.line,
	}
	if err := d.s.q.Put(ctx, e); err != nil {
		return fmt.Errorf("quarantine oversize event %s of record %s: %w", ev.ID, r.SequenceNumber, err)
	}
	d.quarantined[o.rec]++
	return nil
}

// backoff sleeps before retry number n+1 (full jitter), or reports false
// when ctx would end first: then there is no time left to retry.
func (d *delivery) backoff(ctx context.Context, n int) bool {
	ceil := d.s.backoffMax
	if n < 30 {
		ceil = min(ceil, d.s.backoffBase<<n)
	}
	wait := time.Duration(rand.Int64N(int64(ceil) + 1))
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
		d.noteCtx(ctx)
		return false
	}
	if err := d.s.sleep(ctx, wait); err != nil {
		d.noteCtx(ctx)
		return false
	}
	return true
}

// noteCtx keeps the last service error as the reason, and falls back to
// the context's when nothing else failed.
func (d *delivery) noteCtx(ctx context.Context) {
	if d.lastErr == nil {
		if err := context.Cause(ctx); err != nil {
			d.lastErr = fmt.Errorf("put records to Firehose stream %s: %w", d.s.stream, err)
		} else {
			d.lastErr = fmt.Errorf("put records to Firehose stream %s: out of time to retry before the deadline", d.s.stream)
		}
	}
}

func (d *delivery) result(p *packer, pending []fhRecord) sink.Result {
	res := sink.Result{FailedAt: -1, Retries: d.retries}
	failedAt := min(d.failedMin, p.cursorRecord())
	for i := range pending {
		failedAt = min(failedAt, pending[i].first)
	}
	// Cross-check by counting: the first record whose events are not all
	// landed or quarantined must not come before failedAt. It cannot with
	// the bookkeeping above; if it ever did, reporting it keeps the
	// no-loss invariant rather than trusting a bug.
	for r := 0; r < failedAt; r++ {
		m := d.b.Records[r].Message
		n := 0
		if m != nil {
			n = len(m.LogEvents)
		}
		if d.landed[r]+d.quarantined[r] != n {
			failedAt = r
			d.lastErr = errors.Join(d.lastErr, fmt.Errorf("firehose sink: internal error: record %d has %d of %d events accounted for", r, d.landed[r]+d.quarantined[r], n))
			break
		}
	}
	for r := 0; r < failedAt; r++ {
		res.Delivered += d.landed[r]
		res.Bytes += d.landedBytes[r]
		res.Quarantined += d.quarantined[r]
	}
	if res.Quarantined > 0 {
		res.Rejected = map[string]int{ReasonTooLarge: res.Quarantined}
	}
	if failedAt >= len(d.b.Records) {
		return res
	}
	res.FailedAt = failedAt
	again := 0
	for r := failedAt; r < len(d.b.Records); r++ {
		again += d.landed[r]
	}
	err := d.lastErr
	if err == nil {
		err = errors.New("not delivered")
	}
	res.Err = fmt.Errorf("firehose sink: records from index %d of %d not delivered (%d Firehose records unconfirmed; %d events from there on already landed and will be sent again): %w",
		failedAt, len(d.b.Records), len(pending), again, err)
	return res
}

// permanent lists error codes that retrying within the invocation cannot
// fix (a missing stream, bad request, KMS or credential problems): Deliver
// stops and reports them, and Lambda retries the batch later.
var permanent = map[string]bool{
	"ResourceNotFoundException":           true,
	"InvalidArgumentException":            true,
	"InvalidKMSResourceException":         true,
	"InvalidSourceException":              true,
	"AccessDeniedException":               true,
	"UnrecognizedClientException":         true,
	"InvalidSignatureException":           true,
	"MissingAuthenticationTokenException": true,
	"ValidationException":                 true,
}

// retryable reports whether a failed call is worth repeating: anything but
// the end of ctx or a permanent error, so throttling, 5xx, timeouts and
// errors the SDK's own retryer gave up on are all retried.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && permanent[ae.ErrorCode()] {
		return false
	}
	var pe *smithy.InvalidParamsError
	return !errors.As(err, &pe)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
