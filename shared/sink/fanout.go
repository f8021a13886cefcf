package sink

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
)

// maxParallelTargets bounds the targets delivered at once: each target's
// sink already works in parallel inside, and every one in flight holds its
// compressors and buffers, so dozens of targets at once would multiply the
// heap for no gain in time.
const maxParallelTargets = 4

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
// target failed on; what each target took of the records from there on is
// reported in Landed under keys of that target, and left out for that
// target when the retry hands them back in Batch.Landed.
func (f *Fanout) Deliver(ctx context.Context, b *Batch) Result {
	parts, err := f.split(b)
	if err != nil {
		// A table/sink mismatch is a bug; retry rather than lose the record.
		return Result{FailedAt: 0, Err: err}
	}
	f.deliverParts(ctx, b, parts)
	out := f.merge(parts)
	for t := range parts {
		p := &parts[t]
		for k, i := range p.origin {
			if out.FailedAt < 0 || i < out.FailedAt {
				out.Delivered += p.skipped[k] // delivered, by an earlier attempt
			}
		}
		if out.FailedAt >= 0 && len(p.batch.Records) > 0 {
			out.Landed = append(out.Landed, f.landed(t, &p.batch, p.origin, p.res, out.FailedAt)...)
		}
	}
	return out
}

// fanoutPart is one target's share of a batch and what its sink made of it.
type fanoutPart struct {
	batch   Batch
	origin  []int // origin[k] is the index in b.Records of batch.Records[k]
	skipped []int // skipped[k]: events of batch.Records[k] an earlier attempt delivered to this target
	res     Result
}

// split gives each target a copy of the records routed to it, less the
// events an earlier attempt delivered to that target (b.Landed).
func (f *Fanout) split(b *Batch) ([]fanoutPart, error) {
	parts := make([]fanoutPart, len(f.sinks))
	landed := f.landedByTarget(b)
	for i := range b.Records {
		for _, t := range b.Records[i].Targets {
			if t < 0 || t >= len(parts) {
				return nil, fmt.Errorf("%s: record %s routed to target %d of %d", f.name, b.Records[i].SequenceNumber, t, len(parts))
			}
			p := &parts[t]
			r := b.Records[i]
			r.Targets = nil // one copy for the target's own sink
			n := 0
			if keys := landed[[2]int{i, t}]; len(keys) > 0 {
				r, n = Without(r, keys)
			}
			p.batch.Records = append(p.batch.Records, r)
			p.origin = append(p.origin, i)
			p.skipped = append(p.skipped, n)
		}
	}
	return parts, nil
}

// deliverParts delivers every part to its target's sink, at most
// maxParallelTargets at once.
func (f *Fanout) deliverParts(ctx context.Context, b *Batch, parts []fanoutPart) {
	var g Group
	sem := make(chan struct{}, maxParallelTargets)
	for t := range parts {
		p := &parts[t]
		if len(p.batch.Records) == 0 {
			continue
		}
		p.batch.ShardID, p.batch.Routes = b.ShardID, b.Routes
		sem <- struct{}{}
		g.Go(func() {
			defer func() { <-sem }()
			p.res = f.sinks[t].Deliver(ctx, &p.batch)
		})
	}
	g.Wait()
}

// merge adds up the targets' results in terms of the whole batch: the
// counts, the undeliverable events (in record order) and the first record
// any target failed on, with every failing target's error.
func (f *Fanout) merge(parts []fanoutPart) Result {
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

// targetKey prefixes the Unit keys of target t's sink: a hash of the
// target's name, so that a key never applies to another target, even
// after the route table changed between two attempts.
func (f *Fanout) targetKey(t int) string {
	h := fnv.New64a()
	h.Write([]byte(f.targets[t]))
	return "t" + strconv.FormatUint(h.Sum64(), 36) + "/"
}

// landedByTarget sorts b.Landed by record and target, without the prefix.
func (f *Fanout) landedByTarget(b *Batch) map[[2]int][]string {
	if len(b.Landed) == 0 {
		return nil
	}
	out := map[[2]int][]string{}
	for t := range f.targets {
		prefix := f.targetKey(t)
		for _, u := range b.Landed {
			if key, ok := strings.CutPrefix(u.Key, prefix); ok {
				out[[2]int{u.Record, t}] = append(out[[2]int{u.Record, t}], key)
			}
		}
	}
	return out
}

// landed lists, as Units of b (records from failedAt on), what target t
// took of its sub-batch sb: every event of the records before the target's
// own FailedAt but those it refused, and what its sink reports landed after.
func (f *Fanout) landed(t int, sb *Batch, origin []int, res Result, failedAt int) []Unit {
	own := res.FailedAt
	if own < 0 || own > len(sb.Records) {
		own = len(sb.Records)
	}
	refused := map[[2]int]bool{}
	for _, u := range res.Undeliverable {
		refused[[2]int{u.Record, u.Event}] = true
	}
	l := NewLanding(sb, 0)
	for k := range own {
		if origin[k] < failedAt {
			continue
		}
		for e := range sb.Records[k].Message.LogEvents {
			if !refused[[2]int{k, e}] {
				l.Add(sb, k, e)
			}
		}
	}
	prefix := f.targetKey(t)
	var out []Unit
	for _, u := range append(l.Units(sb), res.Landed...) {
		if u.Record >= 0 && u.Record < len(origin) && origin[u.Record] >= failedAt {
			out = append(out, Unit{Record: origin[u.Record], Key: prefix + u.Key})
		}
	}
	return out
}
