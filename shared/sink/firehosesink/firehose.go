package firehosesink

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// PutRecordBatchAPI is the one Firehose call the sink needs, with the SDK's
// exact signature, so *firehose.Client satisfies it and tests can fake it.
type PutRecordBatchAPI interface {
	PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, optFns ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)
}

// KindTooLarge is the sink.Undeliverable kind of an event whose NDJSON line
// alone exceeds the Firehose record limit.
const KindTooLarge = "tooLarge"

// Sink delivers batches to one Firehose stream. It is safe for concurrent use.
type Sink struct {
	client PutRecordBatchAPI
	stream string
	single bool
	lim    Limits
	retry  retry.Policy
	arenas sync.Pool // *[]byte NDJSON arenas, reused across invocations
	bodies sync.Pool // *[]byte PutRecordBatch bodies (fastPutInto), reused likewise
	// sdkSerializer: PutRecordBatch bodies by the SDK's serializer, not fastPutInto.
	sdkSerializer bool
}

var _ sink.Sink = (*Sink)(nil)

// Option adjusts a Sink (mostly for tests).
type Option func(*Sink)

// WithLimits overrides the PutRecordBatch limits; zero fields keep the documented values.
func WithLimits(l Limits) Option { return func(s *Sink) { s.lim = l.orDefault() } }

// WithRetry sets the retry policy (retry.Default() otherwise).
func WithRetry(p retry.Policy) Option { return func(s *Sink) { s.retry = p } }

// WithSDKSerializer makes PutRecordBatch bodies be written by the SDK's own
// serializer instead of the sink's faster, equivalent one.
func WithSDKSerializer() Option { return func(s *Sink) { s.sdkSerializer = true } }

