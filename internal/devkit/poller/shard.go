package poller

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/uuid"

	"github.com/logfan/logfan/internal/ops/eventsource"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/retry"
)

// shardRun is one shard's mapping: where it reads, what it has read and not
// yet checkpointed, and the state of a failing record's retries.
type shardRun struct {
	p     *Poller
	shard string
	h     Invoker
	src   invocation.EventSource

	pos  position
	iter *string
	buf  []types.Record // read, not yet checkpointed, in stream order
	idle int            // consecutive empty polls that may end the shard
	// since is when the first record of buf was read (its batching window's start).
	since time.Time

	failSeq  string // the record the last failure was reported at
	attempts int    // how many times failSeq has failed
	// segs are the sizes of the batches a bisection still has to offer, in
	// stream order (Lambda processes both halves of a split batch, each at
	// its own size); empty means "full batches".
	segs []int
}

// step is what a shard does next after reading.
type step int

const (
	stepRead  step = iota // read again before invoking
	stepOffer             // invoke the handler with the batch read
	stepDone              // the shard is drained or closed
)

func (p *Poller) runShard(ctx context.Context, shard string) error {
	h, err := p.newHandler(shard)
	if err != nil {
		return fmt.Errorf("start a handler: %w", err)
	}
	s := &shardRun{
		p: p, shard: shard, h: h,
		src: invocation.EventSource{StreamARN: p.o.StreamARN, ShardID: shard, RoleARN: p.o.RoleARN},
		pos: position{typ: types.ShardIteratorTypeTrimHorizon},
	}
	if s.iter, err = p.iterator(ctx, shard, s.pos); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		next, err := s.read(ctx)
		if err != nil {
			return err
		}
		if next == stepDone {
			break
		}
		if next == stepRead {
			continue
		}
		if err := s.offer(ctx); err != nil {
			return err
		}
	}
	p.update(shard, func(st *ShardStats) { st.Done = true })
	return nil
}

// read tops the buffer up to a batch with one GetRecords, as Lambda's
// poller does, and says what to do next.
func (s *shardRun) read(ctx context.Context) (step, error) {
	p := s.p
	if len(s.buf) < p.o.BatchSize && s.iter != nil {
		// Asked before the call: an empty answer only proves the shard
		// drained if the writers were already done when it was asked.
		stopOK := p.o.StopWhenIdle == nil || p.o.StopWhenIdle()
		out, err := p.getRecords(ctx, s.shard, &s.iter, s.pos, p.o.BatchSize-len(s.buf))
		if err != nil {
			return stepDone, err
		}
		if n := len(out.Records); n > 0 {
			if len(s.buf) == 0 {
				s.since = time.Now()
			}
			s.buf = append(s.buf, out.Records...)
			s.pos = position{typ: types.ShardIteratorTypeAfterSequenceNumber, seq: aws.ToString(out.Records[n-1].SequenceNumber)}
		}
		s.iter = out.NextShardIterator
		behind := aws.ToInt64(out.MillisBehindLatest)
		if len(s.buf) == 0 {
			if s.iter == nil {
				return stepDone, nil // the shard was closed (resharded) and is fully read
			}
			if stopOK && behind == 0 {
				s.idle++
			} else {
				s.idle = 0
			}
			if s.idle >= 2 {
				return stepDone, nil
			}
			return stepRead, retry.Sleep(ctx, p.o.PollInterval)
		}
		s.idle = 0
		if len(out.Records) > 0 && len(s.buf) < p.o.BatchSize && behind > 0 && s.iter != nil {
			return stepRead, nil // more is waiting: fill the batch first, as Lambda does
		}
		if wait := p.o.BatchWindow - time.Since(s.since); wait > 0 && len(s.buf) < p.o.BatchSize && s.iter != nil {
			// Caught up with a partial batch: wait out the batching window
			// (one read at its end gathers what arrived meanwhile).
			return stepRead, retry.Sleep(ctx, wait)
		}
	}
	if len(s.buf) == 0 {
		return stepDone, nil
	}
	return stepOffer, nil
}

