// Package logssink delivers log events to CloudWatch Logs log groups in a
// target region with PutLogEvents, within the API's exact limits, creating
// groups (with retention) and streams on demand, and never dropping an event
// silently: each lands, is quarantined with its reason, or is reported back
// through sink.Result.FailedAt for Lambda to retry.
//
// What the sink decides (see also Limits, SanitizeGroup, SanitizeStream):
//   - Oversize events (message over Limits.MaxMessageBytes, 262,118 bytes by
//     default: 256 KB minus the 26-byte event overhead) are quarantined whole,
//     not split: a quarantined event keeps its exact bytes and ID, and a split
//     event would read as several unrelated lines in CloudWatch Logs.
//   - Invalid UTF-8 is repaired by default: each invalid byte becomes U+FFFD,
//     which is what the SDK's JSON encoder would send anyway, and the event's
//     size is counted after repair (each such byte then costs 3 bytes), the
//     way the service counts it. WithInvalidUTF8(QuarantineInvalidUTF8)
//     quarantines such events instead.
//   - Empty messages (PutLogEvents requires at least one byte) are quarantined.
//   - rejectedLogEventsInfo indexes are read as the API reference defines them
//     on the sorted batch that was sent: events from tooNewLogEventStartIndex
//     (inclusive) to the end are too new; events before tooOldLogEventEndIndex
//     (exclusive) are too old; events before expiredLogEventEndIndex are
//     expired (the reference does not say; it is read as exclusive, like
//     tooOldLogEventEndIndex, which is also how the CloudWatch agent counts
//     them). They are quarantined, counted in Result.Rejected, never retried.
//   - An InvalidParameterException for a whole batch is bisected to find the
//     events the service refuses; a single refused event is quarantined
//     (Result.Rejected["InvalidParameterException"]). Bisection is bounded per
//     Deliver; past the bound the batch fails through FailedAt instead.
//   - Retries (throttling, 5xx, timeouts) are at-least-once: a call that timed
//     out may have landed, and CloudWatch Logs does not deduplicate, so a
//     retried call or a re-delivered suffix can duplicate events.
package logssink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// API is the part of the CloudWatch Logs client the sink calls, with the
// SDK's exact signatures; *cloudwatchlogs.Client implements it.
type API interface {
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
}

var (
	_ API       = (*cloudwatchlogs.Client)(nil)
	_ sink.Sink = (*Sink)(nil)
)

// Kinds of sink.Undeliverable the sink reports: the events PutLogEvents
// refused, and those it refuses to send (invalid UTF-8 when so configured,
// empty, over the size limit).
const (
	// KindInvalidUTF8 is a message that is not valid UTF-8 (with QuarantineInvalidUTF8).
	KindInvalidUTF8 = "invalidUTF8"
	// KindEmpty is an empty message.
	KindEmpty = "empty"
	// KindTooLarge is a message over the PutLogEvents event size limit.
	KindTooLarge = "tooLarge"
	// RejectedTooOld counts events older than 14 days (rejectedLogEventsInfo.tooOldLogEventEndIndex).
	RejectedTooOld = "tooOld"
	// RejectedExpired counts events older than the group's retention (expiredLogEventEndIndex).
	RejectedExpired = "expired"
	// RejectedTooNew counts events more than 2 hours in the future (tooNewLogEventStartIndex).
	RejectedTooNew = "tooNew"
	// RejectedInvalidParameter counts single events PutLogEvents answered with InvalidParameterException.
	RejectedInvalidParameter = "InvalidParameterException"
)

// InvalidUTF8 says what the sink does with a message that is not valid UTF-8.
type InvalidUTF8 int

const (
	// RepairInvalidUTF8 replaces each invalid byte with U+FFFD and delivers the event (default).
	RepairInvalidUTF8 InvalidUTF8 = iota
	// QuarantineInvalidUTF8 quarantines the event with its original bytes.
	QuarantineInvalidUTF8
)

// Defaults for the sink's options.
const (
	// DefaultConcurrency is how many target streams are written in parallel.
	DefaultConcurrency = 4
	// DefaultTimeout bounds Deliver when its context has no deadline.
	DefaultTimeout = 60 * time.Second
	// DefaultBisectCalls bounds the calls one Deliver spends isolating events
	// behind an InvalidParameterException.
	DefaultBisectCalls = 64
	// DefaultKnownGroups bounds how many group names the sink remembers as existing.
	DefaultKnownGroups = 4096
)

