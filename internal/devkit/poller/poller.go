// Package poller emulates a Lambda Kinesis event source mapping locally: it
// reads every shard of a stream with its own iterator, invokes a handler
// with the Kinesis event Lambda would build, and honours the handler's
// batchItemFailures the way Lambda does (checkpoint before the lowest
// reported sequence number, re-read the stream from there, give up after
// MaxRetryAttempts and hand the batch to an on-failure destination). The
// demo and the integration tests use it to run the real handlers against
// moto; several pollers over one stream behave like separate mappings.
package poller

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/logfan/logfan/internal/ops/eventsource"
	"github.com/logfan/logfan/internal/ops/onfailure"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/retry"
)

// Defaults, chosen like Lambda's where Lambda has one.
const (
	// DefaultBatchSize is the event source mapping's default BatchSize.
	DefaultBatchSize = 100
	// MaxBatchSize is the largest BatchSize Lambda accepts for Kinesis.
	MaxBatchSize = 10000
	// DefaultMaxRetryAttempts bounds retries of a failing record when Options leave it 0.
	DefaultMaxRetryAttempts = 10
	// RetryForever is MaximumRetryAttempts -1: retry until the record expires.
	RetryForever = -1
	// DefaultPollInterval is how often Lambda polls an idle shard.
	DefaultPollInterval = time.Second
	// DefaultTimeout is the invocation deadline when Options leave it 0.
	DefaultTimeout = 60 * time.Second
)

// Invoker is a Lambda handler as the runtime sees it (lambda.Handler).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// KinesisAPI is the part of the Kinesis client the poller uses.
type KinesisAPI interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// Options configure a Poller, mirroring the event source mapping's settings.
type Options struct {
	// StreamARN is the stream to read (required).
	StreamARN string
	// Name labels this mapping in progress reports (the sink's name in the demo).
	Name string
	// BatchSize caps the records per invocation (1..10,000; default 100).
	BatchSize int
	// MaxPayload caps an invocation's payload in bytes (default 6 MB, Lambda's limit).
	MaxPayload int
	// MaxRetryAttempts is how many times a failing record is retried before
	// its batch goes to OnFailure: 0 means DefaultMaxRetryAttempts, RetryForever never gives up.
	MaxRetryAttempts int
	// RetryDelay is the pause before a retry, doubling per attempt up to MaxRetryDelay (defaults 100 ms, 5 s).
	RetryDelay, MaxRetryDelay time.Duration
	// BisectOnFunctionError splits a batch in two when the function returns an
	// error (BisectBatchOnFunctionError): halves are retried without using
	// retry attempts until a failing batch holds one record.
	BisectOnFunctionError bool
	// PollInterval is the pause after a GetRecords that returned nothing (default 1 s).
	PollInterval time.Duration
	// BatchWindow is the mapping's MaximumBatchingWindowInSeconds: with
	// fewer than BatchSize records read and the shard caught up, the poller
	// waits until this long after the first of them before invoking, and
	// reads what arrived meanwhile (default 0: invoke at once).
	BatchWindow time.Duration
	// Timeout is the function timeout: each invocation's context deadline (default 60 s).
	Timeout time.Duration
	// FunctionARN and RoleARN are what the Lambda context and the event's invokeIdentityArn claim.
	FunctionARN, RoleARN string
	// StopWhenIdle, if set, is asked before each poll of a drained shard; the
	// shard ends only after two empty polls that both started while it
	// returned true (so records written just before it turned true are not
	// missed). Nil ends a shard as soon as it is drained. Cancel the context
	// to stop at once.
	StopWhenIdle func() bool
	// OnProgress, if set, is called after every invocation with a snapshot (never concurrently).
	OnProgress func(Stats)
	// OnFailure receives a batch whose retries ran out, like an on-failure
	// destination. If it is nil, or returns an error, the poller stops with
	// an error instead of discarding the records: locally nothing may vanish.
	OnFailure func(context.Context, onfailure.Discarded) error
}

// ShardStats counts what happened on one shard.
type ShardStats struct {
	ShardID string
	// Invocations counts handler calls.
	Invocations int
	// Records counts records checkpointed: processed, or handed to OnFailure.
	Records int
	// Retries counts invocations that repeated records after a failure.
	Retries int
	// Discarded counts records handed to OnFailure.
	Discarded int
	// LastError is the last failure's reason.
	LastError string
	// Done reports a finished shard.
	Done bool
}

