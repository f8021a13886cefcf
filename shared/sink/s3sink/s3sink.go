// Package s3sink delivers log events to S3 as gzip-compressed NDJSON objects
// in logfan's record schema, partitioned for Athena and Glue by owner, source
// log group and event hour (UTC):
//
//	<prefix>/owner=<owner>/log_group=<group>/dt=YYYY-MM-DD/hour=HH/<shard>_<seq>_<event>-<seq>_<event>.ndjson.gz
//
// Partition values are escaped with s3layout.Escape (Hive-style %XX, so
// "/aws/lambda/fn" is "%2Faws%2Flambda%2Ffn"). An object is named for its
// first and last events (ObjectName): the sequence number of each one's
// record and its index there, whatever record a retry starts from. A retry
// of the same records writes the same objects again (S3 overwrites, nothing
// is duplicated); an object with other events gets another name, so an
// object that landed is never replaced by one holding fewer events.
// Each partition is split into parts of at most config.S3.MaxObjectBytes
// of uncompressed NDJSON; a single line longer than that gets a part of its own.
//
// The stack's Glue table (cdk/recipient/athena.go) declares the partition
// keys and columns from shared/s3layout, the same definitions the key layout
// here is built from. The escaping is Hive's own for the characters log
// group names may hold ('/' and '#'), so MSCK REPAIR TABLE reads log_group
// back as "/aws/lambda/fn"; with partition projection (log_group of type
// injected) queries name the escaped value: log_group = '%2Faws%2Flambda%2Ffn'.
//
// With WithColumnar (the s3parquet function) each object is one columnar
// file instead, under the same keys with the format's extension.
//
// Objects are stored with Content-Type application/gzip and no
// Content-Encoding: the stored bytes are a gzip file, which Athena, Glue and
// Spark read by its ".gz" extension, and a Content-Encoding would make
// browsers and HTTP libraries gunzip it silently on download.
package s3sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/klauspost/compress/gzip"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/sink"
)

// PutObjectAPI is the one S3 call the sink makes; *s3.Client implements it.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Defaults for the Options.
const (
	// DefaultConcurrency bounds parallel PutObject calls (and the gzip work
	// feeding them): enough to hide S3 latency, small enough to keep memory
	// at a few compressed objects and far below S3's 3,500 PUT/s per prefix.
	DefaultConcurrency = 4
	// DefaultGzipLevel is klauspost gzip's BestSpeed: about 3x the speed of
	// level 6 at a ratio still near 10x on log JSON (see the benchmark).
	DefaultGzipLevel = gzip.BestSpeed
)

// ContentType is the Content-Type of the objects: they are gzip files (see
// the package documentation for why there is no Content-Encoding).
const ContentType = "application/gzip"

// chunkSize is how much NDJSON is gathered before one gzip Write, so the
// compressor sees large writes rather than one call per ~300-byte line.
const chunkSize = 64 << 10

// Sink is the S3 sink.
type Sink struct {
	client         PutObjectAPI
	cfg            config.S3
	maxObjectBytes int64
	concurrency    int
	level          int
	retry          retry.Policy
	columnar       *Columnar // nil: gzip NDJSON

	gzPool *sync.Pool // *gzip.Writer at level, shared by every Sink of that level
	pqPool sync.Pool  // ColumnarWriter (columnar format)
}

