// Package redrive re-processes, through one sink, what failed earlier:
// the batches Lambda gave up on (the on-failure records its S3 destination
// keeps, payload included) and the quarantine's entries (undecodable
// records, events a sink refused), once the cause is fixed.
//
// It rebuilds a Kinesis event from the stored records and invokes the real
// handler, as Lambda would. It is idempotent: a source is marked done (and,
// with Delete, removed) only after all its records were delivered, marked
// sources are skipped on the next run, and records keep their shard and
// sequence numbers, so the S3 sink names the objects of a batch redriven
// again as it did the first time and overwrites them rather than duplicate.
// What is still undecodable or still refused stays where it is and is
// reported, never retried in a loop.
package redrive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logfan/logfan/internal/ops/eventsource"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/internal/ops/onfailure"
	"github.com/logfan/logfan/internal/ops/quarantined"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/subscription"
)

// Sources a redrive reads.
const (
	// SourceOnFailure is Lambda's S3 on-failure destination.
	SourceOnFailure = "onfailure"
	// SourceQuarantine is the quarantine.
	SourceQuarantine = "quarantine"
)

// DonePrefix is where done-markers go in the bucket: DonePrefix/<sink>/<source key>.
const DonePrefix = naming.RedriveDonePrefix

// redrivenShardPrefix marks the shard of records rebuilt from quarantined
// events: the S3 sink names objects by shard and sequence range, and a
// rebuilt record holds only some of the original record's events, so it
// must never take the name of an object holding the others.
const redrivenShardPrefix = "redrive-"

