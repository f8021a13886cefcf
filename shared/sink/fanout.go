package sink

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Fanout delivers a routed batch to several targets of one sink kind (S3
// prefixes, Firehose streams, CloudWatch Logs regions), each through its own
// sink, and merges what they report into one Result.
type Fanout struct {
	name    string
	targets []string
	sinks   []Sink
}

// NewFanout returns a Fanout named name whose target i (an index in
// DecodedRecord.Targets) is delivered by sinks[i] and named targets[i].
func NewFanout(name string, targets []string, sinks []Sink) *Fanout {
	return &Fanout{name: name, targets: targets, sinks: sinks}
}

// Name implements Sink.
func (f *Fanout) Name() string { return f.name }

// Deliver implements Sink: each target gets the records routed to it, all
// targets at once. A record is retried (FailedAt) from the first record any
// target failed on; what other targets delivered of the records after it
// is counted as delivered and sent to them again by the retry.
func (f *Fanout) Deliver(ctx context.Context, b *Batch) Result {
	type part struct {
		batch  Batch
		origin []int // origin[k] is the index in b.Records of batch.Records[k]
		res    Result
	}
	parts := make([]part, len(f.sinks))
	for i := range b.Records {
		for _, t := range b.Records[i].Targets {
			if t < 0 || t >= len(parts) {
				// A table/sink mismatch is a bug; retry rather than lose the record.
				return Result{FailedAt: 0, Err: fmt.Errorf("%s: record %s routed to target %d of %d", f.name, b.Records[i].SequenceNumber, t, len(parts))}
			}
			p := &parts[t]
			r := b.Records[i]
			r.Targets = nil // one copy for the target's own sink
			p.batch.Records = append(p.batch.Records, r)
			p.origin = append(p.origin, i)
		}
	}
	var g Group
	for t := range parts {
		p := &parts[t]
		if len(p.batch.Records) == 0 {
			continue
		}
		p.batch.ShardID, p.batch.Routes = b.ShardID, b.Routes
		g.Go(func() { p.res = f.sinks[t].Deliver(ctx, &p.batch) })
	}
	g.Wait()

	out := Result{FailedAt: -1}
	var errs []error
	for t := range parts {
		p := &parts[t]
		if len(p.batch.Records) == 0 {
			continue
		}
		out.Delivered += p.res.Delivered
		out.Bytes += p.res.Bytes
		out.Retries += p.res.Retries
		for _, u := range p.res.Undeliverable {
			if u.Record < 0 || u.Record >= len(p.origin) {
				continue // the consumer's accounting check catches a sink that misreports
			}
			u.Record, u.Target = p.origin[u.Record], f.targets[t]
			out.Undeliverable = append(out.Undeliverable, u)
		}
		if p.res.FailedAt >= 0 {
			at := 0 // a FailedAt past the sub-batch is a sink bug: retry everything
			if p.res.FailedAt < len(p.origin) {
				at = p.origin[p.res.FailedAt]
			}
			if out.FailedAt < 0 || at < out.FailedAt {
				out.FailedAt = at
			}
			errs = append(errs, fmt.Errorf("target %s: %w", f.targets[t], p.res.Err))
		}
	}
	out.Err = errors.Join(errs...)
	slices.SortFunc(out.Undeliverable, func(a, b Undeliverable) int { return a.Record - b.Record })
	return out
}