// The compressors (about 1 MB each) and object buffers are pooled per
// process, not per Sink: with routes, a function has one Sink per S3
// target, and per-Sink pools would keep (and, after each collection,
// rebuild) a set for every target.
var (
	gzPools [gzip.BestCompression - gzip.StatelessCompression + 1]sync.Pool // by level - gzip.StatelessCompression
	bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

var _ sink.Sink = (*Sink)(nil)

// Option adjusts a Sink (limits and timing, mostly for tests).
type Option func(*Sink)

// Extension is the NDJSON objects' file extension; Athena and Glue pick the
// gzip codec from the ".gz".
const Extension = s3layout.ExtNDJSON

// WithMaxObjectBytes overrides cfg.MaxObjectBytes, the bound on an object's uncompressed NDJSON.
func WithMaxObjectBytes(n int64) Option { return func(s *Sink) { s.maxObjectBytes = n } }

// WithConcurrency sets how many objects are compressed and uploaded at once.
func WithConcurrency(n int) Option { return func(s *Sink) { s.concurrency = n } }

// WithGzipLevel sets the klauspost gzip level (gzip.BestSpeed by default).
func WithGzipLevel(level int) Option { return func(s *Sink) { s.level = level } }

// WithRetry sets the retry policy (retry.Default() otherwise).
func WithRetry(p retry.Policy) Option { return func(s *Sink) { s.retry = p } }

// New returns an S3 sink writing to cfg.Bucket under cfg.Prefix, with
// SSE-KMS when cfg.KMSKeyID is set. S3 takes events of any size, so the
// sink never reports an event undeliverable.
func New(client PutObjectAPI, cfg config.S3, opts ...Option) *Sink {
	s := &Sink{
		client:         client,
		cfg:            cfg,
		maxObjectBytes: cfg.MaxObjectBytes,
		concurrency:    DefaultConcurrency,
		level:          DefaultGzipLevel,
		retry:          retry.Default(),
	}
	for _, o := range opts {
		o(s)
	}
	if s.maxObjectBytes <= 0 {
		s.maxObjectBytes = config.DefaultS3MaxObjectBytes
	}
	if s.concurrency < 1 {
		s.concurrency = 1
	}
	if _, err := gzip.NewWriterLevel(nil, s.level); err != nil {
		s.level = DefaultGzipLevel
	}
	s.gzPool = &gzPools[s.level-gzip.StatelessCompression]
	if s.columnar != nil {
		s.pqPool.New = func() any { return s.columnar.NewWriter() }
	}
	return s
}

// Name implements sink.Sink.
func (s *Sink) Name() string { return config.SinkS3 }

// span is a run of consecutive events of one record that fall in one partition.
type span struct {
	rec      int
	from, to int
}

// job is one partition's share of a batch, in record then event order.
type job struct {
	part  s3layout.Partition
	spans []span
}

// minRec is the lowest record index with an event in the job.
func (j *job) minRec() int { return j.spans[0].rec }

// plan groups the batch's events by partition, in order of first
// appearance, which is also the order of each partition's lowest record.
func plan(b *sink.Batch) []*job {
	type key struct {
		owner, group string
		hour         int64
	}
	var jobs []*job
	index := map[key]*job{}
	for ri := range b.Records {
		m := b.Records[ri].Message
		if m == nil {
			continue
		}
		var cur *job
		curHour := int64(0)
		for ei := range m.LogEvents {
			h := s3layout.HourOf(m.LogEvents[ei].Timestamp)
			if cur != nil && h == curHour {
				cur.spans[len(cur.spans)-1].to = ei + 1
				continue
			}
			k := key{m.Owner, m.LogGroup, h}
			j := index[k]
			if j == nil {
				j = &job{part: s3layout.Partition{Owner: m.Owner, LogGroup: m.LogGroup, Hour: h}}
				index[k] = j
				jobs = append(jobs, j)
			}
			j.spans = append(j.spans, span{rec: ri, from: ei, to: ei + 1})
			cur, curHour = j, h
		}
	}
	return jobs
}

// delivery is the shared state of one Deliver call.
type delivery struct {
	s *Sink
	b *sink.Batch

	failedAt atomic.Int64 // lowest record index with an undelivered event; len(Records) if none
	retries  atomic.Int64

	mu       sync.Mutex
	errAt    int
	err      error
	recBytes []int64 // per record, summed from the workers' own slices
	landed   []*part // objects that landed, for Result.Landed
}

// fail records that the records from rec on did not all land, because of err.
func (d *delivery) fail(rec int, err error) {
	for {
		cur := d.failedAt.Load()
		if int64(rec) >= cur || d.failedAt.CompareAndSwap(cur, int64(rec)) {
			break
		}
	}
	if err == nil {
		return
	}
	d.mu.Lock()
	if d.err == nil || rec < d.errAt {
		d.err, d.errAt = err, rec
	}
	d.mu.Unlock()
}

// needed reports whether an object whose lowest record is rec still matters:
// once an earlier record has failed, Lambda retries from there anyway.
func (d *delivery) needed(rec int) bool { return int64(rec) < d.failedAt.Load() }

// Deliver writes the batch's events to S3, one object per partition and
// part, retrying throttling, 5xx and timeouts with jittered backoff until
// ctx ends. PutObject is atomic, so an object that failed landed none of its
// events: FailedAt is the lowest record index with an event in such an object.
func (s *Sink) Deliver(ctx context.Context, b *sink.Batch) sink.Result {
	res := sink.Result{FailedAt: -1}
	if len(b.Records) == 0 {
		return res
	}
	d := &delivery{s: s, b: b, recBytes: make([]int64, len(b.Records))}
	d.failedAt.Store(int64(len(b.Records)))

	jobs := plan(b)
	// Workers take jobs by index rather than from a channel: a worker that
	// panics must not leave a sender blocked (sink.Group re-raises the panic).
	var next atomic.Int64
	var g sink.Group
	for range min(s.concurrency, len(jobs)) {
		g.Go(func() {
			w := &worker{d: d, recBytes: make([]int64, len(b.Records))}
			defer w.release()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					break
				}
				j := jobs[i]
				if err := ctx.Err(); err != nil {
					d.fail(j.minRec(), fmt.Errorf("deliver to s3://%s: %w", s.cfg.Bucket, err))
					continue
				}
				if !d.needed(j.minRec()) {
					continue
				}
				w.run(ctx, j)
			}
			d.mu.Lock()
			for i, v := range w.recBytes {
				d.recBytes[i] += v
			}
			d.mu.Unlock()
		})
	}
	g.Wait()

	failedAt := int(d.failedAt.Load())
	for i := 0; i < failedAt; i++ {
		if m := b.Records[i].Message; m != nil {
			res.Delivered += len(m.LogEvents)
		}
		res.Bytes += d.recBytes[i]
	}
	res.Retries = int(d.retries.Load())
	if failedAt < len(b.Records) {
		res.FailedAt = failedAt
		res.Landed = d.landedUnits(failedAt)
		res.Err = d.err
		if res.Err == nil {
			res.Err = fmt.Errorf("deliver to s3://%s: records from %d on did not all land", s.cfg.Bucket, failedAt)
		}
	}
	return res
}