// Option configures a Sink.
type Option func(*Sink)

// WithLimits overrides the PutLogEvents limits (DefaultLimits); fields that are not positive keep their default.
func WithLimits(l Limits) Option {
	return func(s *Sink) {
		if l.MaxBatchEvents > 0 {
			s.lim.MaxBatchEvents = l.MaxBatchEvents
		}
		if l.MaxBatchBytes > 0 {
			s.lim.MaxBatchBytes = l.MaxBatchBytes
		}
		if l.MaxSpanMillis > 0 {
			s.lim.MaxSpanMillis = l.MaxSpanMillis
		}
		if l.MaxMessageBytes > 0 {
			s.lim.MaxMessageBytes = l.MaxMessageBytes
		}
	}
}

// WithConcurrency sets how many target streams are written in parallel (DefaultConcurrency).
func WithConcurrency(n int) Option {
	return func(s *Sink) {
		if n > 0 {
			s.concurrency = n
		}
	}
}

// WithRetry sets the retry policy (retry.Default() otherwise).
func WithRetry(p retry.Policy) Option { return func(s *Sink) { s.retry = p } }

// WithDefaultTimeout bounds Deliver when its context has no deadline (DefaultTimeout).
func WithDefaultTimeout(d time.Duration) Option {
	return func(s *Sink) {
		if d > 0 {
			s.defaultTimeout = d
		}
	}
}

// WithInvalidUTF8 chooses what happens to messages that are not valid UTF-8.
func WithInvalidUTF8(p InvalidUTF8) Option { return func(s *Sink) { s.invalidUTF8 = p } }

// WithNameCacheSize bounds the cache of template expansions (DefaultNameCacheSize).
func WithNameCacheSize(n int) Option { return func(s *Sink) { s.nameCache = n } }

// WithBisectCalls bounds the calls one Deliver spends isolating refused events (DefaultBisectCalls).
func WithBisectCalls(n int) Option {
	return func(s *Sink) {
		if n >= 0 {
			s.bisectCalls = n
		}
	}
}

// WithSDKSerializer makes PutLogEvents bodies be written by the SDK's own
// serializer instead of the sink's faster, equivalent one.
func WithSDKSerializer() Option { return func(s *Sink) { s.putOpts = nil } }

// Sink writes batches to CloudWatch Logs. It is built once per cold start
// and keeps, across invocations, the template expansions and the groups it
// knows exist. It is safe for concurrent use.
type Sink struct {
	client    API
	retention int32
	namer     *Namer

	lim            Limits
	concurrency    int
	retry          retry.Policy
	defaultTimeout time.Duration
	invalidUTF8    InvalidUTF8
	nameCache      int
	bisectCalls    int
	putOpts        []func(*cloudwatchlogs.Options)

	mu     sync.Mutex
	groups map[string]*groupState
}

// New returns a sink writing through client (built for cfg.Region) into the
// groups and streams cfg's templates name.
func New(client API, cfg config.Logs, opts ...Option) *Sink {
	s := &Sink{
		client:         client,
		retention:      cfg.RetentionDays,
		lim:            DefaultLimits(),
		concurrency:    DefaultConcurrency,
		retry:          retry.Default(),
		defaultTimeout: DefaultTimeout,
		bisectCalls:    DefaultBisectCalls,
		putOpts:        []func(*cloudwatchlogs.Options){fastPut},
		groups:         make(map[string]*groupState),
	}
	for _, o := range opts {
		o(s)
	}
	groupTmpl, streamTmpl := cfg.GroupTemplate, cfg.StreamTemplate
	if groupTmpl == "" {
		groupTmpl = config.DefaultLogsGroupTemplate
	}
	if streamTmpl == "" {
		streamTmpl = config.DefaultLogsStreamTemplate
	}
	s.namer = NewNamer(groupTmpl, streamTmpl, s.nameCache)
	return s
}

// Name implements sink.Sink.
func (s *Sink) Name() string { return config.SinkLogs }

