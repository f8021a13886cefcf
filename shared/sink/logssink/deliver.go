package logssink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// streamWork is everything one Deliver sends to one target stream.
type streamWork struct {
	t      Target
	events []event
	inputs []types.InputLogEvent // inputs[i] points into events[i]
	status []uint8               // per event: statusUnsent, statusDelivered or statusRejected
	spans  []span
	err    error
}

const (
	statusUnsent uint8 = iota
	statusDelivered
	statusRejected
)

// candidate is an event the sink can never deliver.
type candidate struct {
	rec, idx int32
	kind     string // sink.Undeliverable.Kind
	reason   string
}

// delivery is the state of one Deliver call.
type delivery struct {
	s       *Sink
	b       *sink.Batch
	retries atomic.Int64
	bisect  atomic.Int64

	mu      sync.Mutex
	rejects []candidate
}

// Deliver implements sink.Sink.
func (s *Sink) Deliver(ctx context.Context, b *sink.Batch) (res sink.Result) {
	res = sink.Result{FailedAt: -1}
	if b == nil || len(b.Records) == 0 {
		return res
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.defaultTimeout)
		defer cancel()
	}
	d := &delivery{s: s, b: b}

	works, pre := s.prepare(b)
	d.run(ctx, works)

	failedRec := len(b.Records)
	var errs []error
	for _, w := range works {
		for i := range w.events {
			switch w.status[i] {
			case statusDelivered:
				res.Delivered++
				res.Bytes += int64(len(w.events[i].msg))
			case statusUnsent:
				failedRec = min(failedRec, int(w.events[i].rec))
			}
		}
		if w.err != nil {
			errs = append(errs, w.err)
		}
	}

	for _, c := range append(pre, d.rejects...) {
		if int(c.rec) < failedRec {
			res.Undeliverable = append(res.Undeliverable, sink.Undeliverable{Record: int(c.rec), Event: int(c.idx), Kind: c.kind, Reason: c.reason})
		}
	}
	res.Retries = int(d.retries.Load())
	if failedRec < len(b.Records) {
		res.FailedAt = failedRec
		res.Landed = landed(b, works, failedRec)
		res.Err = errors.Join(errs...)
		if res.Err == nil {
			res.Err = errors.New("logs sink: events left undelivered")
		}
	}
	return res
}

// landed lists the events of the records from failedRec on that landed,
// for the retry to skip.
func landed(b *sink.Batch, works []*streamWork, failedRec int) []sink.Unit {
	l := sink.NewLanding(b, failedRec)
	for _, w := range works {
		for i := range w.events {
			if w.status[i] == statusDelivered {
				l.Add(b, int(w.events[i].rec), int(w.events[i].idx))
			}
		}
	}
	return l.Units(b)
}

// prepare groups the batch's events by target stream, repairs or refuses
// messages, sorts each stream's events and cuts them into batches.
func (s *Sink) prepare(b *sink.Batch) ([]*streamWork, []candidate) {
	var (
		works []*streamWork
		byT   = make(map[Target]*streamWork)
		pre   []candidate
	)
	maxMsg := min(s.lim.MaxMessageBytes, s.lim.MaxBatchBytes-EventOverhead)
	for ri := range b.Records {
		m := b.Records[ri].Message
		if m == nil || len(m.LogEvents) == 0 {
			continue
		}
		t := s.namer.Target(m.Owner, m.LogGroup, m.LogStream)
		w := byT[t]
		if w == nil {
			w = &streamWork{t: t, events: make([]event, 0, len(m.LogEvents))}
			byT[t] = w
			works = append(works, w)
		}
		for ei := range m.LogEvents {
			msg, repaired := m.LogEvents[ei].Message, false
			if s.invalidUTF8 == QuarantineInvalidUTF8 {
				if !utf8.ValidString(msg) {
					pre = append(pre, candidate{rec: int32(ri), idx: int32(ei), kind: KindInvalidUTF8, reason: "message is not valid UTF-8, which CloudWatch Logs requires"})
					continue
				}
			} else {
				msg, repaired = repairUTF8(msg)
			}
			switch {
			case len(msg) == 0:
				pre = append(pre, candidate{rec: int32(ri), idx: int32(ei), kind: KindEmpty, reason: "empty message: PutLogEvents requires at least 1 byte"})
				continue
			case len(msg) > maxMsg:
				how := ""
				if repaired {
					how = " after replacing invalid UTF-8 with U+FFFD"
				}
				pre = append(pre, candidate{rec: int32(ri), idx: int32(ei), kind: KindTooLarge, reason: fmt.Sprintf(
					"oversize: message is %d bytes%s, over the %d-byte PutLogEvents limit (event size limit minus %d bytes overhead)",
					len(msg), how, maxMsg, EventOverhead)})
				continue
			}
			w.events = append(w.events, event{ts: m.LogEvents[ei].Timestamp, msg: msg, rec: int32(ri), idx: int32(ei)})
		}
	}
	for _, w := range works {
		sortEvents(w.events)
		w.spans = pack(w.spans, w.events, s.lim)
		w.status = make([]uint8, len(w.events))
		w.inputs = make([]types.InputLogEvent, len(w.events))
		for i := range w.events {
			w.inputs[i] = types.InputLogEvent{Message: &w.events[i].msg, Timestamp: &w.events[i].ts}
		}
	}
	return works, pre
}