// worker compresses and uploads one job at a time, reusing its buffers.
type worker struct {
	d        *delivery
	zw       *gzip.Writer
	pq       ColumnarWriter
	chunk    []byte
	recBytes []int64
}

func (w *worker) release() {
	if w.zw != nil {
		w.d.s.gzPool.Put(w.zw)
		w.zw = nil
	}
	if w.pq != nil {
		w.d.s.pqPool.Put(w.pq)
		w.pq = nil
	}
}

// startPart starts an object of job j whose first event is event ei of
// j.spans[si], or returns nil when an earlier record's failure already
// makes it pointless.
func (w *worker) startPart(j *job, si, ei int) *part {
	rec := j.spans[si].rec
	if !w.d.needed(rec) {
		return nil
	}
	p := &part{buf: bufPool.Get().(*bytes.Buffer), minRec: rec, j: j, si: si, ei: ei}
	p.buf.Reset()
	return p
}

// part is the object being built.
type part struct {
	buf    *bytes.Buffer
	n      int64 // uncompressed NDJSON bytes
	minRec int
	// The object holds j's events from event ei of j.spans[si] up to, not
	// including, event endEi of j.spans[endSi] (set when the part is closed).
	j            *job
	si, ei       int
	endSi, endEi int
}

// name is the object's file name, from its first and last events
// (ObjectName); the part must be closed.
func (p *part) name(d *delivery, ext string) string {
	first := &d.b.Records[p.j.spans[p.si].rec]
	// The last event is just before the end; the end may be a span's first
	// event, and the part is never empty, so then it is the last event of
	// the span before.
	lastSi, lastEi := p.endSi, p.endEi-1
	if lastEi < p.j.spans[lastSi].from {
		lastSi--
		lastEi = p.j.spans[lastSi].to - 1
	}
	last := &d.b.Records[p.j.spans[lastSi].rec]
	return s3layout.ObjectNameExt(d.b.ShardID, first.SequenceNumber, first.EventIndex(p.ei), last.SequenceNumber, last.EventIndex(lastEi), ext)
}

// close notes where the part ends: just before event ei of j.spans[si].
func (p *part) close(si, ei int) { p.endSi, p.endEi = si, ei }

// closeAtEnd notes that the part ends with the job's last event.
func (p *part) closeAtEnd() {
	last := len(p.j.spans) - 1
	p.close(last, p.j.spans[last].to)
}

// landedUnits lists the events of the records from failedAt on that are in
// objects that landed.
func (d *delivery) landedUnits(failedAt int) []sink.Unit {
	l := sink.NewLanding(d.b, failedAt)
	for _, p := range d.landed {
		for si := p.si; si <= p.endSi; si++ {
			sp := p.j.spans[si]
			from, to := sp.from, sp.to
			if si == p.si {
				from = p.ei
			}
			if si == p.endSi {
				to = p.endEi
			}
			for e := from; e < to; e++ {
				l.Add(d.b, sp.rec, e)
			}
		}
	}
	return l.Units(d.b)
}