// Stats is a snapshot of a Poller's progress.
type Stats struct {
	Name   string
	Shards []ShardStats
	// Totals over Shards.
	Invocations, Records, Retries, Discarded int
}

// Poller is one emulated event source mapping.
type Poller struct {
	client     KinesisAPI
	newHandler func(shard string) (Invoker, error)
	o          Options

	mu     sync.Mutex
	shards map[string]*ShardStats
	progMu sync.Mutex
}

// New returns a Poller reading o.StreamARN with client and invoking h one
// invocation at a time, like a function with a single execution
// environment: the Lambda runtime never calls one handler instance
// concurrently, and handlers rely on it (the consumer reuses its decoder's
// buffers), so shards wait for each other here.
func New(client KinesisAPI, h Invoker, o Options) (*Poller, error) {
	s := &serialized{h: h}
	return NewPerShard(client, func(string) (Invoker, error) { return s, nil }, o)
}

// NewPerShard returns a Poller that gives every shard its own handler,
// built by newHandler when the shard starts: like Lambda, which processes
// the shards of a stream in parallel in separate execution environments,
// each with its own cold start.
func NewPerShard(client KinesisAPI, newHandler func(shard string) (Invoker, error), o Options) (*Poller, error) {
	if o.StreamARN == "" {
		return nil, errors.New("poller: StreamARN is required")
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.BatchSize < 1 || o.BatchSize > MaxBatchSize {
		return nil, fmt.Errorf("poller: BatchSize %d: want 1 to %d", o.BatchSize, MaxBatchSize)
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = eventsource.DefaultMaxPayload
	}
	if o.MaxRetryAttempts == 0 {
		o.MaxRetryAttempts = DefaultMaxRetryAttempts
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 100 * time.Millisecond
	}
	if o.MaxRetryDelay < o.RetryDelay {
		o.MaxRetryDelay = max(5*time.Second, o.RetryDelay)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Name == "" {
		o.Name = "poller"
	}
	return &Poller{client: client, newHandler: newHandler, o: o, shards: map[string]*ShardStats{}}, nil
}

// serialized lets one handler instance serve several shards, one call at a time.
type serialized struct {
	mu sync.Mutex
	h  Invoker
}

func (s *serialized) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h.Invoke(ctx, payload)
}

// Run polls every shard until each is drained (see Options.StopWhenIdle) or
// closed, and returns the final statistics. A shard whose parent is in the
// stream starts only after the parent is done, as Lambda keeps that order.
func (p *Poller) Run(ctx context.Context) (Stats, error) {
	shards, err := p.listShards(ctx)
	if err != nil {
		return p.Stats(), err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := map[string]chan struct{}{}
	for _, s := range shards {
		id := aws.ToString(s.ShardId)
		done[id] = make(chan struct{})
		p.mu.Lock()
		p.shards[id] = &ShardStats{ShardID: id}
		p.mu.Unlock()
	}
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []error
	for _, s := range shards {
		wg.Add(1)
		go func(s types.Shard) {
			defer wg.Done()
			id := aws.ToString(s.ShardId)
			defer close(done[id])
			for _, parent := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
				if ch, ok := done[aws.ToString(parent)]; ok {
					select {
					case <-ch:
					case <-ctx.Done():
						return
					}
				}
			}
			if err := p.runShard(ctx, id); err != nil {
				errMu.Lock()
				errs = append(errs, fmt.Errorf("%s %s: %w", p.o.Name, id, err))
				errMu.Unlock()
				cancel(err)
			}
		}(s)
	}
	wg.Wait()
	if len(errs) == 0 && ctx.Err() != nil {
		errs = append(errs, context.Cause(ctx))
	}
	return p.Stats(), errors.Join(errs...)
}

// Stats returns a snapshot of the progress so far; safe to call while Run runs.
func (p *Poller) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Stats{Name: p.o.Name}
	for _, s := range p.shards {
		st.Shards = append(st.Shards, *s)
		st.Invocations += s.Invocations
		st.Records += s.Records
		st.Retries += s.Retries
		st.Discarded += s.Discarded
	}
	sort.Slice(st.Shards, func(i, j int) bool { return st.Shards[i].ShardID < st.Shards[j].ShardID })
	return st
}

func (p *Poller) listShards(ctx context.Context) ([]types.Shard, error) {
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamARN: aws.String(p.o.StreamARN)}
	for {
		out, err := p.client.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards of %s: %w", p.o.StreamARN, err)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			return shards, nil
		}
		// With NextToken, the stream must not be named again.
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// position is where a new iterator must start reading.
type position struct {
	typ types.ShardIteratorType
	seq string
}

