package consumer

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// kinesisRun is the bookkeeping one HandleKinesis call's phases share:
// the records, the response and summary they build, the owners' counts
// and the cutoff. It stays on HandleKinesis's stack, and so do the
// response, the summary and the owners' map, as they did before the
// handler was cut into phases. What escapes (the batch goes to the sink,
// errors and the ledger's keys to other goroutines) is in kinesisBatch:
// the compiler treats everything one struct points to as escaping if any
// of it does. The batch's origin slice is HandleKinesis's own for the
// same reason (a slice grown through a pointer escapes).
type kinesisRun struct {
	recs   []invocation.KinesisRecord
	resp   *events.KinesisEventResponse
	sum    *Summary
	owners map[string]*ownerCount
	// cutoff is the first record index that must be retried (len(recs):
	// none); kinesisBatch.cutErr says why.
	cutoff int
	// inflated sums the decompressed size of the data records kept;
	// overBudget is set once they reach the invocation's share of memory.
	inflated   int64
	overBudget bool
}

// kinesisBatch is the batch one HandleKinesis call delivers and what its
// phases learn about it that escapes to the heap (see kinesisRun).
type kinesisBatch struct {
	*sink.Batch
	rt     *router // nil without routes
	cutErr error   // why kinesisRun.cutoff is set
	// read is the ledger read running beside decoding (nil without a
	// ledger); prior is the entry it found, under readKey, if it applied.
	read       *pendingEntry
	prior      ledger.Entry
	readKey    string
	ledgerErrs []error
	// res is the sink's result, after the accounting check.
	res sink.Result
}

// HandleKinesis processes one Kinesis batch and returns Lambda's response
// and a summary of what happened. It does not panic (see guard.go).
//
// It runs in phases: decode and route the records, apply the ledger (leave
// out what an earlier attempt delivered), deliver to the sink and
// quarantine what it refuses, then settle (the retry point, the ledger
// entry for the retry, sender health) and report.
func (h *Handler) HandleKinesis(ctx context.Context, recs []invocation.KinesisRecord) (resp events.KinesisEventResponse, sum Summary) {
	defer h.recoverBatch(ctx, recs, &resp, &sum)
	start := h.o.Now()
	sum = Summary{Records: len(recs)}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	resp = events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	if len(recs) == 0 {
		return resp, sum
	}
	b := h.newBatch(ctx, recs)
	// Quarantine and ledger writes get the time up to DeadlineMargin,
	// past the sink's delivery deadline.
	qctx, cancelQ := h.quarantineContext(ctx)
	defer cancelQ()
	r := kinesisRun{recs: recs, resp: &resp, sum: &sum, owners: map[string]*ownerCount{}, cutoff: len(recs)}

	// Decode and route. origin maps each batch record back to its index
	// in recs; it is grown here rather than in a phase to stay on the stack.
	origin := make([]int, 0, len(recs))
	for i := range recs {
		if r.overBudget {
			// The rest are not decoded: the memory is spent. Lambda's
			// next invocation starts at the cutoff and gets them.
			break
		}
		for range h.takeRecord(ctx, qctx, &r, &b, i) {
			origin = append(origin, i)
		}
	}
	r.tally(b.rt)
	h.applyLedger(ctx, &r, &b)
	h.deliverAndQuarantine(ctx, qctx, &r, &b, origin)
	h.settle(ctx, qctx, &r, &b, origin)
	h.report(ctx, start, b.ShardID, sum, r.owners)
	if h.o.OnSummary != nil {
		h.o.OnSummary(sum)
	}
	return resp, sum
}

// newBatch starts the batch of recs with its router and, with a ledger,
// the ledger read, started before decoding so that its latency hides
// behind it.
func (h *Handler) newBatch(ctx context.Context, recs []invocation.KinesisRecord) kinesisBatch {
	b := kinesisBatch{Batch: &sink.Batch{ShardID: recs[0].ShardID()}, rt: h.newRouter()}
	if h.o.Ledger != nil {
		b.read = h.readLedger(ctx, &recs[0])
	}
	return b
}

// tally totals the batch's bytes and, with routes, the routes' counts in the summary.
func (r *kinesisRun) tally(rt *router) {
	for _, oc := range r.owners {
		r.sum.Bytes += oc.bytes
	}
	if rt != nil {
		r.sum.Routes = rt.counts()
	}
}

