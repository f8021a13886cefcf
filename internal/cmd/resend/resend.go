// Package resend sends archived events again, from the S3 sink's archive
// to any route target: a SIEM added today, a second region's log group, a
// target that lost a window. It reads only the partitions that can hold
// the selected events, rebuilds subscription records from them and hands
// them to the real consumer handler of each target's sink, so the sinks'
// limits, retries and quarantine apply as they do to live data.
//
// It is idempotent and resumable: a progress record per (target, source
// object) says which selections of the object's events reached the target
// and, when a run stopped, how many records of the one being sent did; the
// next run sends only the rest. An S3 target also names its objects from
// the source object and the selection, so a batch sent twice overwrites
// itself. A batch in flight when a run is killed may reach a Firehose or
// Logs target twice (at least once, as Lambda's own retries deliver).
package resend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/logfan/logfan/internal/cli/progress"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/subscription"
)

// Handler is the consumer handler of one target (*consumer.Handler).
type Handler interface {
	HandleKinesis(ctx context.Context, recs []invocation.KinesisRecord) (events.KinesisEventResponse, consumer.Summary)
}

// Target is one destination of a resend.
type Target struct {
	// Name is the target as the operator wrote it (route-target syntax).
	Name string
	// Destination identifies where it delivers, resolved (bucket and
	// prefix, stream and region, region and templates): its progress
	// records are kept under a hash of it.
	Destination string
	// Kind is the target's sink (routes.SinkS3, ...).
	Kind string
	// Routes is the table the target's handler routes by: one route to the
	// target, or the operator's table with every other target left out.
	Routes *routes.Table
	// NewHandler builds one handler of the target; each worker builds its own
	// (a handler, like a Lambda instance, takes one batch at a time).
	NewHandler func(ctx context.Context) (Handler, error)
}

// API is the S3 calls a resend makes; *s3.Client implements it.
type API interface {
	MarkerAPI
}