// New returns a Sink writing to cfg.Stream through client, packing several
// events per record unless cfg.Packing is config.PackingSingle. Events too
// large for a record are reported undeliverable.
func New(client PutRecordBatchAPI, cfg config.Firehose, opts ...Option) *Sink {
	s := &Sink{
		client: client,
		stream: cfg.Stream,
		single: cfg.Packing == config.PackingSingle,
		lim:    DefaultLimits(),
		retry:  retry.Default(),
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
// never landed or was not yet sent. Delivered, Undeliverable and
// Bytes count only records before FailedAt, so that every event is counted
// once; events beyond it that did land will be sent again when Lambda
// retries from FailedAt (Err says how many).
func (s *Sink) Deliver(ctx context.Context, b *sink.Batch) (res sink.Result) {
	res.FailedAt = -1
	if b == nil || len(b.Records) == 0 {
		return res
	}
	if s.stream == "" {
		return sink.Result{FailedAt: 0, Err: errors.New("firehose sink: no stream configured")}
	}
	d := &delivery{
		s:           s,
		b:           b,
		landed:      make([]int, len(b.Records)),
		landedBytes: make([]int64, len(b.Records)),
		refused:     make([]int, len(b.Records)),
		failedMin:   len(b.Records),
	}
	arena := s.getBuf(&s.arenas)
	if want := arenaSize(b, s.lim); cap(*arena) < want {
		*arena = make([]byte, 0, want)
	}
	p := newPacker(b, s.lim, s.single, *arena)
	if !s.sdkSerializer {
		body := s.getBuf(&s.bodies)
		d.putOpts = []func(*firehose.Options){fastPutInto(body)}
		defer s.putBuf(&s.bodies, body, maxPooledBody)
	}
	res = d.run(ctx, p)
	*arena = p.arena
	s.putBuf(&s.arenas, arena, maxPooledArena)
	return res
}

// maxPooledArena is the largest arena kept between invocations: a full call
// (4 MiB) and the line that did not fit, with room to spare. maxPooledBody
// is the same for a request body: a full call in base64 (4/3 of 4 MiB) and
// the JSON around it.
const (
	maxPooledArena = 8 << 20
	maxPooledBody  = 6 << 20
)

func (s *Sink) getBuf(pool *sync.Pool) *[]byte {
	if a, ok := pool.Get().(*[]byte); ok {
		return a
	}
	var a []byte // sized by its user: arenaSize, or the body's exact length
	return &a
}

// putBuf keeps buf for the next invocation unless a huge line grew it.
func (s *Sink) putBuf(pool *sync.Pool, buf *[]byte, max int) {
	if cap(*buf) <= max {
		*buf = (*buf)[:0]
		pool.Put(buf)
	}
}

// delivery is the state of one Deliver.
type delivery struct {
	s *Sink
	b *sink.Batch

	// Per Batch.Records index: events landed, their bytes, events undeliverable.
	landed        []int
	landedBytes   []int64
	refused       []int
	undeliverable []sink.Undeliverable
	// failedMin is the lowest record index known not to be done for a reason
	// other than a pending Firehose record.
	failedMin int
	retries   int
	lastErr   error
	// putOpts are the per-call client options (fastPutInto this delivery's body buffer).
	putOpts []func(*firehose.Options)
	// landedSpans are the events that landed, for Result.Landed.
	landedSpans []span
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
				d.refuse(o)
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
			if !retry.Retryable(ctx, err) || !d.backoff(ctx, failures) {
				break
			}
			failures++
			continue
		}
		failed := pending[:0]
		var code, msg string
		for k := range out.RequestResponses {
			e := &out.RequestResponses[k]
			if (e.ErrorCode != nil && *e.ErrorCode != "") || e.RecordId == nil {
				failed = append(failed, pending[k])
				if code == "" {
					code, msg = aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)
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
func (d *delivery) put(ctx context.Context, in *firehose.PutRecordBatchInput) (out *firehose.PutRecordBatchOutput, err error) {
	err = d.s.retry.Attempt(ctx, func(ctx context.Context) error {
		out, err = d.s.client.PutRecordBatch(ctx, in, d.putOpts...)
		return err
	})
	return out, err
}

func (d *delivery) land(r *fhRecord) {
	for _, sp := range r.spans {
		d.landed[sp.rec] += sp.events
		d.landedBytes[sp.rec] += int64(sp.bytes)
	}
	// Kept by value: the spans alias the packer's, which the next call reuses.
	d.landedSpans = append(d.landedSpans, r.spans...)
}

// refuse reports an event too large for any Firehose record as undeliverable.
func (d *delivery) refuse(o *oversize) {
	d.undeliverable = append(d.undeliverable, sink.Undeliverable{
		Record: o.rec, Event: o.event, Kind: KindTooLarge,
		Reason: fmt.Sprintf("event exceeds the Firehose record limit (%d bytes > %d)", len(o.line), d.s.lim.RecordBytes),
	})
	d.refused[o.rec]++
}

// backoff sleeps before retry number n+1 (full jitter), or reports false
// when ctx would end first: then there is no time left to retry.
func (d *delivery) backoff(ctx context.Context, n int) bool {
	if err := d.s.retry.Wait(ctx, n); err != nil {
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
	// landed or refused must not come before failedAt. It cannot with
	// the bookkeeping above; if it ever did, reporting it keeps the
	// no-loss invariant rather than trusting a bug.
	for r := 0; r < failedAt; r++ {
		m := d.b.Records[r].Message
		n := 0
		if m != nil {
			n = len(m.LogEvents)
		}
		if d.landed[r]+d.refused[r] != n {
			failedAt = r
			d.lastErr = errors.Join(d.lastErr, fmt.Errorf("firehose sink: internal error: record %d has %d of %d events accounted for", r, d.landed[r]+d.refused[r], n))
			break
		}
	}
	for r := 0; r < failedAt; r++ {
		res.Delivered += d.landed[r]
		res.Bytes += d.landedBytes[r]
	}
	for _, u := range d.undeliverable {
		if u.Record < failedAt {
			res.Undeliverable = append(res.Undeliverable, u)
		}
	}
	if failedAt >= len(d.b.Records) {
		return res
	}
	res.FailedAt = failedAt
	l := sink.NewLanding(d.b, failedAt)
	for _, sp := range d.landedSpans {
		for e := sp.from; e < sp.from+sp.events; e++ {
			l.Add(d.b, sp.rec, e)
		}
	}
	res.Landed = l.Units(d.b)
	again := 0
	for r := failedAt; r < len(d.b.Records); r++ {
		again += d.landed[r]
	}
	err := d.lastErr
	if err == nil {
		err = errors.New("not delivered")
	}
	res.Err = fmt.Errorf("firehose sink: records from index %d of %d not delivered (%d Firehose records unconfirmed; %d events from there on already landed: the retry skips them when the ledger is on): %w",
		failedAt, len(d.b.Records), len(pending), again, err)
	return res
}