// takeRecord decodes record i and adds its parts to the batch, unless it
// is a control message, a heartbeat, over the memory budget or past the
// cutoff; a record that cannot be decoded or routed is poisoned. It
// returns how many batch records it added.
func (h *Handler) takeRecord(ctx, qctx context.Context, r *kinesisRun, b *kinesisBatch, i int) int {
	m, err := h.decode(ctx, i, &r.recs[i])
	if err != nil {
		if i <= r.cutoff { // past it, Lambda retries the record; it is quarantined then
			h.poison(qctx, r, b, i, err)
		}
		return 0
	}
	if m.IsControl() {
		r.sum.ControlMessages++
		return 0
	}
	// Events of several sources become one message each, attributed to
	// its source where that can be trusted: from here on, a message's
	// owner and region are its events'.
	parts := h.attribute(m)
	if h.o.Health != nil && h.o.Health.IsHeartbeat(m.LogGroup) {
		r.sum.Heartbeats += len(m.LogEvents)
		h.see(i, parts, true)
		return 0
	}
	if !h.withinBudget(r, b, i) {
		return 0
	}
	r.sum.Events += len(m.LogEvents)
	if i > r.cutoff {
		// Past a record that must be retried: delivering these now would
		// only duplicate them when Lambda retries from the cutoff. They
		// are decoded anyway so that the summary counts them.
		r.sum.RetryEvents += len(m.LogEvents)
		return 0
	}
	first := len(b.Records)
	if err := h.addParts(ctx, r, b, i, parts); err != nil {
		// The record is quarantined whole, parts routed before included.
		b.Records = b.Records[:first]
		r.sum.Events -= len(m.LogEvents) // they are in the quarantined record
		h.poison(qctx, r, b, i, err)
		return 0
	}
	if h.o.Health != nil {
		h.see(i, parts, false)
	}
	r.countOwners(b, first)
	return len(b.Records) - first
}

// withinBudget adds the payload record i just inflated to the batch's
// total and reports whether it still fits the invocation's share of
// memory; the first time it does not, the batch is cut at record i.
func (h *Handler) withinBudget(r *kinesisRun, b *kinesisBatch, i int) bool {
	// Every decoded payload of the batch is held until delivery: their
	// sum is bounded like one payload's, or a batch of records near the
	// cap would need many times the memory the cap was derived from
	// (config.MaxDecompressedFor). The first record is always taken, so
	// every invocation makes progress.
	if r.inflated += h.dec.Inflated(); r.inflated > h.maxDecompressed() && len(b.Records) > 0 && i < r.cutoff {
		r.cutoff, b.cutErr = i, fmt.Errorf("the batch's payloads inflate to more than %d bytes from record %s on, the share of memory one invocation holds (LOGFAN_MAX_DECOMPRESSED_BYTES): the rest is left for Lambda's next invocation", h.maxDecompressed(), r.recs[i].SequenceNumber)
		r.overBudget = true
		return false
	}
	return true
}

// addParts appends record i's parts to the batch, with their routes and
// targets when there are routes (a part that gives this sink nothing is
// left out); an error is a part that could not be routed.
func (h *Handler) addParts(ctx context.Context, r *kinesisRun, b *kinesisBatch, i int, parts []subscription.Part) error {
	rec := &r.recs[i]
	for _, p := range parts {
		dr := sink.DecodedRecord{SequenceNumber: rec.SequenceNumber, Message: p.Message, Origin: p.Events}
		if b.rt != nil {
			var (
				deliver bool
				err     error
			)
			if dr.Route, dr.Targets, deliver, err = h.route(ctx, b.rt, i, rec, p.Message, r.sum); err != nil {
				return err
			}
			if !deliver {
				continue
			}
			b.Routes = h.o.Routes
		}
		b.Records = append(b.Records, dr)
	}
	return nil
}

// countOwners adds the events and bytes of the batch's records from first
// on to their owners' counts (the per-owner metrics and Summary.Bytes).
func (r *kinesisRun) countOwners(b *kinesisBatch, first int) {
	for _, dr := range b.Records[first:] {
		pm := dr.Message
		oc := r.owners[pm.Owner]
		if oc == nil {
			oc = &ownerCount{}
			r.owners[pm.Owner] = oc
		}
		for j := range pm.LogEvents {
			oc.bytes += int64(len(pm.LogEvents[j].Message))
		}
		oc.events += len(pm.LogEvents)
	}
}

// poison quarantines record i, which cannot be decoded or routed: retrying
// cannot fix it. If the quarantine write fails, the batch is cut at i
// instead, so that Lambda retries the record rather than losing it.
func (h *Handler) poison(qctx context.Context, r *kinesisRun, b *kinesisBatch, i int, err error) {
	rec := &r.recs[i]
	e := quarantine.Entry{Kind: quarantine.KindRecord, Shard: rec.ShardID(), SequenceNumber: rec.SequenceNumber, Reason: err.Error(), Data: rec.Data}
	if qerr := h.put(qctx, e); qerr != nil {
		r.cutoff, b.cutErr = i, fmt.Errorf("quarantine record %s: %w", rec.SequenceNumber, qerr)
		return
	}
	r.sum.Poison = append(r.sum.Poison, Poison{SequenceNumber: rec.SequenceNumber, Reason: err.Error()})
}