// offer invokes the handler with the next batch and checkpoints what it
// processed, or hands the failure to retry.
func (s *shardRun) offer(ctx context.Context) error {
	p := s.p
	size := p.o.BatchSize
	if len(s.segs) > 0 {
		size = s.segs[0]
	}
	payload, n, err := eventsource.Event(s.src, s.buf[:min(len(s.buf), size)], p.o.MaxPayload)
	if err != nil {
		return err
	}
	batch := s.buf[:n]
	reqID := uuid.NewString() // a random UUID, as Lambda's request IDs are
	at, reason, fnErr := p.invoke(ctx, s.h, reqID, payload, batch)
	if err := ctx.Err(); err != nil {
		return err
	}
	if at < 0 {
		s.checkpoint(n)
		p.update(s.shard, func(st *ShardStats) { st.Invocations++; st.Records += n })
		return nil
	}
	return s.retry(ctx, batch, at, reqID, reason, fnErr)
}

// retry handles a batch that failed from record at: bisect it on a function
// error (if configured), give it to OnFailure once its attempts are spent,
// or checkpoint before the failed record and read the stream again from it
// after a backoff.
func (s *shardRun) retry(ctx context.Context, batch []types.Record, at int, reqID, reason, fnErr string) error {
	p, n := s.p, len(batch)
	seq := aws.ToString(batch[at].SequenceNumber)
	if fnErr != "" && p.o.BisectOnFunctionError && n > 1 {
		// Split, and offer the first half from the same record: Lambda
		// does not count a split against the retry attempts.
		halves := []int{n / 2, n - n/2}
		if len(s.segs) > 0 {
			if rest := s.segs[0] - n; rest > 0 {
				halves = append(halves, rest)
			}
			s.segs = s.segs[1:]
		}
		s.segs = append(halves, s.segs...)
		p.update(s.shard, func(st *ShardStats) { st.Invocations++; st.Retries++; st.LastError = reason })
		return s.rewind(ctx, seq)
	}
	if seq == s.failSeq {
		s.attempts++
	} else {
		s.failSeq, s.attempts = seq, 1
	}
	if p.o.MaxRetryAttempts != RetryForever && s.attempts > p.o.MaxRetryAttempts {
		if err := p.discard(ctx, s.src, reqID, reason, fnErr, s.attempts, batch[at:]); err != nil {
			return err
		}
		s.checkpoint(n)
		p.update(s.shard, func(st *ShardStats) {
			st.Invocations++
			st.Records += n
			st.Discarded += n - at
			st.LastError = reason
		})
		return nil
	}
	s.consume(at)
	p.update(s.shard, func(st *ShardStats) { st.Invocations++; st.Records += at; st.Retries++; st.LastError = reason })
	if err := retry.Sleep(ctx, p.backoff(s.attempts)); err != nil {
		return err
	}
	// Like Lambda: checkpoint before the failed record and read the stream
	// again from it, so the retry sees exactly what is stored.
	return s.rewind(ctx, seq)
}

// checkpoint drops the first n records of the buffer, processed (or given
// up): the failure they may have had is over.
func (s *shardRun) checkpoint(n int) {
	s.buf = s.buf[n:]
	s.failSeq, s.attempts = "", 0
	s.consume(n)
}

// consume takes k records off the bisection's pending batch sizes.
func (s *shardRun) consume(k int) {
	for k > 0 && len(s.segs) > 0 {
		if k >= s.segs[0] {
			k -= s.segs[0]
			s.segs = s.segs[1:]
		} else {
			s.segs[0] -= k
			k = 0
		}
	}
}

// rewind drops what was read and positions a new iterator at seq.
func (s *shardRun) rewind(ctx context.Context, seq string) error {
	s.buf = s.buf[:0:0]
	s.pos = position{typ: types.ShardIteratorTypeAtSequenceNumber, seq: seq}
	var err error
	s.iter, err = s.p.iterator(ctx, s.shard, s.pos)
	return err
}
