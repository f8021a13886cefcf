package consumer

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// Panic guards. A panic that escapes a Lambda handler ends the process
// (aws-lambda-go reports it and exits), and one in a goroutine of its own
// kills it outright: the batch in flight is retried whole after a cold
// start, and a panic that recurs on the same data does so until the records
// expire. So every place that can panic is guarded, as narrowly as what it
// can spoil:
//   - decoding or routing one record: that record is quarantined whole,
//     with the panic as its reason, like an undecodable record (retrying
//     cannot fix code that panics on it either);
//   - a quarantine write or a ledger call: it failed (the record is retried,
//     or the batch delivered at least once), and is not repeated;
//   - sender health: a health error, which costs no event;
//   - reading or writing what a ledger entry says: the entry is not used;
//   - anything else (the accounting check, the summary, the log line and
//     metrics, a hook): the batch is reported for retry from its first
//     record. Duplicates are recoverable, a crash loop is not.
//
// The sink has its own guard (Handler.deliver).

// Stages a test can inject a panic into (Handler.testHook).
const (
	stageParse  = "parse"  // the invocation payload (Invoke)
	stageDecode = "decode" // one record's payload
	stageRoute  = "route"  // one record's route
	stageCheck  = "check"  // the accounting check of the sink's result
)

// at calls the test hook, if any, at stage for record rec (-1: none).
func (h *Handler) at(stage string, rec int) {
	if h.testHook != nil {
		h.testHook(stage, rec)
	}
}

// logPanic logs a recovered panic with its stack.
func (h *Handler) logPanic(ctx context.Context, where string, p any, attrs ...slog.Attr) {
	stack := debug.Stack()
	if gp, ok := p.(*sink.Panic); ok {
		p, stack = gp.Value, gp.Stack
	}
	attrs = append(attrs, slog.String("where", where), slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(stack)))
	h.o.Logger.LogAttrs(ctx, slog.LevelError, "panic", attrs...)
}

// panicError is the error a recovered panic becomes.
func panicError(where string, p any) error {
	if gp, ok := p.(*sink.Panic); ok {
		p = gp.Value
	}
	return fmt.Errorf("%s panicked: %v", where, p)
}

// decode decodes record i's payload; a panic is returned as its error, so
// the record is quarantined with it.
func (h *Handler) decode(ctx context.Context, i int, r *invocation.KinesisRecord) (m *subscription.Message, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.logPanic(ctx, "decode", p, slog.String("sequenceNumber", r.SequenceNumber))
			m, err = nil, panicError("decoding the record", p)
		}
	}()
	h.at(stageDecode, i)
	return h.dec.Decode(r.Data)
}

// route routes record i; a panic is returned as an error, so the record is
// quarantined with it. The router forgets its last match: the panic may
// have left it half updated.
func (h *Handler) route(ctx context.Context, rt *router, i int, r *invocation.KinesisRecord, m *subscription.Message, sum *Summary) (route int, targets []int, deliver bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			rt.haveLast = false
			h.logPanic(ctx, "route", p, slog.String("sequenceNumber", r.SequenceNumber))
			route, targets, deliver, err = 0, nil, false, panicError("routing the record", p)
		}
	}()
	h.at(stageRoute, i)
	route, targets, deliver = rt.route(m, sum)
	return route, targets, deliver, nil
}

// check is checkAccounting; a panic fails the whole batch, which is retried.
func (h *Handler) check(ctx context.Context, b *sink.Batch, res sink.Result) (out sink.Result) {
	defer func() {
		if p := recover(); p != nil {
			h.logPanic(ctx, "accounting check", p)
			out = sink.Result{FailedAt: 0, Err: fmt.Errorf("%w: retrying the whole batch", panicError("the accounting check", p))}
		}
	}()
	h.at(stageCheck, -1)
	return checkAccounting(b, res)
}

// call runs one quarantine or ledger call; a panic is its error, marked
// permanent so that the retry policy does not repeat it.
func (h *Handler) call(what string, f func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				h.logPanic(ctx, what, p)
				err = retry.Permanent(panicError(what, p))
			}
		}()
		return f(ctx)
	}
}

// skip is skipLanded; a panic leaves the entry unused (the records it
// already trimmed stay trimmed: they lost only events that landed).
func (h *Handler) skip(ctx context.Context, b *sink.Batch, prior ledger.Entry) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.logPanic(ctx, "ledger entry", p)
			n, err = 0, panicError("applying the ledger entry", p)
		}
	}()
	return skipLanded(b, prior), nil
}

// entry is ledgerEntry; a panic writes no entry (the retry then delivers
// at least once).
func (h *Handler) entry(ctx context.Context, recs []invocation.KinesisRecord, cutoff int, b *sink.Batch, origin []int, res sink.Result, prior ledger.Entry) (e ledger.Entry, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.logPanic(ctx, "ledger entry", p)
			e, err = nil, panicError("building the ledger entry", p)
		}
	}()
	return ledgerEntry(recs, cutoff, b, origin, res, prior), nil
}

// health is settleHealth; a panic is a health error, which costs no event.
func (h *Handler) health(ctx context.Context, cutoff int, sum *Summary) {
	defer func() {
		if p := recover(); p != nil {
			h.logPanic(ctx, "sender health", p)
			clear(h.seen)
			h.seen = h.seen[:0]
			sum.HealthErr = panicError("sender health", p).Error()
		}
	}()
	h.settleHealth(ctx, cutoff, sum)
}

// recoverBatch is HandleKinesis's last guard: a panic anywhere else
// reports the whole batch for retry from its first record.
func (h *Handler) recoverBatch(ctx context.Context, recs []invocation.KinesisRecord, resp *events.KinesisEventResponse, sum *Summary) {
	p := recover()
	if p == nil {
		return
	}
	h.logPanic(ctx, "handler", p)
	clear(h.seen) // records of this invocation, which Health must not be told about
	h.seen = h.seen[:0]
	err := fmt.Errorf("%w: retrying the whole batch", panicError("the handler", p))
	if len(recs) == 0 {
		return
	}
	sum.RetryFrom, sum.Err, sum.RetryEvents = recs[0].SequenceNumber, err.Error(), sum.Events
	resp.BatchItemFailures = []events.KinesisBatchItemFailure{{ItemIdentifier: recs[0].SequenceNumber}}
}
