package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/logfan/logfan/shared/subscription"
)

// Writer writes aggregates to the table; package dynamohealth implements
// it on DynamoDB (UpdateItem: ADD for the counters, a conditional SET that
// only raises the last-seen time).
type Writer interface {
	// WriteSender adds u's heartbeats to its sender item and raises the item's last heartbeat to u's.
	WriteSender(ctx context.Context, u SenderUpdate) error
	// WriteLogGroup adds u's events and bytes to its log-group item and raises the item's last event to u's.
	WriteLogGroup(ctx context.Context, u LogGroupUpdate) error
}

// SenderUpdate is what one write adds to a sender item.
type SenderUpdate struct {
	Account, Region string
	// LastHeartbeat is the latest heartbeat's time, in ms since the epoch.
	LastHeartbeat int64
	// Heartbeats counts the heartbeat events since the item's last write by this instance.
	Heartbeats int64
}

// LogGroupUpdate is what one write adds to a log-group item.
type LogGroupUpdate struct {
	Account, Region, LogGroup, Day string
	// LastEvent is the latest event's time in ms since the epoch (0: none known).
	LastEvent int64
	// Events and Bytes (of the events' messages) since the item's last write by this instance.
	Events, Bytes int64
}

// Defaults of RecorderOptions.
const (
	// DefaultSenderInterval: a sender item is written at most once a minute
	// per instance. Heartbeats come every 5 minutes, so in practice each
	// one is written when the invocation that carried it ends.
	DefaultSenderInterval = time.Minute
	// DefaultLogGroupInterval: a log-group item is written when the
	// instance first sees the log group on a day, then at most once an hour.
	// The hour is what keeps 100 senders x 50 busy log groups under $5 a
	// month (docs/operate.md, "Sender health"); the watchdog needs only "sent today".
	DefaultLogGroupInterval = time.Hour
	// DefaultMaxWritesPerFlush bounds the writes at the end of one
	// invocation: after midnight every log group is new, and the writes
	// spread over the next invocations instead of delaying one.
	DefaultMaxWritesPerFlush = 200
	// DefaultWriters is how many writes one flush makes at once.
	DefaultWriters = 8
	// DefaultMaxKeys bounds the log-group keys one instance tracks (about
	// 200 bytes each): a sender creating log groups without end cannot
	// exhaust the function's memory.
	DefaultMaxKeys = 100_000
	// DefaultBackoff: after a failed write, the instance writes nothing for
	// a minute (the aggregates wait, merged, in memory), so a broken table
	// costs one failed attempt a minute, not one per invocation and key.
	DefaultBackoff = time.Minute
)

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	// HeartbeatLogGroups name the heartbeat log groups (exact names).
	HeartbeatLogGroups []string
	// Writer, if set, receives the aggregates; nil recognises heartbeats and records nothing.
	Writer Writer
	// SenderInterval, LogGroupInterval, MaxWritesPerFlush, Writers, MaxKeys
	// and Backoff default to the Default* constants when zero.
	SenderInterval, LogGroupInterval time.Duration
	MaxWritesPerFlush, Writers       int
	MaxKeys                          int
	Backoff                          time.Duration
}

// Recorder aggregates sender health in memory, per record, and writes each
// key at most once per interval (Flush, at the end of an invocation).
//
// What is not yet written when the instance ends is lost unless Close
// runs: Lambda freezes an idle instance and may later end it with SIGTERM
// (app.Main flushes then) or, on a crash or timeout, without notice. That
// loses at most a minute of heartbeats' counts (not their last-seen times:
// the next heartbeat rewrites it) and at most an hour of one log group's
// counts on that instance.
//
// A Recorder is safe for concurrent use (Close may run from a signal
// handler while an invocation flushes).
type Recorder struct {
	o  RecorderOptions
	hb matcher

	mu        sync.Mutex
	senders   map[senderKey]*senderEntry
	groups    map[groupKey]*groupEntry
	fresh     []*groupEntry // log-group keys never written, due at once
	nextDue   time.Time     // earliest due time of the other dirty log-group keys (zero: none)
	regions   []string      // interned region names
	day       string
	dayStart  time.Time
	dayEnd    time.Time
	pausedTo  time.Time
	untracked int
	cleaned   string // the day of the last scan
}