// Target returns where events from owner's logGroup/logStream are written.
func (s *Sink) Target(owner, logGroup, logStream string) Target {
	return s.namer.Target(owner, logGroup, logStream)
}

// streamWork is everything one Deliver sends to one target stream.
type streamWork struct {
	t      Target
	events []event
	inputs []types.InputLogEvent // inputs[i] points into events[i]
	status []uint8               // per event: statusUnsent, statusDelivered or statusRejected
	spans  []span
	err    error
}

const (
	statusUnsent uint8 = iota
	statusDelivered
	statusRejected
)

// candidate is an event the sink can never deliver.
type candidate struct {
	rec, idx int32
	kind     string // sink.Undeliverable.Kind
	reason   string
}

// delivery is the state of one Deliver call.
type delivery struct {
	s       *Sink
	b       *sink.Batch
	retries atomic.Int64
	bisect  atomic.Int64

	mu      sync.Mutex
	rejects []candidate
}

// Deliver implements sink.Sink.
func (s *Sink) Deliver(ctx context.Context, b *sink.Batch) (res sink.Result) {
	res = sink.Result{FailedAt: -1}
	if b == nil || len(b.Records) == 0 {
		return res
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.defaultTimeout)
		defer cancel()
	}
	d := &delivery{s: s, b: b}

	works, pre := s.prepare(b)
	d.run(ctx, works)

	failedRec := len(b.Records)
	var errs []error
	for _, w := range works {
		for i := range w.events {
			switch w.status[i] {
			case statusDelivered:
				res.Delivered++
				res.Bytes += int64(len(w.events[i].msg))
			case statusUnsent:
				failedRec = min(failedRec, int(w.events[i].rec))
			}
		}
		if w.err != nil {
			errs = append(errs, w.err)
		}
	}

	for _, c := range append(pre, d.rejects...) {
		if int(c.rec) < failedRec {
			res.Undeliverable = append(res.Undeliverable, sink.Undeliverable{Record: int(c.rec), Event: int(c.idx), Kind: c.kind, Reason: c.reason})
		}
	}
	res.Retries = int(d.retries.Load())
	if failedRec < len(b.Records) {
		res.FailedAt = failedRec
		res.Err = errors.Join(errs...)
		if res.Err == nil {
			res.Err = errors.New("logs sink: events left undelivered")
		}
	}
	return res
}

// prepare groups the batch's events by target stream, repairs or refuses
// messages, sorts each stream's events and cuts them into batches.
func (s *Sink) prepare(b *sink.Batch) ([]*streamWork, []candidate) {
	var (
		works []*streamWork
		byT   = make(map[Target]*streamWork)
		pre   []candidate
	)
	maxMsg := min(s.lim.MaxMessageBytes, s.lim.MaxBatchBytes-EventOverhead)
	for ri := range b.Records {
		m := b.Records[ri].Message
		if m == nil || len(m.LogEvents) == 0 {
			continue
		}
		t := s.namer.Target(m.Owner, m.LogGroup, m.LogStream)
		w := byT[t]
		if w == nil {
			w = &streamWork{t: t, events: make([]event, 0, len(m.LogEvents))}
			byT[t] = w
			works = append(works, w)
		}
		for ei := range m.LogEvents {
			msg, repaired := m.LogEvents[ei].Message, false
			if s.invalidUTF8 == QuarantineInvalidUTF8 {
				if !utf8.ValidString(msg) {
					pre = append(pre, candidate{rec: int32(ri), idx: int32(ei), kind: KindInvalidUTF8, reason: "message is not valid UTF-8, which CloudWatch Logs requires"})
					continue
				}
			} else {
				msg, repaired = repairUTF8(msg)
			}
			switch {
			case len(msg) == 0:
				pre = append(pre, candidate{rec: int32(ri), idx: int32(ei), kind: KindEmpty, reason: "empty message: PutLogEvents requires at least 1 byte"})
				continue
			case len(msg) > maxMsg:
				how := ""
				if repaired {
					how = " after replacing invalid UTF-8 with U+FFFD"
				}
				pre = append(pre, candidate{rec: int32(ri), idx: int32(ei), kind: KindTooLarge, reason: fmt.Sprintf(
					"oversize: message is %d bytes%s, over the %d-byte PutLogEvents limit (event size limit minus %d bytes overhead)",
					len(msg), how, maxMsg, EventOverhead)})
				continue
			}
			w.events = append(w.events, event{ts: m.LogEvents[ei].Timestamp, msg: msg, rec: int32(ri), idx: int32(ei)})
		}
	}
	for _, w := range works {
		sortEvents(w.events)
		w.spans = pack(w.spans, w.events, s.lim)
		w.status = make([]uint8, len(w.events))
		w.inputs = make([]types.InputLogEvent, len(w.events))
		for i := range w.events {
			w.inputs[i] = types.InputLogEvent{Message: &w.events[i].msg, Timestamp: &w.events[i].ts}
		}
	}
	return works, pre
}