// run builds the job's parts in order and uploads each as it is finished.
// It stops at the first part that fails (later parts hold only later
// records, which Lambda will retry anyway).
func (w *worker) run(ctx context.Context, j *job) {
	s, d := w.d.s, w.d
	if s.columnar != nil {
		w.runParquet(ctx, j)
		return
	}
	if w.zw == nil {
		if zw, ok := s.gzPool.Get().(*gzip.Writer); ok {
			w.zw = zw
		} else {
			w.zw, _ = gzip.NewWriterLevel(nil, s.level) // level checked by New
		}
	}
	path := j.part.Path(s.cfg.Prefix)
	var p *part
	w.chunk = w.chunk[:0]

	for si, sp := range j.spans {
		m := d.b.Records[sp.rec].Message
		for ei := sp.from; ei < sp.to; ei++ {
			before := len(w.chunk)
			w.chunk = record.AppendLine(w.chunk, m, &m.LogEvents[ei])
			n := int64(len(w.chunk) - before)
			if p != nil && p.n > 0 && p.n+n > s.maxObjectBytes {
				// The line does not fit: close the part without it.
				if err := w.write(w.chunk[:before]); err != nil {
					d.fail(p.minRec, err)
					return
				}
				w.chunk = w.chunk[:copy(w.chunk, w.chunk[before:])]
				p.close(si, ei)
				if !w.finish(ctx, p, path+p.name(d, Extension)) {
					return
				}
				p = nil
			}
			if p == nil {
				if p = w.startPart(j, si, ei); p == nil {
					return
				}
				w.zw.Reset(p.buf)
			}
			p.n += n
			w.recBytes[sp.rec] += n
			if len(w.chunk) >= chunkSize {
				if err := w.write(w.chunk); err != nil {
					d.fail(p.minRec, err)
					return
				}
				w.chunk = w.chunk[:0]
			}
		}
	}
	if p != nil {
		if err := w.write(w.chunk); err != nil {
			d.fail(p.minRec, err)
			return
		}
		w.chunk = w.chunk[:0]
		p.closeAtEnd()
		w.finish(ctx, p, path+p.name(d, Extension))
	}
}

func (w *worker) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := w.zw.Write(b); err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	return nil
}

// finish closes the part's gzip stream and uploads it, reporting whether it landed.
func (w *worker) finish(ctx context.Context, p *part, key string) bool {
	d := w.d
	if err := w.zw.Close(); err != nil {
		d.fail(p.minRec, fmt.Errorf("gzip %s: %w", key, err))
		return false
	}
	return w.upload(ctx, p, key)
}

// upload puts the finished part, reporting whether it landed.
func (w *worker) upload(ctx context.Context, p *part, key string) bool {
	d := w.d
	err := d.s.put(ctx, d, key, p.buf.Bytes(), p.minRec)
	if err == nil {
		bufPool.Put(p.buf)
		p.buf = nil
		d.mu.Lock()
		d.landed = append(d.landed, p)
		d.mu.Unlock()
		return true
	}
	// On failure the HTTP transport may still be reading the body in the
	// background, so the buffer is left to the garbage collector.
	if !errors.Is(err, errNotNeeded) {
		d.fail(p.minRec, err)
	}
	return false
}

// errNotNeeded stops retrying an object whose records an earlier failure already covers.
var errNotNeeded = errors.New("object no longer needed")

// put uploads one object under the retry policy until ctx ends, or until
// an earlier record's failure makes the object pointless.
func (s *Sink) put(ctx context.Context, d *delivery, key string, body []byte, minRec int) error {
	n, err := s.retry.Do(ctx, func(ctx context.Context) error {
		if !d.needed(minRec) {
			return retry.Permanent(errNotNeeded)
		}
		_, err := s.client.PutObject(ctx, s.input(key, body))
		return err
	})
	d.retries.Add(int64(n))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errNotNeeded):
		return errNotNeeded
	}
	return fmt.Errorf("put s3://%s/%s: %w", s.cfg.Bucket, key, err)
}

// input builds the PutObject request for one object.
func (s *Sink) input(key string, body []byte) *s3.PutObjectInput {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.cfg.Bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(s.contentType()),
	}
	if s.cfg.KMSKeyID != "" {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(s.cfg.KMSKeyID)
		// An S3 Bucket Key cuts KMS requests (and their cost and throttling) by
		// reusing a bucket-level data key instead of one KMS call per object.
		in.BucketKeyEnabled = aws.Bool(true)
	}
	return in
}