type senderKey struct{ account, region string }
type groupKey struct{ account, region, logGroup, day string }

// agg is one key's aggregate since its last write.
type agg struct {
	count, bytes int64
	last         int64 // ms; 0 = none
	dirty        bool  // something to write
	inflight     bool  // a write of this key is running
	queued       bool  // in Recorder.fresh
	written      time.Time
}

func (a *agg) add(count, bytes, last int64) {
	a.count += count
	a.bytes += bytes
	a.last = max(a.last, last)
}

type senderEntry struct {
	key senderKey
	agg
}

type groupEntry struct {
	key groupKey
	agg
}

// NewRecorder returns a Recorder.
func NewRecorder(o RecorderOptions) *Recorder {
	if o.SenderInterval <= 0 {
		o.SenderInterval = DefaultSenderInterval
	}
	if o.LogGroupInterval <= 0 {
		o.LogGroupInterval = DefaultLogGroupInterval
	}
	if o.MaxWritesPerFlush <= 0 {
		o.MaxWritesPerFlush = DefaultMaxWritesPerFlush
	}
	if o.Writers <= 0 {
		o.Writers = DefaultWriters
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	return &Recorder{
		o: o, hb: matcher(o.HeartbeatLogGroups),
		senders: map[senderKey]*senderEntry{}, groups: map[groupKey]*groupEntry{},
	}
}

// IsHeartbeat reports whether logGroup is a heartbeat log group, whose
// events are counted as heartbeats and delivered to no sink.
func (r *Recorder) IsHeartbeat(logGroup string) bool { return r.hb.match(logGroup) }

// Heartbeat records a heartbeat record: for its payload's owner and the
// region CloudWatch Logs reported (else ""), at its latest event's time but
// never later than now. A record without events records nothing.
func (r *Recorder) Heartbeat(m *subscription.Message, now time.Time) {
	if r.o.Writer == nil || len(m.LogEvents) == 0 {
		return
	}
	last := int64(0)
	for i := range m.LogEvents {
		last = max(last, m.LogEvents[i].Timestamp)
	}
	last = min(last, now.UnixMilli())
	r.mu.Lock()
	defer r.mu.Unlock()
	k := senderKey{m.Owner, r.region(m)}
	e := r.senders[k]
	if e == nil {
		if len(r.senders) >= r.o.MaxKeys {
			r.untracked++
			return
		}
		k.account = strings.Clone(k.account)
		e = &senderEntry{key: k}
		r.senders[k] = e
	}
	e.add(int64(len(m.LogEvents)), 0, last)
	e.dirty = true
}

// Traffic records one record of a log group other than the heartbeat's:
// its events, their messages' bytes and its latest event time (ms), for
// the payload's owner, CloudWatch Logs' region (else "") and now's UTC day.
func (r *Recorder) Traffic(m *subscription.Message, events int, bytes, lastEvent int64, now time.Time) {
	if r.o.Writer == nil {
		return
	}
	lastEvent = min(lastEvent, now.UnixMilli())
	r.mu.Lock()
	defer r.mu.Unlock()
	// The key's strings point into the payload until the entry is created:
	// a lookup allocates nothing, and a new entry copies them so that the
	// map does not keep whole payloads alive.
	k := groupKey{m.Owner, r.region(m), m.LogGroup, r.dayOf(now)}
	e := r.groups[k]
	if e == nil {
		if len(r.groups) >= r.o.MaxKeys {
			r.untracked++
			return
		}
		k.account, k.logGroup = strings.Clone(k.account), strings.Clone(k.logGroup)
		e = &groupEntry{key: k}
		r.groups[k] = e
	}
	e.add(int64(events), bytes, max(lastEvent, 0))
	r.markGroupDirty(e)
}

func (r *Recorder) markGroupDirty(e *groupEntry) {
	if e.dirty {
		return
	}
	e.dirty = true
	if e.inflight {
		return // settled when its write returns
	}
	if e.written.IsZero() {
		if !e.queued {
			e.queued = true
			r.fresh = append(r.fresh, e)
		}
		return
	}
	if due := e.written.Add(r.o.LogGroupInterval); r.nextDue.IsZero() || due.Before(r.nextDue) {
		r.nextDue = due
	}
}

// region interns the record's region: a handful of names, compared
// without allocating.
func (r *Recorder) region(m *subscription.Message) string {
	b := RegionOf(m)
	if b == "" {
		return ""
	}
	for _, s := range r.regions {
		if b == s {
			return s
		}
	}
	s := strings.Clone(b) // not the payload's memory
	if len(r.regions) < 64 {
		r.regions = append(r.regions, s)
	}
	return s
}

// dayOf returns now's UTC day, formatted once per day.
func (r *Recorder) dayOf(now time.Time) string {
	if r.day == "" || now.Before(r.dayStart) || !now.Before(r.dayEnd) {
		u := now.UTC()
		r.dayStart = time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
		r.dayEnd = r.dayStart.AddDate(0, 0, 1)
		r.day = r.dayStart.Format(DayLayout)
	}
	return r.day
}

// FlushResult says what a flush did.
type FlushResult struct {
	// Writes counts the keys written (attempted), Failed those whose write failed.
	Writes, Failed int
}

// op is one key's write: the aggregate taken out of its entry (new
// records aggregate into the emptied entry meanwhile).
type op struct {
	s   *senderEntry
	g   *groupEntry
	su  SenderUpdate
	gu  LogGroupUpdate
	err error
}

func (e *senderEntry) take() op {
	o := op{s: e, su: SenderUpdate{Account: e.key.account, Region: e.key.region, LastHeartbeat: e.last, Heartbeats: e.count}}
	e.count, e.bytes, e.last = 0, 0, 0
	e.dirty, e.inflight = false, true
	return o
}

func (e *groupEntry) take() op {
	o := op{g: e, gu: LogGroupUpdate{Account: e.key.account, Region: e.key.region, LogGroup: e.key.logGroup, Day: e.key.day, LastEvent: e.last, Events: e.count, Bytes: e.bytes}}
	e.count, e.bytes, e.last = 0, 0, 0
	e.dirty, e.inflight = false, true
	return o
}

// settle ends o's write: the key counts as written at now, or its
// aggregate goes back into the entry to be written later.
func (r *Recorder) settle(o *op, now time.Time) {
	if o.s != nil {
		e := o.s
		e.inflight = false
		if o.err == nil {
			e.written = now
			return
		}
		e.add(o.su.Heartbeats, 0, o.su.LastHeartbeat)
		e.dirty = true
		return
	}
	e := o.g
	e.inflight = false
	if o.err == nil {
		e.written = now
		if !e.dirty && e.key.day != r.dayOf(now) {
			delete(r.groups, e.key) // a past day's last write
			return
		}
	} else {
		e.add(o.gu.Events, o.gu.Bytes, o.gu.LastEvent)
	}
	if o.err != nil || e.dirty {
		e.dirty = false
		r.markGroupDirty(e)
	}
}

// Flush writes the keys that are due at now: a sender key not written by
// this instance for SenderInterval, a log-group key never written or not
// for LogGroupInterval; at most MaxWritesPerFlush of them. After a failed
// write it writes nothing for Backoff. The error names what failed; the
// aggregates of failed writes stay in memory for the next flush.
func (r *Recorder) Flush(ctx context.Context, now time.Time) (FlushResult, error) {
	return r.flush(ctx, now, false)
}

// Close writes every key with something to write, due or not (at the
// instance's end), until ctx ends.
func (r *Recorder) Close(ctx context.Context, now time.Time) (FlushResult, error) {
	return r.flush(ctx, now, true)
}

func (r *Recorder) flush(ctx context.Context, now time.Time, all bool) (FlushResult, error) {
	if r.o.Writer == nil {
		return FlushResult{}, nil
	}
	r.mu.Lock()
	var ops []op
	if all || !now.Before(r.pausedTo) {
		ops = r.takeDue(now, all)
	}
	untracked := r.untracked
	r.untracked = 0
	r.mu.Unlock()

	r.write(ctx, ops)

	r.mu.Lock()
	defer r.mu.Unlock()
	res := FlushResult{Writes: len(ops)}
	var first error
	for i := range ops {
		o := &ops[i]
		if o.err != nil {
			res.Failed++
			if first == nil {
				first = o.err
			}
		}
		r.settle(o, now)
	}
	var errs []error
	if first != nil {
		r.pausedTo = now.Add(r.o.Backoff)
		errs = append(errs, fmt.Errorf("%d of %d sender-health writes failed (the counts wait in memory; no writes for %s): %w", res.Failed, res.Writes, r.o.Backoff, first))
	}
	if untracked > 0 {
		errs = append(errs, fmt.Errorf("%d records not counted: this instance already tracks %d keys (RecorderOptions.MaxKeys)", untracked, r.o.MaxKeys))
	}
	return res, errors.Join(errs...)
}

// takeDue picks the due keys and moves their aggregates into ops.
func (r *Recorder) takeDue(now time.Time, all bool) []op {
	limit := r.o.MaxWritesPerFlush
	if all {
		limit = len(r.senders) + len(r.groups)
	}
	var ops []op
	for _, e := range r.senders {
		if len(ops) == limit {
			break
		}
		if e.dirty && !e.inflight && (all || e.written.IsZero() || now.Sub(e.written) >= r.o.SenderInterval) {
			ops = append(ops, e.take())
		}
	}
	// Keys never written: due at once, oldest first.
	n := 0
	for n < len(r.fresh) && len(ops) < limit {
		e := r.fresh[n]
		n++
		e.queued = false
		if e.dirty && !e.inflight {
			ops = append(ops, e.take())
		}
	}
	r.fresh = append(r.fresh[:0], r.fresh[n:]...)
	today := r.dayOf(now)
	if !all && r.cleaned == today && (r.nextDue.IsZero() || now.Before(r.nextDue)) {
		return ops
	}
	// Scan for written keys that are due, and drop clean keys of past days
	// (at least once a day, so that old keys never crowd out new ones).
	r.cleaned = today
	r.nextDue = time.Time{}
	for k, e := range r.groups {
		if e.inflight || e.queued {
			continue
		}
		if !e.dirty {
			if k.day != today {
				delete(r.groups, k)
			}
			continue
		}
		due := e.written.Add(r.o.LogGroupInterval)
		if len(ops) < limit && (all || !now.Before(due)) {
			ops = append(ops, e.take())
			continue
		}
		if len(ops) == limit && !now.Before(due) {
			due = now // still due: the next flush scans again
		}
		if r.nextDue.IsZero() || due.Before(r.nextDue) {
			r.nextDue = due
		}
	}
	return ops
}

// write runs ops, Writers at a time, without the lock.
func (r *Recorder) write(ctx context.Context, ops []op) {
	if len(ops) == 0 {
		return
	}
	next := make(chan *op)
	var wg sync.WaitGroup
	for range min(r.o.Writers, len(ops)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range next {
				if o.s != nil {
					o.err = r.o.Writer.WriteSender(ctx, o.su)
				} else {
					o.err = r.o.Writer.WriteLogGroup(ctx, o.gu)
				}
			}
		}()
	}
	for i := range ops {
		next <- &ops[i]
	}
	close(next)
	wg.Wait()
}