// S3API is the S3 calls a redrive makes; *s3.Client implements it.
type S3API interface {
	readback.API
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// NewHandler builds the sink's handler with q as its quarantine and
// onSummary receiving each invocation's summary (app.NewHandler in the CLI).
type NewHandler func(ctx context.Context, q quarantine.Quarantine, onSummary func(consumer.Summary)) (lambda.Handler, error)

// Options configure a redrive.
type Options struct {
	// Sink is the sink to redrive through (config.SinkS3, ...).
	Sink string
	// NewHandler builds the sink's handler (required).
	NewHandler NewHandler
	// S3 reads the sources and writes markers and quarantine entries.
	S3 S3API
	// Bucket holds the sources: the stack keeps on-failure records and the quarantine in one bucket.
	Bucket string
	// OnFailurePrefix is where Lambda writes on-failure records (onfailure.KeyPrefix by default).
	OnFailurePrefix string
	// QuarantinePrefix is the quarantine's root prefix, the stack's
	// quarantinePrefix (config.DefaultQuarantinePrefix by default): each
	// sink's function writes under config.SinkQuarantinePrefix(root, sink),
	// and functions deployed before that wrote under root/record/ and
	// root/event/, shared by every sink.
	QuarantinePrefix string
	// Function selects on-failure records by a substring of requestContext.functionArn;
	// by default the stack's function of Sink (naming.FunctionLogicalID).
	Function string
	// Sources lists SourceOnFailure and/or SourceQuarantine (both by default).
	Sources []string
	// Delete removes a source once redriven (undecodable records in the
	// shared layout of older deployments are every sink's and are only marked).
	Delete bool
	// DryRun lists what would be redriven and changes nothing. It needs no
	// handler: it decodes what it reads, to tell what is still poison.
	DryRun bool
	// MaxDecompressed caps a record's decompressed size when a dry run
	// decodes it, as the function's LOGFAN_MAX_DECOMPRESSED_BYTES does
	// (subscription.DefaultMaxDecompressed if 0).
	MaxDecompressed int64
	// Attempts bounds invocations per source while the sink keeps failing (default 3).
	Attempts int
	// RetryDelay is the first pause between attempts, doubling (default 1 s).
	RetryDelay time.Duration
	// Timeout is each invocation's deadline (default 120 s, the stack's function timeout).
	Timeout time.Duration
	// Out receives progress lines (nothing if nil).
	Out io.Writer
}

// Summary counts what a redrive did.
type Summary struct {
	// Objects counts the sources found; Redriven those fully delivered now;
	// Would those a dry run would redrive.
	Objects, Redriven, Would int
	// AlreadyDone counts sources marked done by an earlier run.
	AlreadyDone int
	// OtherFunction counts on-failure records of another sink's function.
	OtherFunction int
	// NoPayload counts on-failure records without records (an SQS/SNS-style
	// record, or a payload Lambda dropped): they must be re-read from the stream.
	NoPayload int
	// StillFailing counts sources whose delivery failed on every attempt.
	StillFailing int
	// StillPoison counts quarantined items the handler still cannot decode or the sink still refuses.
	StillPoison int
	// Records and Events count what was offered to the handler; Delivered the events that landed.
	Records, Events, Delivered int
	// Quarantined counts events newly quarantined while redriving on-failure records.
	Quarantined int
	// Failures describes the sources still failing or still poison.
	Failures []string
}

// Redriver runs one redrive.
type Redriver struct {
	o       Options
	h       lambda.Handler
	capture *capture
	q       quarantine.Quarantine

	dec  *subscription.Decoder
	mu   sync.Mutex
	last *consumer.Summary
	done map[string]bool
	sum  Summary
}

// New validates o and builds the handler.
func New(ctx context.Context, o Options) (*Redriver, error) {
	switch {
	case o.NewHandler == nil && !o.DryRun:
		return nil, errors.New("redrive: NewHandler is required")
	case o.S3 == nil || o.Bucket == "":
		return nil, errors.New("redrive: S3 and Bucket are required")
	case o.Sink == "":
		return nil, errors.New("redrive: Sink is required")
	}
	if o.OnFailurePrefix == "" {
		o.OnFailurePrefix = onfailure.KeyPrefix
	}
	if o.QuarantinePrefix == "" {
		o.QuarantinePrefix = config.DefaultQuarantinePrefix
	}
	o.QuarantinePrefix = strings.Trim(o.QuarantinePrefix, "/")
	if o.Function == "" {
		o.Function = naming.FunctionLogicalID(o.Sink)
	}
	if len(o.Sources) == 0 {
		o.Sources = []string{SourceOnFailure, SourceQuarantine}
	}
	for _, s := range o.Sources {
		if s != SourceOnFailure && s != SourceQuarantine {
			return nil, fmt.Errorf("unknown source %q (want %s or %s)", s, SourceOnFailure, SourceQuarantine)
		}
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 120 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	// What the handler refuses now goes where the sink's function would put it.
	r := &Redriver{o: o, capture: &capture{}, q: s3quarantine.New(o.S3, config.Quarantine{Bucket: o.Bucket, Prefix: config.SinkQuarantinePrefix(o.QuarantinePrefix, o.Sink)})}
	r.dec = subscription.NewDecoder(o.MaxDecompressed)
	if o.DryRun {
		return r, nil
	}
	h, err := o.NewHandler(ctx, r.capture, func(s consumer.Summary) {
		r.mu.Lock()
		r.last = &s
		r.mu.Unlock()
	})
	if err != nil {
		return nil, fmt.Errorf("%s handler: %w", o.Sink, err)
	}
	r.h = h
	return r, nil
}

// Run redrives every selected source and returns the summary. The error
// reports a redrive that could not run, sources still failing, or sources
// none of which could be redriven (all still poison, or without payload);
// poison that stays quarantined beside sources that were redriven is
// reported in the summary only.
func (r *Redriver) Run(ctx context.Context) (Summary, error) {
	keys, err := readback.Keys(ctx, r.o.S3, r.o.Bucket, DonePrefix+"/"+r.o.Sink+"/")
	if err != nil {
		return r.sum, err
	}
	r.done = map[string]bool{}
	for _, k := range keys {
		r.done[strings.TrimPrefix(k, DonePrefix+"/"+r.o.Sink+"/")] = true
	}
	for _, src := range r.o.Sources {
		switch src {
		case SourceOnFailure:
			err = r.onFailure(ctx)
		case SourceQuarantine:
			err = r.quarantined(ctx)
		}
		if err != nil {
			return r.sum, err
		}
	}
	s := r.sum
	// Each source's line was printed as it was handled: the summary only counts.
	if r.o.DryRun {
		fmt.Fprintf(r.o.Out, "redrive %s (dry run): %d objects: %d would be redriven, %d already done, %d of other functions, %d without payload, %d still poison\n",
			r.o.Sink, s.Objects, s.Would, s.AlreadyDone, s.OtherFunction, s.NoPayload, s.StillPoison)
	} else {
		fmt.Fprintf(r.o.Out, "redrive %s: %d objects: %d redriven, %d already done, %d of other functions, %d without payload, %d still failing, %d still poison; %d records, %d events offered, %d delivered, %d newly quarantined\n",
			r.o.Sink, s.Objects, s.Redriven, s.AlreadyDone, s.OtherFunction, s.NoPayload, s.StillFailing, s.StillPoison, s.Records, s.Events, s.Delivered, s.Quarantined)
	}
	if s.StillFailing > 0 {
		return s, fmt.Errorf("%d sources still failing: fix the cause and run the redrive again", s.StillFailing)
	}
	pending := s.Objects - s.AlreadyDone - s.OtherFunction
	if done := s.Redriven + s.Would; pending > 0 && done == 0 {
		return s, fmt.Errorf("none of the %d sources could be redriven (%d still poison, %d without payload): see the lines above; `logfan quarantine show KEY` shows an entry, `logfan quarantine delete KEY` drops it once it is dealt with",
			pending, s.StillPoison, s.NoPayload)
	}
	return s, nil
}

// onFailure redrives Lambda's on-failure records of the sink's function.
func (r *Redriver) onFailure(ctx context.Context) error {
	keys, err := readback.Keys(ctx, r.o.S3, r.o.Bucket, r.o.OnFailurePrefix)
	if err != nil {
		return err
	}
	for i, key := range keys {
		r.sum.Objects++
		prefix := fmt.Sprintf("redrive %s: [%d/%d] s3://%s/%s", r.o.Sink, i+1, len(keys), r.o.Bucket, key)
		if r.done[key] {
			r.sum.AlreadyDone++
			fmt.Fprintf(r.o.Out, "%s: already done\n", prefix)
			continue
		}
		if err := r.onFailureRecord(ctx, prefix, key); err != nil {
			return err
		}
	}
	return nil
}

// onFailureRecord redrives the on-failure record under key (prefix names
// it in the lines printed), unless it is not Lambda's, another function's
// or without a payload; an error stops the redrive.
func (r *Redriver) onFailureRecord(ctx context.Context, prefix, key string) error {
	body, err := r.get(ctx, key)
	if err != nil {
		return err
	}
	rec, err := onfailure.Parse(body)
	if err != nil {
		// Not Lambda's: reported and left alone, the others still redriven.
		r.sum.StillPoison++
		r.fail(prefix, "not an on-failure record, left alone: %v", err)
		return nil
	}
	if !strings.Contains(rec.RequestContext.FunctionARN, r.o.Function) {
		r.sum.OtherFunction++
		return nil
	}
	recs, err := onFailureRecords(rec)
	if err != nil {
		return fmt.Errorf("s3://%s/%s: %w", r.o.Bucket, key, err)
	}
	if len(recs) == 0 {
		r.sum.NoPayload++
		r.fail(prefix, "no records in the payload: read shard %s from %s to %s from the stream, if it still holds them",
			rec.KinesisBatchInfo.ShardID, rec.KinesisBatchInfo.StartSequenceNumber, rec.KinesisBatchInfo.EndSequenceNumber)
		return nil
	}
	src := invocation.EventSource{StreamARN: rec.KinesisBatchInfo.StreamARN, ShardID: rec.KinesisBatchInfo.ShardID}
	if r.o.DryRun {
		r.sum.Would++
		undecodable := ""
		if n, first := r.undecodable(recs); n > 0 {
			undecodable = fmt.Sprintf(" (%d undecodable, which would go to the quarantine: %s)", n, first)
		}
		fmt.Fprintf(r.o.Out, "%s: would redrive %d records of %s%s\n", prefix, len(recs), src.ShardID, undecodable)
		return nil
	}
	res, err := r.deliver(ctx, src, recs)
	if err != nil {
		return err
	}
	// Events the sink refused now are new quarantine entries: keep them.
	for _, e := range res.captured {
		if err := r.q.Put(ctx, e); err != nil {
			return fmt.Errorf("quarantine event %d (ID %q) of record %s: %w", e.Event, e.EventID, e.SequenceNumber, err)
		}
		r.sum.Quarantined++
	}
	if res.failed != "" {
		r.sum.StillFailing++
		r.fail(prefix, "still failing: %s", res.failed)
		return nil
	}
	fmt.Fprintf(r.o.Out, "%s: %d records, %d events redriven (%d delivered, %d quarantined)\n", prefix, len(recs), res.events, res.delivered, len(res.captured))
	return r.finish(ctx, key, r.o.Delete)
}

// onFailureRecords returns the records of rec's payload within its batch's
// sequence range, as Kinesis records.
func onFailureRecords(rec *onfailure.InvocationRecord) ([]types.Record, error) {
	if len(rec.Payload) == 0 {
		return nil, nil
	}
	inv, err := invocation.Parse(rec.Payload)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	bi := rec.KinesisBatchInfo
	var out []types.Record
	for _, ir := range inv.Records {
		if bi.StartSequenceNumber != "" && invocation.CompareSequenceNumbers(ir.SequenceNumber, bi.StartSequenceNumber) < 0 ||
			bi.EndSequenceNumber != "" && invocation.CompareSequenceNumbers(ir.SequenceNumber, bi.EndSequenceNumber) > 0 {
			continue
		}
		arrival := time.UnixMilli(int64(ir.ApproximateArrivalTimestamp * 1000)).UTC()
		out = append(out, types.Record{
			Data: append([]byte(nil), ir.Data...), SequenceNumber: aws.String(ir.SequenceNumber),
			PartitionKey: aws.String(ir.PartitionKey), ApproximateArrivalTimestamp: &arrival,
		})
	}
	return out, nil
}

// quarantineSources are the prefixes a sink's redrive reads: the sink's
// function's own, and the layout shared by every function before each had
// its own (read so that nothing quarantined then is stranded). Another
// sink's prefix is never read: its function could have written anything
// there, and only this sink's function can write this sink's prefix.
func quarantineSources(root, sink string) (own string, shared []string) {
	return config.SinkQuarantinePrefix(root, sink) + "/", []string{root + "/" + quarantine.KindRecord + "/", root + "/" + quarantine.KindEvent + "/"}
}

// quarantined redrives the undecodable records and refused events of this
// sink's function, and those of the shared layout.
func (r *Redriver) quarantined(ctx context.Context) error {
	own, shared := quarantineSources(r.o.QuarantinePrefix, r.o.Sink)
	pending, err := r.pendingQuarantined(ctx, own, shared)
	if err != nil {
		return err
	}
	for i, it := range pending {
		prefix := fmt.Sprintf("redrive %s: [%d/%d] s3://%s/%s", r.o.Sink, i+1, len(pending), r.o.Bucket, it.Key)
		if err := r.quarantinedItem(ctx, prefix, it, own); err != nil {
			return err
		}
	}
	return nil
}

// pendingQuarantined lists the items under own and shared that are this
// sink's and not redriven yet, counting them in the summary.
func (r *Redriver) pendingQuarantined(ctx context.Context, own string, shared []string) ([]quarantined.Item, error) {
	var items []quarantined.Item
	for _, prefix := range append([]string{own}, shared...) {
		got, err := quarantined.List(ctx, r.o.S3, r.o.Bucket, prefix)
		if err != nil {
			return nil, err
		}
		items = append(items, got...)
	}
	var pending []quarantined.Item
	for _, it := range items {
		if it.Entry.Kind == quarantine.KindEvent && it.Entry.Sink != r.o.Sink {
			if strings.HasPrefix(it.Key, own) {
				// Only this sink's function writes here, and only its own refusals.
				r.fail("redrive "+r.o.Sink+": s3://"+r.o.Bucket+"/"+it.Key, "names sink %q, not %s: left alone", it.Entry.Sink, r.o.Sink)
			}
			continue // another sink's refusal
		}
		r.sum.Objects++
		if r.done[it.Key] {
			r.sum.AlreadyDone++
			continue
		}
		pending = append(pending, it)
	}
	return pending, nil
}

// quarantinedItem redrives one quarantined item (prefix names it in the
// lines printed; own is this sink's prefix), or, in a dry run, says
// whether it would; an error stops the redrive.
func (r *Redriver) quarantinedItem(ctx context.Context, prefix string, it quarantined.Item, own string) error {
	e := it.Entry
	var src invocation.EventSource
	var rec types.Record
	switch e.Kind {
	case quarantine.KindRecord:
		// The raw record as it came: the handler decodes it again.
		src = invocation.EventSource{ShardID: e.Shard}
		rec = types.Record{Data: e.Data, SequenceNumber: aws.String(e.SequenceNumber), PartitionKey: aws.String("redrive")}
	case quarantine.KindEvent:
		data, err := eventPayload(e.Data)
		if err != nil {
			r.sum.StillPoison++
			r.fail(prefix, "cannot rebuild the event: %v", err)
			return nil
		}
		src = invocation.EventSource{ShardID: redrivenShardPrefix + e.Shard}
		rec = types.Record{Data: data, SequenceNumber: aws.String(e.SequenceNumber), PartitionKey: aws.String("redrive")}
	}
	if r.o.DryRun {
		if _, err := r.dec.Decode(rec.Data); err != nil {
			// What the handler would find again: no need to run it to know.
			r.sum.StillPoison++
			r.fail(prefix, "still poison, would stay in the quarantine: %v", err)
			return nil
		}
		r.sum.Would++
		fmt.Fprintf(r.o.Out, "%s: would redrive a quarantined %s (quarantined because: %s)\n", prefix, e.Kind, e.Reason)
		return nil
	}
	now := time.Now().UTC()
	rec.ApproximateArrivalTimestamp = &now
	res, err := r.deliver(ctx, src, []types.Record{rec})
	if err != nil {
		return err
	}
	switch {
	case res.failed != "":
		r.sum.StillFailing++
		r.fail(prefix, "still failing: %s", res.failed)
	case len(res.poison) > 0 || len(res.captured) > 0:
		// Still undecodable or still refused: it stays where it is (the
		// handler's copy went to the capture, not to a new entry).
		r.sum.StillPoison++
		r.fail(prefix, "still poison, left in the quarantine: %s", stillPoisonReason(res))
	default:
		fmt.Fprintf(r.o.Out, "%s: %d events redriven\n", prefix, res.delivered)
		// A record entry of the shared layout is every sink's: only mark it.
		del := r.o.Delete && (e.Kind == quarantine.KindEvent || strings.HasPrefix(it.Key, own))
		if err := r.finish(ctx, it.Key, del); err != nil {
			return err
		}
	}
	return nil
}

// stillPoisonReason says once why a quarantined item is still poison: an
// undecodable record's reason comes back both in the summary and as the
// handler's quarantine entry, and must not be printed twice.
func stillPoisonReason(res result) string {
	reasons := append([]string(nil), res.poison...)
	for _, c := range res.captured {
		if c.Kind == quarantine.KindRecord && len(res.poison) > 0 {
			continue // the same record's reason, already in res.poison
		}
		reasons = append(reasons, c.Reason)
	}
	return strings.Join(reasons, "; ")
}

// undecodable counts the records of recs the handler could not decode,
// with the first one's reason.
func (r *Redriver) undecodable(recs []types.Record) (n int, first string) {
	for _, rec := range recs {
		if _, err := r.dec.Decode(rec.Data); err != nil {
			if n == 0 {
				first = aws.ToString(rec.SequenceNumber) + ": " + err.Error()
			}
			n++
		}
	}
	return n, first
}

// eventPayload rebuilds the subscription payload of one quarantined event
// from its NDJSON line (the record schema keeps the message's context).
func eventPayload(line []byte) ([]byte, error) {
	r, err := readback.ParseLine(bytes.TrimSpace(line))
	if err != nil {
		return nil, err
	}
	m := r.Context() // a hub's event goes back as the hub's payload, re-attributed as it was
	m.LogEvents = []subscription.LogEvent{r.LogEvent()}
	return subscription.Encode(m)
}

// result is what delivering one source came to.
type result struct {
	events, delivered int
	poison            []string
	captured          []quarantine.Entry
	failed            string
}

// deliver invokes the handler with recs until they are all processed,
// retrying from the record the handler reports, up to Attempts times.
func (r *Redriver) deliver(ctx context.Context, src invocation.EventSource, recs []types.Record) (result, error) {
	var res result
	r.capture.take()
	delay := r.o.RetryDelay
	for attempt := 1; len(recs) > 0; attempt++ {
		payload, n, err := eventsource.Event(src, recs, eventsource.DefaultMaxPayload)
		if err != nil {
			return res, err
		}
		r.mu.Lock()
		r.last = nil
		r.mu.Unlock()
		ictx, cancel := context.WithTimeout(ctx, r.o.Timeout)
		_, ierr := r.h.Invoke(ictx, payload)
		cancel()
		if err := ctx.Err(); err != nil {
			return res, err
		}
		r.mu.Lock()
		sum := r.last
		r.mu.Unlock()
		retryFrom := ""
		switch {
		case ierr != nil:
			retryFrom = aws.ToString(recs[0].SequenceNumber)
			res.failed = ierr.Error()
		case sum == nil:
			return res, errors.New("the handler reported no summary")
		default:
			r.sum.Records += sum.Records
			r.sum.Events += sum.Events
			r.sum.Delivered += sum.Delivered
			res.events += sum.Events
			res.delivered += sum.Delivered
			for _, p := range sum.Poison {
				res.poison = append(res.poison, p.SequenceNumber+": "+p.Reason)
			}
			retryFrom, res.failed = sum.RetryFrom, sum.Err
		}
		if retryFrom == "" {
			recs = recs[n:]
			res.failed = ""
			attempt, delay = 0, r.o.RetryDelay
			continue
		}
		// Drop what was processed; retry the rest after a pause.
		for len(recs) > 0 && aws.ToString(recs[0].SequenceNumber) != retryFrom {
			recs = recs[1:]
		}
		if attempt >= r.o.Attempts {
			break
		}
		if err := retry.Sleep(ctx, delay); err != nil {
			return res, err
		}
		delay *= 2
	}
	res.captured = r.capture.take()
	for i := range res.captured {
		res.captured[i].Shard = strings.TrimPrefix(res.captured[i].Shard, redrivenShardPrefix)
	}
	return res, nil
}

// finish marks a source done for this sink and, if del, deletes it.
func (r *Redriver) finish(ctx context.Context, key string, del bool) error {
	marker := DonePrefix + "/" + r.o.Sink + "/" + key
	if _, err := r.o.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(r.o.Bucket), Key: aws.String(marker), Body: bytes.NewReader(nil)}); err != nil {
		return fmt.Errorf("mark s3://%s/%s done: %w", r.o.Bucket, key, err)
	}
	r.done[key] = true
	r.sum.Redriven++
	if del {
		if _, err := r.o.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(r.o.Bucket), Key: aws.String(key)}); err != nil {
			return fmt.Errorf("delete s3://%s/%s: %w", r.o.Bucket, key, err)
		}
	}
	return nil
}