// run writes each stream's batches, streams in parallel up to the sink's
// concurrency, each stream's batches in order.
func (d *delivery) run(ctx context.Context, works []*streamWork) {
	var next atomic.Int64
	var g sink.Group
	for range min(d.s.concurrency, len(works)) {
		g.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(works) {
					return
				}
				d.stream(ctx, works[i])
			}
		})
	}
	g.Wait()
}

func (d *delivery) stream(ctx context.Context, w *streamWork) {
	if err := d.s.applyRetention(ctx, d, w.t.Group); err != nil {
		w.err = err
		return
	}
	for _, sp := range w.spans {
		if err := d.put(ctx, w, sp.start, sp.end); err != nil {
			// The later batches of this stream would most likely fail the
			// same way; their events stay unsent and FailedAt covers them.
			w.err = err
			return
		}
	}
}

// put writes w.events[lo:hi] in one PutLogEvents call, creating the group
// and stream when missing, retrying what is retryable until ctx ends, and
// bisecting an InvalidParameterException.
func (d *delivery) put(ctx context.Context, w *streamWork, lo, hi int) error {
	in := &cloudwatchlogs.PutLogEventsInput{
		LogGroupName:  &w.t.Group,
		LogStreamName: &w.t.Stream,
		LogEvents:     w.inputs[lo:hi],
	}
	notFound, attempt := 0, 0
	for {
		err := d.s.retry.Attempt(ctx, func(ctx context.Context) error {
			out, err := d.s.client.PutLogEvents(ctx, in, d.s.putOpts...)
			if err == nil {
				d.landed(w, lo, hi, out.RejectedLogEventsInfo)
			}
			return err
		})
		if err == nil {
			return nil
		}
		switch classify(ctx, err) {
		case kindNotFound:
			if notFound > 0 {
				// Created, yet still missing: give the service a moment.
				if berr := d.s.retry.Wait(ctx, notFound-1); berr != nil {
					return fmt.Errorf("put %d events to %s: %w (gave up: %w)", hi-lo, w.t, err, berr)
				}
			}
			notFound++
			if err := d.s.ensure(ctx, d, w.t); err != nil {
				return fmt.Errorf("put %d events to %s: %w", hi-lo, w.t, err)
			}
			continue
		case kindAccepted:
			d.landed(w, lo, hi, nil)
			return nil
		case kindInvalid:
			return d.bisectPut(ctx, w, lo, hi, err)
		case kindRetry:
			if berr := d.s.retry.Wait(ctx, attempt); berr != nil {
				return fmt.Errorf("put %d events to %s: %w (gave up: %w)", hi-lo, w.t, err, berr)
			}
			// Creating a missing stream and putting again is the normal first
			// use of a stream, not a retry; a retryable failure is.
			attempt++
			d.retries.Add(1)
			continue
		default:
			return fmt.Errorf("put %d events to %s: %w", hi-lo, w.t, err)
		}
	}
}

// bisectPut splits a batch the service refused as a whole, to quarantine
// only the events it refuses on their own.
func (d *delivery) bisectPut(ctx context.Context, w *streamWork, lo, hi int, cause error) error {
	if hi-lo == 1 {
		d.reject(w, lo, RejectedInvalidParameter, fmt.Sprintf("PutLogEvents refused the event alone into %s: %v", w.t, cause))
		return nil
	}
	if d.bisect.Add(2) > int64(d.s.bisectCalls) {
		return fmt.Errorf("put %d events to %s: %w (bisection budget of %d calls spent)", hi-lo, w.t, cause, d.s.bisectCalls)
	}
	mid := lo + (hi-lo)/2
	if err := d.put(ctx, w, lo, mid); err != nil {
		return err
	}
	return d.put(ctx, w, mid, hi)
}

