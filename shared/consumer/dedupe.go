package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/sink"
)

// DefaultLedgerTimeout bounds reading the ledger before delivery: past it
// the batch is delivered whole (at least once) rather than waiting on a
// slow ledger.
const DefaultLedgerTimeout = 2 * time.Second

// pendingEntry is a ledger read running while the batch is decoded.
type pendingEntry struct {
	key   string
	done  chan struct{}
	entry ledger.Entry
	err   error
}

// readLedger starts reading the entry of a batch whose first record is
// first, so that the call's latency hides behind decoding.
func (h *Handler) readLedger(ctx context.Context, first *invocation.KinesisRecord) *pendingEntry {
	p := &pendingEntry{key: ledger.Key(h.o.LedgerName, first.ShardID(), first.SequenceNumber), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		rctx, cancel := context.WithTimeout(ctx, h.o.LedgerTimeout)
		defer cancel()
		_, p.err = h.o.Retry.Do(rctx, h.call("ledger read", func(ctx context.Context) error {
			e, err := h.o.Ledger.Get(ctx, p.key)
			p.entry = e
			return err
		}))
	}()
	return p
}

// wait returns the entry read, or nil and why it could not be read.
func (p *pendingEntry) wait() (ledger.Entry, error) {
	<-p.done
	if p.err != nil {
		return nil, fmt.Errorf("read ledger entry %s: %w", p.key, p.err)
	}
	return p.entry, nil
}

// skipLanded leaves out of b the events entry says already landed, and
// returns how many it left out. Keys it cannot apply (a Fanout's, made for
// one target) go to the sink in b.Landed. Units of records not in b are
// ignored.
func skipLanded(b *sink.Batch, entry ledger.Entry) int {
	if len(entry) == 0 {
		return 0
	}
	bySeq := make(map[string][]string, len(entry))
	for _, r := range entry {
		bySeq[r.SequenceNumber] = r.Units
	}
	skipped := 0
	for k := range b.Records {
		units := bySeq[b.Records[k].SequenceNumber]
		if len(units) == 0 {
			continue
		}
		var n int
		b.Records[k], n = sink.Without(b.Records[k], units)
		skipped += n
		for _, u := range units {
			if _, _, ok := sink.ParseEventsKey(u); !ok {
				b.Landed = append(b.Landed, sink.Unit{Record: k, Key: u})
			}
		}
	}
	return skipped
}

// ledgerEntry lists what landed of the records from recs[cutoff] on, the
// records Lambda re-delivers: what the entry read before delivery said
// (prior), the events of the batch's records before the sink's FailedAt
// that the sink did not report undeliverable, and res.Landed.
func ledgerEntry(recs []invocation.KinesisRecord, cutoff int, b *sink.Batch, origin []int, res sink.Result, prior ledger.Entry) ledger.Entry {
	units := map[string][]string{}
	for _, r := range prior {
		units[r.SequenceNumber] = append(units[r.SequenceNumber], r.Units...)
	}
	first := len(b.Records) // first batch record at or after the cutoff
	for k, i := range origin {
		if i >= cutoff {
			first = k
			break
		}
	}
	failedAt := res.FailedAt
	if failedAt < 0 || failedAt > len(b.Records) {
		failedAt = len(b.Records)
	}
	if first < failedAt {
		undeliverable := map[[2]int]bool{}
		for _, u := range res.Undeliverable {
			undeliverable[[2]int{u.Record, u.Event}] = true
		}
		l := sink.NewLanding(b, first)
		for k := first; k < failedAt; k++ {
			for e := range b.Records[k].Message.LogEvents {
				if !undeliverable[[2]int{k, e}] {
					l.Add(b, k, e)
				}
			}
		}
		for _, u := range l.Units(b) {
			seq := b.Records[u.Record].SequenceNumber
			units[seq] = append(units[seq], u.Key)
		}
	}
	for _, u := range res.Landed {
		if u.Record >= first && u.Record < len(b.Records) {
			seq := b.Records[u.Record].SequenceNumber
			units[seq] = append(units[seq], u.Key)
		}
	}
	var e ledger.Entry
	for i := cutoff; i < len(recs); i++ {
		if us := units[recs[i].SequenceNumber]; len(us) > 0 {
			e = append(e, ledger.Record{SequenceNumber: recs[i].SequenceNumber, Units: us})
			delete(units, recs[i].SequenceNumber) // a sequence number twice in one batch is not Lambda's doing
		}
	}
	return e
}

// settleLedger writes the entry for the retry when the batch ends with a
// retry point (newKey set), and deletes the entry the batch read (readKey,
// if it found one) once it is of no more use. An entry under the same key
// is replaced by the new one, or kept if that write fails: what it lists
// did land. A failure is returned to be logged: it costs duplicates on the
// retry, never events.
func (h *Handler) settleLedger(ctx context.Context, readKey, newKey string, e ledger.Entry) error {
	// Bounded like the read: an unreachable ledger must not keep the
	// response (and the next batch) waiting.
	ctx, cancel := context.WithTimeout(ctx, h.o.LedgerTimeout)
	defer cancel()
	var errs []error
	if newKey != "" && len(e) > 0 {
		if _, err := h.o.Retry.Do(ctx, h.call("ledger write", func(ctx context.Context) error { return h.o.Ledger.Put(ctx, newKey, e) })); err != nil {
			errs = append(errs, fmt.Errorf("write ledger entry %s: %w", newKey, err))
		}
	}
	if readKey != "" && readKey != newKey {
		if _, err := h.o.Retry.Do(ctx, h.call("ledger delete", func(ctx context.Context) error { return h.o.Ledger.Delete(ctx, readKey) })); err != nil {
			errs = append(errs, fmt.Errorf("delete ledger entry %s: %w", readKey, err))
		}
	}
	return errors.Join(errs...)
}