func (r *Redriver) get(ctx context.Context, key string) ([]byte, error) {
	out, err := r.o.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.o.Bucket), Key: aws.String(key)},
		// Lambda writes the objects without a checksum; that is expected, not worth a log line.
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", r.o.Bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", r.o.Bucket, key, err)
	}
	return b, nil
}

func (r *Redriver) fail(prefix, format string, args ...any) {
	msg := prefix + ": " + fmt.Sprintf(format, args...)
	r.sum.Failures = append(r.sum.Failures, msg)
	fmt.Fprintln(r.o.Out, msg)
}

// capture is the handler's quarantine during a redrive: it keeps entries so
// the redrive can tell "still poison" from "delivered" and decide where
// they belong, instead of the handler writing fresh entries.
type capture struct {
	mu      sync.Mutex
	entries []quarantine.Entry
}

func (c *capture) Put(_ context.Context, e quarantine.Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.Data = append([]byte(nil), e.Data...)
	c.entries = append(c.entries, e)
	return nil
}

// take returns the entries kept since the last take, deduplicated (a
// retried batch puts the same entry again), in a stable order.
func (c *capture) take() []quarantine.Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var out []quarantine.Entry
	for _, e := range c.entries {
		k := e.Identity()
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	c.entries = nil
	sort.SliceStable(out, func(i, j int) bool {
		return invocation.CompareSequenceNumbers(out[i].SequenceNumber, out[j].SequenceNumber) < 0
	})
	return out
}