// landed records the outcome of a successful call for w.events[lo:hi].
func (d *delivery) landed(w *streamWork, lo, hi int, info *types.RejectedLogEventsInfo) {
	rj := readRejected(info, hi-lo)
	for i := lo; i < hi; i++ {
		if why := rj.reason(i - lo); why != "" {
			d.reject(w, i, why, fmt.Sprintf("PutLogEvents rejected the event as %s (rejectedLogEventsInfo %s of a %d-event batch, event %d) into %s", why, rj, hi-lo, i-lo, w.t))
			continue
		}
		w.status[i] = statusDelivered
	}
}

func (d *delivery) reject(w *streamWork, i int, key, reason string) {
	w.status[i] = statusRejected
	d.mu.Lock()
	d.rejects = append(d.rejects, candidate{rec: w.events[i].rec, idx: w.events[i].idx, kind: key, reason: reason})
	d.mu.Unlock()
}

// rejection is a decoded rejectedLogEventsInfo for a batch of n events.
type rejection struct {
	n                      int
	tooOldEnd, expiredEnd  int // exclusive ends; 0 when absent
	tooNewStart            int // inclusive start; n when absent
	hasOld, hasExp, hasNew bool
	rawOld, rawExp, rawNew int32
}

// readRejected decodes info for a batch of n events, clamping indexes the
// service should never send out of range.
func readRejected(info *types.RejectedLogEventsInfo, n int) rejection {
	r := rejection{n: n, tooNewStart: n}
	if info == nil {
		return r
	}
	clamp := func(v int32) int { return max(0, min(n, int(v))) }
	if info.TooOldLogEventEndIndex != nil {
		r.hasOld, r.rawOld, r.tooOldEnd = true, *info.TooOldLogEventEndIndex, clamp(*info.TooOldLogEventEndIndex)
	}
	if info.ExpiredLogEventEndIndex != nil {
		r.hasExp, r.rawExp, r.expiredEnd = true, *info.ExpiredLogEventEndIndex, clamp(*info.ExpiredLogEventEndIndex)
	}
	if info.TooNewLogEventStartIndex != nil {
		r.hasNew, r.rawNew, r.tooNewStart = true, *info.TooNewLogEventStartIndex, clamp(*info.TooNewLogEventStartIndex)
	}
	return r
}

// reason says why event i of the batch was rejected, or "" if it landed.
// An event both too old and expired counts as too old.
func (r rejection) reason(i int) string {
	switch {
	case i < r.tooOldEnd:
		return RejectedTooOld
	case i < r.expiredEnd:
		return RejectedExpired
	case i >= r.tooNewStart:
		return RejectedTooNew
	}
	return ""
}

func (r rejection) String() string {
	s := "{"
	add := func(name string, v int32) {
		if len(s) > 1 {
			s += ","
		}
		s += name + ":" + strconv.Itoa(int(v))
	}
	if r.hasOld {
		add("tooOldLogEventEndIndex", r.rawOld)
	}
	if r.hasExp {
		add("expiredLogEventEndIndex", r.rawExp)
	}
	if r.hasNew {
		add("tooNewLogEventStartIndex", r.rawNew)
	}
	return s + "}"
}

// String formats a target as group:stream for errors.
func (t Target) String() string { return t.Group + ":" + t.Stream }

// errKind is how the sink reacts to an error from the service.
type errKind int

const (
	kindFatal    errKind = iota // give up on this call: FailedAt covers its events
	kindRetry                   // back off and call again
	kindNotFound                // create the group and stream, then call again
	kindExists                  // the resource exists: success for a create
	kindInvalid                 // the request was refused as invalid: bisect a batch
	kindAccepted                // the batch was accepted before (legacy sequence-token API)
	kindCanceled                // ctx ended
)

func classify(ctx context.Context, err error) errKind {
	if ctx.Err() != nil {
		return kindCanceled
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			return kindNotFound
		case "ResourceAlreadyExistsException":
			return kindExists
		case "InvalidParameterException":
			return kindInvalid
		case "DataAlreadyAcceptedException":
			return kindAccepted
		}
	}
	if retry.Retryable(ctx, err) {
		return kindRetry
	}
	return kindFatal
}