// run writes each stream's batches, streams in parallel up to the sink's
// concurrency, each stream's batches in order.
func (d *delivery) run(ctx context.Context, works []*streamWork) {
	var next atomic.Int64
	var g sink.Group
	for range min(d.s.concurrency, len(works)) {
		g.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(works) {
					return
				}
				d.stream(ctx, works[i])
			}
		})
	}
	g.Wait()
}

func (d *delivery) stream(ctx context.Context, w *streamWork) {
	if err := d.s.ensureRetention(ctx, d, w.t.Group); err != nil {
		w.err = err
		return
	}
	for _, sp := range w.spans {
		if err := d.put(ctx, w, sp.start, sp.end); err != nil {
			// The later batches of this stream would most likely fail the
			// same way; their events stay unsent and FailedAt covers them.
			w.err = err
			return
		}
	}
}

// put writes w.events[lo:hi] in one PutLogEvents call, creating the group
// and stream when missing, retrying what is retryable until ctx ends, and
// bisecting an InvalidParameterException.
func (d *delivery) put(ctx context.Context, w *streamWork, lo, hi int) error {
	in := &cloudwatchlogs.PutLogEventsInput{
		LogGroupName:  &w.t.Group,
		LogStreamName: &w.t.Stream,
		LogEvents:     w.inputs[lo:hi],
	}
	notFound, attempt := 0, 0
	for {
		err := d.s.retry.Attempt(ctx, func(ctx context.Context) error {
			out, err := d.s.client.PutLogEvents(ctx, in, d.s.putOpts...)
			if err == nil {
				d.landed(w, lo, hi, out.RejectedLogEventsInfo)
			}
			return err
		})
		if err == nil {
			return nil
		}
		switch classify(ctx, err) {
		case kindNotFound:
			if notFound > 0 {
				// Created, yet still missing: give the service a moment.
				if berr := d.s.retry.Wait(ctx, notFound-1); berr != nil {
					return fmt.Errorf("put %d events to %s: %w (gave up: %w)", hi-lo, w.t, err, berr)
				}
			}
			notFound++
			if err := d.s.ensure(ctx, d, w.t); err != nil {
				return fmt.Errorf("put %d events to %s: %w", hi-lo, w.t, err)
			}
			continue
		case kindAccepted:
			d.landed(w, lo, hi, nil)
			return nil
		case kindInvalid:
			return d.bisectPut(ctx, w, lo, hi, err)
		case kindRetry:
			if berr := d.s.retry.Wait(ctx, attempt); berr != nil {
				return fmt.Errorf("put %d events to %s: %w (gave up: %w)", hi-lo, w.t, err, berr)
			}
			// Creating a missing stream and putting again is the normal first
			// use of a stream, not a retry; a retryable failure is.
			attempt++
			d.retries.Add(1)
			continue
		default:
			return fmt.Errorf("put %d events to %s: %w", hi-lo, w.t, err)
		}
	}
}

// bisectPut splits a batch the service refused as a whole, to report
// undeliverable only the events it refuses on their own.
func (d *delivery) bisectPut(ctx context.Context, w *streamWork, lo, hi int, cause error) error {
	if hi-lo == 1 {
		d.reject(w, lo, RejectedInvalidParameter, fmt.Sprintf("PutLogEvents refused the event alone into %s: %v", w.t, cause))
		return nil
	}
	if d.bisect.Add(2) > int64(d.s.bisectCalls) {
		return fmt.Errorf("put %d events to %s: %w (bisection budget of %d calls spent)", hi-lo, w.t, cause, d.s.bisectCalls)
	}
	mid := lo + (hi-lo)/2
	if err := d.put(ctx, w, lo, mid); err != nil {
		return err
	}
	return d.put(ctx, w, mid, hi)
}

// errKind is how the sink reacts to an error from the service.
type errKind int

const (
	kindFatal    errKind = iota // give up on this call: FailedAt covers its events
	kindRetry                   // back off and call again
	kindNotFound                // create the group and stream, then call again
	kindExists                  // the resource exists: success for a create
	kindInvalid                 // the request was refused as invalid: bisect a batch
	kindAccepted                // the batch was accepted before (legacy sequence-token API)
	kindCanceled                // ctx ended
)

func classify(ctx context.Context, err error) errKind {
	if ctx.Err() != nil {
		return kindCanceled
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			return kindNotFound
		case "ResourceAlreadyExistsException":
			return kindExists
		case "InvalidParameterException":
			return kindInvalid
		case "DataAlreadyAcceptedException":
			return kindAccepted
		}
	}
	if retry.Retryable(ctx, err) {
		return kindRetry
	}
	return kindFatal
}