// applyLedger waits for the ledger read and leaves out of the batch what
// the entry it found says an earlier attempt delivered. A ledger that
// cannot be read or applied costs duplicates, never events: the batch is
// delivered whole and the error goes to the summary.
func (h *Handler) applyLedger(ctx context.Context, r *kinesisRun, b *kinesisBatch) {
	if b.read == nil {
		return
	}
	var err error
	if b.prior, err = b.read.wait(); err != nil {
		b.ledgerErrs = append(b.ledgerErrs, err)
		return
	}
	if len(b.prior) == 0 {
		return
	}
	b.readKey = b.read.key
	if r.sum.Skipped, err = h.skip(ctx, b.Batch, b.prior); err != nil {
		b.ledgerErrs, b.prior = append(b.ledgerErrs, err), nil
	}
}

// deliverAndQuarantine delivers the batch to the sink, checks the sink's
// accounting, quarantines the events it reports undeliverable, and moves
// the cutoff back to the first record not all delivered or quarantined.
func (h *Handler) deliverAndQuarantine(ctx, qctx context.Context, r *kinesisRun, b *kinesisBatch, origin []int) {
	if len(b.Records) == 0 {
		return
	}
	dctx, cancel := h.deliveryContext(ctx)
	res := h.deliver(dctx, b.Batch)
	cancel()
	b.res = h.check(ctx, b.Batch, res)
	r.sum.Delivered, r.sum.Retried = b.res.Delivered, b.res.Retries
	failedAt, failErr := b.res.FailedAt, b.res.Err
	if failedAt >= 0 && failErr == nil {
		failErr = errors.New("sink reported a failure without a cause")
	}
	quarantined, qAt, qErr := h.quarantineEvents(qctx, b.Batch, b.res)
	r.sum.Quarantined, r.sum.Rejected = quarantined, quarantined
	if qAt >= 0 && (failedAt < 0 || qAt < failedAt) {
		failedAt, failErr = qAt, qErr
	}
	if failedAt >= 0 && failedAt < len(b.Records) && origin[failedAt] < r.cutoff {
		r.cutoff, b.cutErr = origin[failedAt], failErr
	}
}

// settle tells Lambda where to retry from, writes the ledger entry that
// retry will read, and tells sender health about the settled records.
func (h *Handler) settle(ctx, qctx context.Context, r *kinesisRun, b *kinesisBatch, origin []int) {
	if r.cutoff < len(r.recs) {
		r.retryFromCutoff(b, origin)
	}
	if b.read != nil {
		h.finishLedger(ctx, qctx, r, b, origin)
	}
	if len(b.ledgerErrs) > 0 {
		r.sum.LedgerErr = errors.Join(b.ledgerErrs...).Error()
	}
	if h.o.Health != nil {
		h.health(qctx, r.cutoff, r.sum)
	}
}

// retryFromCutoff reports the cutoff as the batch's retry point: in the
// summary, with the events left for the retry, and as the batch item
// failure Lambda restarts from.
func (r *kinesisRun) retryFromCutoff(b *kinesisBatch, origin []int) {
	r.sum.RetryFrom = r.recs[r.cutoff].SequenceNumber
	r.sum.Err = b.cutErr.Error()
	for k, i := range origin {
		if i >= r.cutoff {
			r.sum.RetryEvents += len(b.Records[k].Message.LogEvents)
		}
	}
	r.resp.BatchItemFailures = append(r.resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: r.sum.RetryFrom})
}

// finishLedger writes, when the batch has a retry point, what landed of
// the records Lambda re-delivers under the retry's key, and deletes the
// entry the batch read (settleLedger).
func (h *Handler) finishLedger(ctx, qctx context.Context, r *kinesisRun, b *kinesisBatch, origin []int) {
	newKey := ""
	var e ledger.Entry
	if r.cutoff < len(r.recs) {
		newKey = ledger.Key(h.o.LedgerName, b.ShardID, r.recs[r.cutoff].SequenceNumber)
		var err error
		if e, err = h.entry(ctx, r.recs, r.cutoff, b.Batch, origin, b.res, b.prior); err != nil {
			b.ledgerErrs = append(b.ledgerErrs, err)
		}
	}
	if err := h.settleLedger(qctx, b.readKey, newKey, e); err != nil {
		b.ledgerErrs = append(b.ledgerErrs, err)
	}
}