// call runs a control-plane call, retrying what is retryable until ctx ends.
func (s *Sink) call(ctx context.Context, d *delivery, fn func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			d.retries.Add(1)
		}
		err := s.retry.Attempt(ctx, fn)
		if err == nil || classify(ctx, err) != kindRetry {
			return err
		}
		if berr := s.retry.Wait(ctx, attempt); berr != nil {
			return fmt.Errorf("%w (gave up: %w)", err, berr)
		}
	}
}

// groupState is what the sink knows about one target group. Its mutex
// makes creating the group and setting its retention happen once, however
// many streams of the group find it missing at the same time.
type groupState struct {
	mu               sync.Mutex
	known            bool // exists (created, or found existing)
	retentionPending bool // created by this sink, retention not set yet
}

// group returns the state of a group, creating it (unknown) if needed.
func (s *Sink) group(name string) *groupState {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[name]
	if g == nil {
		if len(s.groups) >= DefaultKnownGroups {
			// Forgetting a known group costs at most one CreateLogGroup
			// (ResourceAlreadyExists) later; a pending retention is kept.
			for k, v := range s.groups {
				if v.mu.TryLock() {
					if !v.retentionPending {
						delete(s.groups, k)
					}
					v.mu.Unlock()
				}
			}
		}
		g = &groupState{}
		s.groups[name] = g
	}
	return g
}

// ensure creates t's group (with retention, if the sink created it) and
// stream; either existing already counts as success.
func (s *Sink) ensure(ctx context.Context, d *delivery, t Target) error {
	if err := s.ensureGroup(ctx, d, t.Group, false); err != nil {
		return err
	}
	err := s.createStream(ctx, d, t)
	if err == nil || classify(ctx, err) != kindNotFound {
		return err
	}
	// The group went missing (deleted since the sink saw it): create it again.
	if err := s.ensureGroup(ctx, d, t.Group, true); err != nil {
		return err
	}
	return s.createStream(ctx, d, t)
}

// ensureGroup creates the group unless known to exist (recreate: known to
// be gone) and sets the retention of a group this sink created.
func (s *Sink) ensureGroup(ctx context.Context, d *delivery, name string, recreate bool) error {
	g := s.group(name)
	g.mu.Lock()
	defer g.mu.Unlock()
	if recreate {
		g.known = false
	}
	if !g.known {
		err := s.call(ctx, d, func(ctx context.Context) error {
			_, err := s.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &name})
			return err
		})
		switch {
		case err == nil:
			g.known, g.retentionPending = true, s.retention > 0
		case classify(ctx, err) == kindExists:
			g.known = true
		default:
			return fmt.Errorf("create log group %s: %w", name, err)
		}
	}
	return s.retain(ctx, d, name, g)
}

// applyRetention sets the retention of a group this sink created earlier
// if a previous attempt failed; it costs one map lookup otherwise.
func (s *Sink) applyRetention(ctx context.Context, d *delivery, name string) error {
	s.mu.Lock()
	g := s.groups[name]
	s.mu.Unlock()
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return s.retain(ctx, d, name, g)
}

// retain sets a pending retention; g.mu is held. A failure keeps it pending
// (and the stream's events unsent), so while this sink lives no event is
// written to a group it created before the group has its retention.
func (s *Sink) retain(ctx context.Context, d *delivery, name string, g *groupState) error {
	if !g.retentionPending {
		return nil
	}
	days := s.retention
	err := s.call(ctx, d, func(ctx context.Context) error {
		_, err := s.client.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &name, RetentionInDays: &days})
		return err
	})
	if err != nil {
		return fmt.Errorf("set %d-day retention on log group %s: %w", days, name, err)
	}
	g.retentionPending = false
	return nil
}

func (s *Sink) createStream(ctx context.Context, d *delivery, t Target) error {
	err := s.call(ctx, d, func(ctx context.Context) error {
		_, err := s.client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &t.Group, LogStreamName: &t.Stream})
		return err
	})
	if err == nil || classify(ctx, err) == kindExists {
		return nil
	}
	return fmt.Errorf("create log stream %s: %w", t, err)
}