func (p *Poller) iterator(ctx context.Context, shard string, pos position) (*string, error) {
	in := &kinesis.GetShardIteratorInput{StreamARN: aws.String(p.o.StreamARN), ShardId: aws.String(shard), ShardIteratorType: pos.typ}
	if pos.seq != "" {
		in.StartingSequenceNumber = aws.String(pos.seq)
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var out *kinesis.GetShardIteratorOutput
		if out, err = p.client.GetShardIterator(ctx, in); err == nil {
			return out.ShardIterator, nil
		}
		if sleepErr := retry.Sleep(ctx, p.backoff(attempt+1)); sleepErr != nil {
			return nil, sleepErr
		}
	}
	return nil, fmt.Errorf("get %s iterator %s: %w", pos.typ, pos.seq, err)
}

// getRecords calls GetRecords, backing off on throttling and transient
// errors and renewing an expired iterator from pos.
func (p *Poller) getRecords(ctx context.Context, shard string, iter **string, pos position, limit int) (*kinesis.GetRecordsOutput, error) {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		var out *kinesis.GetRecordsOutput
		out, err = p.client.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(p.o.StreamARN), ShardIterator: *iter, Limit: aws.Int32(int32(limit))})
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var expired *types.ExpiredIteratorException
		if errors.As(err, &expired) {
			it, ierr := p.iterator(ctx, shard, pos)
			if ierr != nil {
				return nil, ierr
			}
			*iter = it
			continue
		}
		if sleepErr := retry.Sleep(ctx, p.backoff(attempt+1)); sleepErr != nil {
			return nil, sleepErr
		}
	}
	return nil, fmt.Errorf("get records: %w", err)
}

// invoke calls the handler as the Lambda runtime would and returns the
// index to retry from (-1 on success), why, and "Unhandled" for a function error.
func (p *Poller) invoke(ctx context.Context, h Invoker, reqID string, payload []byte, batch []types.Record) (at int, reason, fnErr string) {
	ictx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	ictx = lambdacontext.NewContext(ictx, &lambdacontext.LambdaContext{AwsRequestID: reqID, InvokedFunctionArn: p.o.FunctionARN})
	resp, err := func() (resp []byte, err error) {
		defer func() {
			// The runtime reports a panic as a function error; so does the poller.
			if r := recover(); r != nil {
				err = fmt.Errorf("handler panicked: %v", r)
			}
		}()
		return h.Invoke(ictx, payload)
	}()
	if err != nil {
		return 0, "function error: " + err.Error(), "Unhandled"
	}
	at, reason = retryFrom(resp, batch)
	return at, reason, ""
}

func (p *Poller) discard(ctx context.Context, src invocation.EventSource, reqID, reason, fnErr string, attempts int, recs []types.Record) error {
	if p.o.OnFailure == nil {
		return fmt.Errorf("%d records from %s failed %d times and there is no on-failure destination: %s",
			len(recs), aws.ToString(recs[0].SequenceNumber), attempts, reason)
	}
	payload, n, err := eventsource.Event(src, recs, 1<<62)
	if err != nil {
		return err
	}
	if n != len(recs) {
		return fmt.Errorf("encode discarded batch: %d of %d records", n, len(recs))
	}
	d := onfailure.Discarded{
		StreamARN: src.StreamARN, ShardID: src.ShardID, FunctionARN: p.o.FunctionARN, RequestID: reqID,
		Condition: onfailure.ConditionRetriesExhausted, InvokeCount: attempts, FunctionError: fnErr, Reason: reason,
		Records: recs, Payload: payload, Time: time.Now().UTC(),
	}
	if err := p.o.OnFailure(ctx, d); err != nil {
		return fmt.Errorf("send %d records from %s to the on-failure destination: %w", len(recs), aws.ToString(recs[0].SequenceNumber), err)
	}
	return nil
}

func (p *Poller) update(shard string, f func(*ShardStats)) {
	p.mu.Lock()
	f(p.shards[shard])
	p.mu.Unlock()
	if p.o.OnProgress != nil {
		p.progMu.Lock()
		defer p.progMu.Unlock()
		p.o.OnProgress(p.Stats())
	}
}

func (p *Poller) backoff(attempt int) time.Duration {
	d := p.o.RetryDelay
	for i := 1; i < attempt && d < p.o.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, p.o.MaxRetryDelay)
}