// Options configure a resend.
type Options struct {
	// S3 reads the archive and the progress records and writes the latter.
	S3 API
	// Bucket and Prefix locate the archive (the S3 sink's bucket and prefix).
	Bucket, Prefix string
	// Selection chooses the events.
	Selection Selection
	// Targets are where the events go (at least one).
	Targets []*Target
	// ProgressBucket and ProgressPrefix locate the progress records.
	ProgressBucket, ProgressPrefix string
	// DryRun reads and counts what would be sent and sends nothing.
	DryRun bool
	// MaxMBps caps the rate of log message bytes handed to the targets, in
	// MB/s over all targets (0: no cap).
	MaxMBps float64
	// Parallel is how many objects are worked on at once (default 4).
	Parallel int
	// Attempts bounds the handler calls per batch while a target keeps
	// failing (default 5); after that the target is given up for the run.
	Attempts int
	// RetryDelay is the first attempt's backoff ceiling, doubling up to 64
	// times it; the pause is drawn under it by the one retry policy
	// (retry.Policy.Wait, full jitter) (default 1 s).
	RetryDelay time.Duration
	// Timeout is each handler call's deadline, like a function's (default 120 s).
	Timeout time.Duration
	// Progress receives the progress display (stderr); nil shows none.
	Progress io.Writer
	// Terminal forces the progress display's kind (tests); nil asks Progress.
	Terminal *bool
	// Objects, if set, receives one line per object and target in a dry run.
	Objects io.Writer
	// BatchRecords caps the records per handler call (default 500; tests make it small).
	BatchRecords int
	// AfterBatch, if set, is called after each batch a target took (tests interrupt runs with it).
	AfterBatch func(target string, object string, records int)
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Limits of the records and batches built from archived events. A record
// holds one log stream's consecutive events, as CloudWatch Logs builds
// them; a batch is one handler call, the size of a large Lambda invocation.
const (
	maxRecordEvents = 1000
	maxRecordBytes  = 1 << 20
	maxBatchRecords = 500
	maxBatchBytes   = 5 << 20
)

// TargetReport counts what one target got.
type TargetReport struct {
	// Target is the target's name.
	Target string `json:"target"`
	// Objects counts the source objects with events for the target this run.
	Objects int `json:"objects"`
	// Events and Bytes count those events and their log message bytes
	// (what a dry run would send).
	Events int   `json:"events"`
	Bytes  int64 `json:"bytes"`
	// Delivered counts the events that landed.
	Delivered int `json:"delivered"`
	// Quarantined counts the events the target's sink refused (in the quarantine, with the reason).
	Quarantined int `json:"quarantined"`
	// Failed counts the events not sent (the target kept failing, or the run was interrupted).
	Failed int `json:"failed"`
	// NotRouted counts selected events the route table sends elsewhere.
	NotRouted int `json:"notRouted,omitempty"`
	// AlreadySent counts selected events an earlier run sent; SkippedObjects
	// the objects whose selected events all were (not read again).
	AlreadySent    int `json:"alreadySent"`
	SkippedObjects int `json:"skippedObjects"`
	// NotAttempted counts objects left out after the target was given up.
	NotAttempted int `json:"notAttempted,omitempty"`
	// Err says why the target was given up.
	Err string `json:"error,omitempty"`
}

// Report says what a resend did.
type Report struct {
	// DryRun says nothing was sent.
	DryRun bool `json:"dryRun"`
	// Objects counts the archived objects in the selected partitions; OtherKeys
	// the keys there that are neither NDJSON nor Parquet (left alone).
	Objects   int `json:"objects"`
	OtherKeys int `json:"otherKeys,omitempty"`
	// Read counts the objects read, Events the events they held and Selected those selected.
	Read     int   `json:"read"`
	Events   int   `json:"events"`
	Selected int   `json:"selected"`
	Bytes    int64 `json:"sourceBytes"`
	// Unreadable lists the objects that could not be read, with the reason.
	Unreadable []string `json:"unreadable,omitempty"`
	// Targets are in the order given.
	Targets []TargetReport `json:"targets"`
	// Interrupted says the run was stopped before the end.
	Interrupted bool `json:"interrupted,omitempty"`
	// Seconds is how long the run took.
	Seconds float64 `json:"seconds"`
}

// Problem returns nil when everything selected reached every target (or,
// in a dry run, could be read), and otherwise an error saying what did not.
func (r *Report) Problem() error {
	var errs []error
	if r.Interrupted {
		errs = append(errs, errors.New("interrupted: run the same command again to send the rest (what was sent is not sent twice)"))
	}
	if len(r.Unreadable) > 0 {
		errs = append(errs, fmt.Errorf("%d objects could not be read: %s", len(r.Unreadable), r.Unreadable[0]))
	}
	for _, t := range r.Targets {
		switch {
		case t.Err != "":
			errs = append(errs, fmt.Errorf("%s: %d events not sent, %d objects not attempted: %s; fix the cause and run again", t.Target, t.Failed, t.NotAttempted, t.Err))
		case t.Failed > 0:
			errs = append(errs, fmt.Errorf("%s: %d events not sent; run again", t.Target, t.Failed))
		}
		if t.Quarantined > 0 {
			errs = append(errs, fmt.Errorf("%s: %d events refused by the target and quarantined with the reason (logfan redrive -from quarantine, once the cause is fixed)", t.Target, t.Quarantined))
		}
	}
	return errors.Join(errs...)
}

// Run performs the resend.
func (o Options) Run(ctx context.Context) (*Report, error) {
	if o.S3 == nil || o.Bucket == "" || len(o.Targets) == 0 || o.ProgressBucket == "" {
		return nil, errors.New("resend: S3, Bucket, Targets and ProgressBucket are required")
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.BatchRecords <= 0 {
		o.BatchRecords = maxBatchRecords
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 120 * time.Second
	}
	if o.ProgressPrefix == "" {
		o.ProgressPrefix = DefaultProgressPrefix
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	start := o.Now()
	objs, other, err := List(ctx, o.S3, o.Bucket, o.Prefix, &o.Selection)
	if err != nil {
		return nil, err
	}
	r := &run{o: o, rep: &Report{DryRun: o.DryRun, Objects: len(objs), OtherKeys: other}, limit: newLimiter(o.MaxMBps)}
	r.win.Since, r.win.Until = o.Selection.window()
	r.win.Regions = o.Selection.SourceRegions
	for _, t := range o.Targets {
		m, err := loadMarkers(ctx, o.S3, o.ProgressBucket, o.ProgressPrefix, o.Bucket, t)
		if err != nil {
			return nil, err
		}
		r.targets = append(r.targets, &targetRun{t: t, m: m, rep: TargetReport{Target: t.Name}})
	}
	var total int64
	for _, ob := range objs {
		total += ob.Size
	}
	if o.Progress != nil {
		label := "resend"
		if o.DryRun {
			label = "resend (dry run)"
		}
		r.bar = progress.Start(o.Progress, progress.Options{Label: label, Unit: "objects", Total: total, Items: int64(len(objs)), Terminal: o.Terminal, Now: o.Now})
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(o.Parallel, max(len(objs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{r: r, handlers: make([]Handler, len(r.targets))}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(objs) || ctx.Err() != nil {
					return
				}
				w.object(ctx, objs[i])
				if r.bar != nil {
					r.bar.Add(objs[i].Size, 1, 0, 0)
				}
			}
		}()
	}
	wg.Wait()
	if r.bar != nil {
		r.bar.Stop()
	}
	rep := r.rep
	rep.Interrupted = ctx.Err() != nil
	for _, t := range r.targets {
		rep.Targets = append(rep.Targets, t.rep)
	}
	sort.Strings(rep.Unreadable)
	rep.Seconds = o.Now().Sub(start).Seconds()
	return rep, nil
}

// run is one resend's shared state.
type run struct {
	o       Options
	win     window
	targets []*targetRun
	limit   *limiter
	bar     *progress.Reporter

	mu  sync.Mutex
	rep *Report
}

// targetRun is one target's state in a run.
type targetRun struct {
	t *Target
	m *markers

	mu     sync.Mutex
	rep    TargetReport
	broken error // set once the target is given up
}

func (t *targetRun) update(f func(*TargetReport)) {
	t.mu.Lock()
	f(&t.rep)
	t.mu.Unlock()
}

func (t *targetRun) givenUp() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.broken
}

// worker works on one object at a time, with its own handler per target.
type worker struct {
	r        *run
	handlers []Handler
	gz       *gzip.Writer
	buf      []byte
}

// pending is one target's work on an object.
type pending struct {
	t *targetRun
	m *marker
}

// object sends one archived object's selected events to every target that lacks them.
func (w *worker) object(ctx context.Context, ob Object) {
	r := w.r
	var todo []pending
	for _, t := range r.targets {
		if t.givenUp() != nil {
			t.update(func(rep *TargetReport) { rep.NotAttempted++ })
			continue
		}
		m, err := t.m.get(ctx, ob.Key)
		if err != nil {
			t.update(func(rep *TargetReport) { rep.NotAttempted++ })
			t.giveUp(err)
			continue
		}
		if m.covers(r.win) {
			t.update(func(rep *TargetReport) { rep.SkippedObjects++ })
			continue
		}
		todo = append(todo, pending{t, m})
	}
	if len(todo) == 0 {
		return
	}
	evs, err := read(ctx, r.o.S3, r.o.Bucket, ob)
	r.mu.Lock()
	r.rep.Read++
	r.rep.Bytes += ob.Size
	r.rep.Events += len(evs)
	if err != nil {
		r.rep.Unreadable = append(r.rep.Unreadable, err.Error())
	}
	r.mu.Unlock()
	if err != nil {
		return
	}
	mt := r.o.Selection.matcher()
	var sel []int
	var regions []string // per selected event, when a region filter asks for them
	for i := range evs {
		if mt.match(&evs[i]) {
			sel = append(sel, i)
			if len(r.o.Selection.SourceRegions) > 0 {
				regions = append(regions, mt.region(&evs[i]))
			}
		}
	}
	r.mu.Lock()
	r.rep.Selected += len(sel)
	r.mu.Unlock()
	for _, p := range todo {
		w.send(ctx, ob, evs, sel, regions, mt, p)
	}
}

// send sends the selected events of an object that target p lacks.
func (w *worker) send(ctx context.Context, ob Object, evs []record.Event, sel []int, regions []string, mt *matcher, p pending) {
	r, t := w.r, p.t
	var idx []int
	already := 0
	for k, i := range sel {
		reg := ""
		if regions != nil {
			reg = regions[k]
		} else if len(p.m.Done) > 0 && anyRegions(p.m.Done) {
			reg = mt.region(&evs[i])
		}
		if p.m.sent(evs[i].Timestamp, reg) {
			already++
			continue
		}
		idx = append(idx, i)
	}
	recs := buildRecords(evs, idx)
	var routed []rec
	notRouted := 0
	var size int64
	for _, rc := range recs {
		if !routesTo(t.t, rc.m) {
			notRouted += len(rc.m.LogEvents)
			continue
		}
		routed = append(routed, rc)
		size += rc.bytes
	}
	events := len(idx) - notRouted
	t.update(func(rep *TargetReport) {
		rep.AlreadySent += already
		rep.NotRouted += notRouted
		if events > 0 {
			rep.Objects++
			rep.Events += events
			rep.Bytes += size
		}
	})
	if r.o.DryRun {
		if r.o.Objects != nil && events > 0 {
			r.mu.Lock()
			fmt.Fprintf(r.o.Objects, "%s\t%s\t%d events\t%d bytes\n", t.t.Name, ob.Key, events, size)
			r.mu.Unlock()
		}
		return
	}
	win := r.win
	win.Events = events
	done := func() {
		// Record the selection even when nothing of it was for this target,
		// so the next run need not read the object for it again.
		p.m.Done = append(p.m.Done, win)
		p.m.Partial = nil
		if err := t.m.put(context.WithoutCancel(ctx), ob.Key, p.m, r.o.Now()); err != nil {
			t.giveUp(err)
		}
	}
	if len(routed) == 0 {
		done()
		return
	}
	fp := fingerprint(r.o.Bucket, ob.Key, idx)
	from := 0
	if p.m.Partial != nil && p.m.Partial.Selection == fp {
		from = min(p.m.Partial.Records, len(routed))
		t.update(func(rep *TargetReport) {
			rep.AlreadySent += p.m.Partial.Events
			rep.Events -= p.m.Partial.Events
		})
	}
	if err := w.deliver(ctx, ob, t, p.m, routed, from, fp); err != nil {
		return
	}
	done()
}

// anyRegions reports whether a done selection was limited to regions.
func anyRegions(ws []window) bool {
	for _, d := range ws {
		if len(d.Regions) > 0 {
			return true
		}
	}
	return false
}

// routesTo reports whether t's route table sends records like m to t.
func routesTo(t *Target, m *subscription.Message) bool {
	i := t.Routes.Match(routes.Record{Owner: m.Owner, Region: m.Region, LogGroup: m.LogGroup, LogStream: m.LogStream})
	return i >= 0 && len(t.Routes.RouteTargets(i, t.Kind)) > 0
}

// giveUp stops sending to the target for the rest of the run.
func (t *targetRun) giveUp(err error) {
	t.mu.Lock()
	if t.broken == nil {
		t.broken = err
		t.rep.Err = err.Error()
	}
	t.mu.Unlock()
}

// deliver hands records from on to the target's handler in batches,
// recording progress after each, and retries a batch from where the
// handler says it failed. It returns an error when the records did not all
// land (the target is then given up, or the run interrupted).
func (w *worker) deliver(ctx context.Context, ob Object, t *targetRun, m *marker, recs []rec, from int, fp string) error {
	r := w.r
	ti := slicesIndex(r.targets, t)
	if w.handlers[ti] == nil {
		h, err := t.t.NewHandler(ctx)
		if err != nil {
			t.giveUp(fmt.Errorf("build the handler: %w", err))
			return err
		}
		w.handlers[ti] = h
	}
	h := w.handlers[ti]
	shard := "resend-" + fp[:16]
	sentEvents := 0
	if m.Partial != nil && m.Partial.Selection == fp {
		sentEvents = m.Partial.Events
	}
	fail := func(at int, err error) error {
		left := 0
		for _, rc := range recs[at:] {
			left += len(rc.m.LogEvents)
		}
		t.update(func(rep *TargetReport) { rep.Failed += left })
		if ctx.Err() == nil {
			t.giveUp(err)
		}
		return err
	}
	for from < len(recs) {
		end, size := from, int64(0)
		for end < len(recs) && end-from < r.o.BatchRecords && (end == from || size+recs[end].bytes <= maxBatchBytes) {
			size += recs[end].bytes
			end++
		}
		if err := r.limit.wait(ctx, size); err != nil {
			return fail(from, err)
		}
		kin := w.encode(shard, recs, from, end)
		for attempt := 1; ; attempt++ {
			cctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
			_, sum := h.HandleKinesis(cctx, kin)
			cancel()
			taken := len(kin)
			if sum.RetryFrom != "" {
				taken = retryIndex(kin, sum.RetryFrom)
			}
			var evs int
			var by int64
			for _, rc := range recs[from : from+taken] {
				evs += len(rc.m.LogEvents)
				by += rc.bytes
			}
			t.update(func(rep *TargetReport) {
				rep.Delivered += sum.Delivered
				rep.Quarantined += sum.Quarantined
				for _, ps := range sum.Poison {
					// Cannot happen with records built here; counted, not lost, if it does.
					if k := retryIndex(kin, ps.SequenceNumber); k < len(kin) {
						rep.Quarantined += len(recs[from+k].m.LogEvents)
					}
				}
			})
			if r.bar != nil {
				r.bar.Add(0, 0, int64(evs), by)
			}
			from += taken
			kin = kin[taken:]
			sentEvents += evs
			if taken > 0 {
				m.Partial = &partial{Selection: fp, Records: from, Events: sentEvents}
				if err := t.m.put(context.WithoutCancel(ctx), ob.Key, m, r.o.Now()); err != nil {
					return fail(from, err)
				}
			}
			if len(kin) == 0 {
				break
			}
			err := errors.New(sum.Err)
			if ctx.Err() != nil {
				return fail(from, ctx.Err())
			}
			if attempt >= r.o.Attempts {
				return fail(from, fmt.Errorf("%d attempts: %w", attempt, err))
			}
			backoff := retry.Policy{BackoffBase: r.o.RetryDelay, BackoffMax: r.o.RetryDelay << 6}
			if werr := backoff.Wait(ctx, attempt-1); werr != nil {
				return fail(from, werr)
			}
		}
		if r.o.AfterBatch != nil {
			r.o.AfterBatch(t.t.Name, ob.Key, from)
		}
	}
	return nil
}

func slicesIndex(ts []*targetRun, t *targetRun) int {
	for i, x := range ts {
		if x == t {
			return i
		}
	}
	return -1
}

// retryIndex returns the index in kin of the record with sequence number seq (len(kin) if none).
func retryIndex(kin []invocation.KinesisRecord, seq string) int {
	for i := range kin {
		if kin[i].SequenceNumber == seq {
			return i
		}
	}
	return len(kin)
}

// rec is one subscription record rebuilt from archived events.
type rec struct {
	m     *subscription.Message
	bytes int64 // log message bytes
}

// buildRecords groups the events idx of evs into records as CloudWatch
// Logs builds them: consecutive events of one log stream (and subscription
// context), up to maxRecordEvents and maxRecordBytes each. The grouping
// depends only on the events, so the same selection always gives the same
// records.
func buildRecords(evs []record.Event, idx []int) []rec {
	var out []rec
	var cur *rec
	for _, i := range idx {
		ev := &evs[i]
		n := int64(len(ev.Message))
		if cur == nil || !sameContext(cur.m, ev) || len(cur.m.LogEvents) >= maxRecordEvents || (cur.bytes+n > maxRecordBytes && len(cur.m.LogEvents) > 0) {
			out = append(out, rec{m: ev.Context()}) // a hub's events go as the hub's payload, attributed again
			cur = &out[len(out)-1]
		}
		cur.m.LogEvents = append(cur.m.LogEvents, ev.LogEvent())
		cur.bytes += n
	}
	return out
}

func sameContext(m *subscription.Message, ev *record.Event) bool {
	if m.Owner != ev.Owner || m.LogGroup != ev.LogGroup || m.LogStream != ev.LogStream || m.PolicyLevel != ev.PolicyLevel ||
		m.Region != ev.Region || m.HubAccount != ev.HubAccount || len(m.SubscriptionFilters) != len(ev.SubscriptionFilters) {
		return false
	}
	for i, f := range m.SubscriptionFilters {
		if ev.SubscriptionFilters[i] != f {
			return false
		}
	}
	return true
}

// fingerprint names a selection of an object's events: the object and the
// indexes selected. Record sequence numbers count from the selection's
// start, so an S3 target's object names are the selection's own.
func fingerprint(bucket, key string, idx []int) string {
	h := sha256.New()
	h.Write([]byte(bucket + "/" + key + "\x00"))
	var b [binary.MaxVarintLen64]byte
	for _, i := range idx {
		h.Write(b[:binary.PutUvarint(b[:], uint64(i))])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// encode builds the Kinesis records of recs[from:end]: each payload as
// CloudWatch Logs writes it (subscription.AppendJSON), in a gzip stream
// without compression, since it never leaves the process (the handler
// decodes it as it decodes a live record; deflate would cost more than
// the delivery). Sequence numbers are record indexes, zero-padded so they
// sort as numbers do.
func (w *worker) encode(shard string, recs []rec, from, end int) []invocation.KinesisRecord {
	out := make([]invocation.KinesisRecord, 0, end-from)
	for i := from; i < end; i++ {
		var err error
		w.buf, err = subscription.AppendJSON(w.buf[:0], recs[i].m)
		if err != nil {
			// extractedFields that is not a JSON object: keep the events,
			// without the fields, rather than lose them.
			m := *recs[i].m
			m.LogEvents = append([]subscription.LogEvent(nil), m.LogEvents...)
			for k := range m.LogEvents {
				m.LogEvents[k].ExtractedFields = nil
			}
			w.buf, _ = subscription.AppendJSON(w.buf[:0], &m)
		}
		var z bytesBuffer
		if w.gz == nil {
			w.gz, _ = gzip.NewWriterLevel(&z, gzip.NoCompression) // a valid level cannot fail
		} else {
			w.gz.Reset(&z)
		}
		_, _ = w.gz.Write(w.buf) // writes to memory cannot fail
		_ = w.gz.Close()
		seq := fmt.Sprintf("%012d", i)
		out = append(out, invocation.KinesisRecord{EventID: shard + ":" + seq, SequenceNumber: seq, PartitionKey: recs[i].m.LogStream, Data: z.b})
	}
	return out
}

// bytesBuffer is an io.Writer into a slice the record then owns.
type bytesBuffer struct{ b []byte }

func (z *bytesBuffer) Write(p []byte) (int, error) { z.b = append(z.b, p...); return len(p), nil }

// read fetches and decodes one archived object.
func read(ctx context.Context, api API, bucket string, ob Object) ([]record.Event, error) {
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(ob.Key)}, quiet)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, ob.Key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, ob.Key, err)
	}
	var evs []record.Event
	if ob.Parquet {
		evs, err = readback.DecodeParquetBytes(b)
	} else {
		evs, err = readback.Decode(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("decode s3://%s/%s: %w", bucket, ob.Key, err)
	}
	return evs, nil
}

// limiter paces the bytes handed to targets to a rate (MB/s, 10^6 bytes).
type limiter struct {
	rate float64 // bytes per second; 0: none
	mu   sync.Mutex
	next time.Time
}

func newLimiter(mbps float64) *limiter { return &limiter{rate: mbps * 1e6} }

// wait blocks until n more bytes may go: each batch takes n/rate seconds
// of the schedule, so the average stays at the rate whatever the batch sizes.
func (l *limiter) wait(ctx context.Context, n int64) error {
	if l.rate <= 0 || n <= 0 {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	l.mu.Unlock()
	if d := time.Until(at); d > 0 {
		return retry.Sleep(ctx, d)
	}
	return nil
}
