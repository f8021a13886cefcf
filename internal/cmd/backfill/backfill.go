// Package backfill brings a sender's history into the pipeline: it reads
// log groups' events with FilterLogEvents (the sender's credentials) and
// puts them into the recipient's stream as CloudWatch Logs subscription
// payloads, the same shape, gzip and size limits as live ones, so every
// sink, route, metric and the sender-health table take them as live data.
//
// What the subscription already delivered is left out: CloudWatch Logs
// delivers, from a subscription filter's creation on, the events it
// ingests; so by default backfill takes the events ingested before the
// filter existed (timestamps up to 2 h past it, the furthest ahead an
// event may be stamped), and never one ingested after it.
//
// A checkpoint file makes it resumable: per log group, the timestamp to
// read from and the IDs already put at and after it. FilterLogEvents
// returns events in timestamp order, so a run that stops is resumed from
// there without putting anything twice.
package backfill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/klauspost/compress/gzip"

	"github.com/logfan/logfan/internal/cli/progress"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/subscription"
)

// LogsAPI is the CloudWatch Logs calls backfill makes with the sender's
// credentials; *cloudwatchlogs.Client implements it.
type LogsAPI interface {
	DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	DescribeSubscriptionFilters(ctx context.Context, in *cloudwatchlogs.DescribeSubscriptionFiltersInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeSubscriptionFiltersOutput, error)
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// KinesisAPI is the call that writes the recipient's stream; *kinesis.Client implements it.
type KinesisAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// Limits of what goes into the stream. A Kinesis record holds at most 1
// MiB of data and partition key; a PutRecords call at most 500 records
// and 5 MiB. A record's JSON is kept under maxRecordJSON so that even
// incompressible text gzips under the record limit; a single event larger
// than that is encoded alone and put if its gzip fits.
const (
	MaxRecordBytes   = 1 << 20
	MaxCallRecords   = 500
	MaxCallBytes     = 5 << 20
	maxRecordJSON    = 1_000_000
	maxRecordEvents  = 10_000
	maxPartitionKey  = 256
	futureAllowance  = 2 * time.Hour       // CloudWatch Logs accepts events stamped up to 2 h ahead
	maxEventAge      = 14 * 24 * time.Hour // and up to 14 days back
	defaultMaxRPS    = 4
	defaultAttempts  = 10
	checkpointFormat = 1
)

// Options configure a backfill.
type Options struct {
	// Logs reads the sender's log groups.
	Logs LogsAPI
	// Kinesis writes the recipient's stream (through the backfill role, usually).
	Kinesis KinesisAPI
	// StreamARN is the recipient's stream.
	StreamARN string
	// Groups are log group names or route-table globs ('*', '**').
	Groups []string
	// Destination is the ARN the log groups' subscription filters send to;
	// empty accepts a filter to a destination named naming.Destination or to StreamARN itself.
	Destination string
	// Since is where the history starts (zero: 14 days before the log
	// group's creation, the oldest timestamp CloudWatch Logs accepts).
	Since time.Time
	// Until, if set, ends the history at that timestamp instead of the
	// subscription's start (events ingested after it are still left out).
	Until time.Time
	// Checkpoint is the checkpoint file's path.
	Checkpoint string
	// MaxRPS paces FilterLogEvents (default 4: its quota is 5 per second
	// per account and region, shared with everyone reading the account's logs).
	MaxRPS float64
	// Retry is the policy for every call (retry.Default() if zero).
	Retry retry.Policy
	// Attempts bounds the PutRecords rounds for records that keep failing (default 10).
	Attempts int
	// Progress receives the progress display (stderr); nil shows none.
	Progress io.Writer
	// Terminal forces the progress display's kind; nil asks Progress.
	Terminal *bool
	// PageLimit caps the events per FilterLogEvents page (0: the service's
	// default, as many as fit 1 MB up to 10,000; tests make it small).
	PageLimit int32
	// AfterPut, if set, is called after each PutRecords call that put
	// something (tests interrupt runs with it).
	AfterPut func(group string, events int)
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// GroupReport counts one log group's backfill.
type GroupReport struct {
	// LogGroup is the group's name; Owner its account.
	LogGroup string `json:"logGroup"`
	Owner    string `json:"owner"`
	// Filter names the subscription filter whose start bounds the history ("" without one).
	Filter string `json:"filter,omitempty"`
	// SubscribedAt is that filter's creation time.
	SubscribedAt *time.Time `json:"subscribedAt,omitempty"`
	// Since and Until bound the timestamps read.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Read counts the events read in the window this run; Live those left
	// out because the subscription delivered them; AlreadyPut those an
	// earlier run put (per the checkpoint); Put those put now, in Records records.
	Read       int   `json:"read"`
	Live       int   `json:"live"`
	AlreadyPut int   `json:"alreadyPut"`
	Put        int   `json:"put"`
	Records    int   `json:"records"`
	Bytes      int64 `json:"bytes"`
	// TooLarge lists events whose payload cannot fit a Kinesis record.
	TooLarge []string `json:"tooLarge,omitempty"`
	// Done says the whole window was read and put (now or earlier).
	Done bool `json:"done"`
	// Err says why the group stopped.
	Err string `json:"error,omitempty"`
}

// Report says what a backfill did.
type Report struct {
	Stream      string        `json:"stream"`
	Groups      []GroupReport `json:"groups"`
	Calls       int           `json:"filterCalls"`
	Interrupted bool          `json:"interrupted,omitempty"`
	Seconds     float64       `json:"seconds"`
}

// Problem returns nil when every group's window was put entirely, and otherwise what was not.
func (r *Report) Problem() error {
	var errs []error
	if r.Interrupted {
		errs = append(errs, errors.New("interrupted: run the same command again to continue from the checkpoint"))
	}
	for _, g := range r.Groups {
		switch {
		case g.Err != "":
			errs = append(errs, fmt.Errorf("%s: %s", g.LogGroup, g.Err))
		case !g.Done && !r.Interrupted:
			errs = append(errs, fmt.Errorf("%s: not finished", g.LogGroup))
		}
		if len(g.TooLarge) > 0 {
			errs = append(errs, fmt.Errorf("%s: %d events too large for a Kinesis record (IDs %s): read them with aws logs get-log-events", g.LogGroup, len(g.TooLarge), strings.Join(g.TooLarge, ", ")))
		}
	}
	return errors.Join(errs...)
}

// ErrCheckpointMismatch means the checkpoint file was written for another window or stream.
var ErrCheckpointMismatch = errors.New("checkpoint written for another backfill")

// Run performs the backfill, group after group.
func (o Options) Run(ctx context.Context) (*Report, error) {
	if o.Logs == nil || o.Kinesis == nil || o.StreamARN == "" || len(o.Groups) == 0 || o.Checkpoint == "" {
		return nil, errors.New("backfill: Logs, Kinesis, StreamARN, Groups and Checkpoint are required")
	}
	if o.MaxRPS <= 0 {
		o.MaxRPS = defaultMaxRPS
	}
	if o.Attempts <= 0 {
		o.Attempts = defaultAttempts
	}
	if o.Retry.BackoffBase == 0 && o.Retry.Sleep == nil {
		o.Retry = retry.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	start := o.Now()
	cp, err := loadCheckpoint(o.Checkpoint, o.StreamARN)
	if err != nil {
		return nil, err
	}
	b := &run{o: o, cp: cp, pace: &pacer{every: time.Duration(float64(time.Second) / o.MaxRPS)}}
	groups, err := b.groups(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Stream: o.StreamARN}
	var plans []*plan
	var total int64
	for _, g := range groups {
		p, err := b.plan(ctx, g)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
		total += p.until - p.since
	}
	if o.Progress != nil {
		b.bar = progress.Start(o.Progress, progress.Options{Label: "backfill", Unit: "log groups", Total: total, Items: int64(len(plans)), Terminal: o.Terminal, Now: o.Now})
	}
	for _, p := range plans {
		if ctx.Err() != nil {
			break
		}
		gr := b.group(ctx, p)
		rep.Groups = append(rep.Groups, gr)
		if b.bar != nil {
			b.bar.Add(0, 1, 0, 0)
		}
		if gr.Err != "" && ctx.Err() == nil && b.streamBroken {
			break // the stream refuses writes: every other group would fail the same way
		}
	}
	if b.bar != nil {
		b.bar.Stop()
	}
	rep.Calls = b.calls
	rep.Interrupted = ctx.Err() != nil
	rep.Seconds = o.Now().Sub(start).Seconds()
	return rep, nil
}

// run is one backfill's state.
type run struct {
	o            Options
	cp           *checkpoint
	pace         *pacer
	bar          *progress.Reporter
	calls        int
	streamBroken bool
}

// logGroup is a group to backfill.
type logGroup struct {
	name    string
	owner   string
	created int64
}

// groups resolves the names and globs to existing log groups, in order, without repeats.
func (b *run) groups(ctx context.Context) ([]logGroup, error) {
	var out []logGroup
	seen := map[string]bool{}
	for _, g := range b.o.Groups {
		pat, err := routes.CompileLogGroupPattern(g)
		if err != nil {
			return nil, err
		}
		prefix, _, _ := strings.Cut(g, "*")
		name, literal := pat.Literal()
		found := false
		p := cloudwatchlogs.NewDescribeLogGroupsPaginator(b.o.Logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(prefix)})
		for p.HasMorePages() {
			var page *cloudwatchlogs.DescribeLogGroupsOutput
			if _, err := b.o.Retry.Do(ctx, func(ctx context.Context) error {
				var err error
				page, err = p.NextPage(ctx)
				return err
			}); err != nil {
				return nil, fmt.Errorf("describe log groups %q: %w", prefix, err)
			}
			for _, lg := range page.LogGroups {
				n := aws.ToString(lg.LogGroupName)
				if (literal && n != name) || (!literal && !pat.Match(n)) || seen[n] {
					continue
				}
				seen[n], found = true, true
				out = append(out, logGroup{name: n, owner: ownerOf(aws.ToString(lg.Arn)), created: aws.ToInt64(lg.CreationTime)})
			}
			if literal && found {
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("no log group %s in this account and region: check -log-group and -region", g)
		}
	}
	return out, nil
}

// ownerOf is the account of a log group ARN.
func ownerOf(a string) string {
	p, err := arn.Parse(strings.TrimSuffix(a, ":*"))
	if err != nil {
		return ""
	}
	return p.AccountID
}

// plan is one group's window and subscription.
type plan struct {
	g            logGroup
	filter       string
	cut          int64 // the filter's creation (ms); 0 without one
	since, until int64 // timestamps [since, until)
	state        *groupState
}

// plan finds the group's subscription filter and fixes its window.
func (b *run) plan(ctx context.Context, g logGroup) (*plan, error) {
	var out *cloudwatchlogs.DescribeSubscriptionFiltersOutput
	if _, err := b.o.Retry.Do(ctx, func(ctx context.Context) error {
		var err error
		out, err = b.o.Logs.DescribeSubscriptionFilters(ctx, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(g.name)})
		return err
	}); err != nil {
		return nil, fmt.Errorf("describe the subscription filters of %s: %w", g.name, err)
	}
	p := &plan{g: g}
	var others []string
	for _, f := range out.SubscriptionFilters {
		if b.ours(aws.ToString(f.DestinationArn)) {
			p.filter, p.cut = aws.ToString(f.FilterName), aws.ToInt64(f.CreationTime)
			break
		}
		others = append(others, aws.ToString(f.DestinationArn))
	}
	// PutLogEvents refuses events more than 14 days older than their
	// ingestion, so none is older than the group's creation less that.
	p.since = g.created - maxEventAge.Milliseconds()
	if !b.o.Since.IsZero() {
		p.since = b.o.Since.UnixMilli()
	}
	switch {
	case !b.o.Until.IsZero():
		p.until = b.o.Until.UnixMilli()
	case p.cut > 0:
		p.until = p.cut + futureAllowance.Milliseconds()
	default:
		what := "no subscription filter"
		if len(others) > 0 {
			what = "no subscription filter to the destination (its filters send to " + strings.Join(others, ", ") + ")"
		}
		return nil, fmt.Errorf("%s has %s, so its history has no end: subscribe it first (logfan onboard prints how), or give -until (and -destination if it sends elsewhere)", g.name, what)
	}
	if p.since >= p.until {
		return nil, fmt.Errorf("%s: the history to read is empty (since %s, until %s)", g.name, time.UnixMilli(p.since).UTC().Format(time.RFC3339), time.UnixMilli(p.until).UTC().Format(time.RFC3339))
	}
	st, err := b.cp.state(g.name, p.since, p.until, p.cut)
	if err != nil {
		return nil, err
	}
	p.state = st
	return p, nil
}

// ours reports whether a filter's destination is the recipient's.
func (b *run) ours(dest string) bool {
	if b.o.Destination != "" {
		return dest == b.o.Destination
	}
	return dest == b.o.StreamARN || strings.HasSuffix(dest, ":destination:"+naming.Destination)
}

// event is one event read, kept until its record is put.
type event struct {
	stream string
	ev     subscription.LogEvent
}

// group backfills one log group, page by page from its checkpoint: each
// page's events put, then the checkpoint advanced past them and saved.
func (b *run) group(ctx context.Context, p *plan) GroupReport {
	st := p.state
	gr := newGroupReport(p)
	if st.Done {
		gr.Done = true
		if b.bar != nil {
			b.bar.Add(p.until-p.since, 0, 0, 0)
		}
		return gr
	}
	skip := map[string]bool{}
	for _, id := range st.Skip {
		skip[id] = true
	}
	filters := []string{p.filter}
	if p.filter == "" {
		filters = []string{naming.SubscriptionFilter}
	}
	reported := st.From
	base := *st // the counts of earlier runs
	// One query for the whole run: a NextToken goes with the request it came from.
	queryFrom := st.From
	var token *string
	for {
		out, err := b.readPage(ctx, p, queryFrom, token)
		if err != nil {
			gr.Err = fmt.Sprintf("read events: %v", err)
			b.save(st, &base, &gr)
			return gr
		}
		page, last := pageEvents(p, out, skip, st.From, &gr)
		put, err := b.put(ctx, p, filters, page, &gr)
		if err != nil {
			// What this page put is recorded, so the next run leaves it out.
			st.Skip = append(st.Skip, put...)
			gr.Err = err.Error()
			b.save(st, &base, &gr)
			return gr
		}
		advance(st, skip, out, last)
		if b.bar != nil && st.From > reported {
			b.bar.Add(st.From-reported, 0, 0, 0)
			reported = st.From
		}
		token = out.NextToken
		if token == nil {
			st.Done = true
			gr.Done = true
			b.save(st, &base, &gr)
			if b.bar != nil {
				b.bar.Add(p.until-reported, 0, 0, 0)
			}
			return gr
		}
		b.save(st, &base, &gr)
		if ctx.Err() != nil {
			return gr
		}
	}
}

// newGroupReport starts the report of p's group with its window, its
// subscription's start and what earlier runs put.
func newGroupReport(p *plan) GroupReport {
	gr := GroupReport{LogGroup: p.g.name, Owner: p.g.owner, Filter: p.filter, Since: time.UnixMilli(p.since).UTC(), Until: time.UnixMilli(p.until).UTC(), AlreadyPut: p.state.Put}
	if p.cut > 0 {
		t := time.UnixMilli(p.cut).UTC()
		gr.SubscribedAt = &t
	}
	return gr
}

// readPage reads the page of p's group's events token names, of the query
// from queryFrom to the end of the window, paced and retried.
func (b *run) readPage(ctx context.Context, p *plan, queryFrom int64, token *string) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(p.g.name), StartTime: aws.Int64(queryFrom), EndTime: aws.Int64(p.until - 1), NextToken: token}
	if b.o.PageLimit > 0 {
		in.Limit = aws.Int32(b.o.PageLimit)
	}
	// Deprecated (SA1019) but set on purpose: AWS ignores it (results
	// always interleave, in timestamp order); moto sorts by timestamp only when it is set.
	in.Interleaved = aws.Bool(true) //nolint:staticcheck // see above

	var out *cloudwatchlogs.FilterLogEventsOutput
	_, err := b.o.Retry.Do(ctx, func(ctx context.Context) error {
		if err := b.pace.wait(ctx); err != nil {
			return err
		}
		b.calls++
		var err error
		out, err = b.o.Logs.FilterLogEvents(ctx, in)
		return err
	})
	return out, err
}

// pageEvents returns the page's events to put (neither skipped nor
// ingested after the subscription started, which it sent live), counting
// them in gr, and the page's latest timestamp (from at least).
func pageEvents(p *plan, out *cloudwatchlogs.FilterLogEventsOutput, skip map[string]bool, from int64, gr *GroupReport) (page []event, last int64) {
	last = from
	for _, e := range out.Events {
		id, ts := aws.ToString(e.EventId), aws.ToInt64(e.Timestamp)
		if skip[id] {
			continue // an earlier run, or an earlier page at the same timestamp, had it
		}
		gr.Read++
		last = max(last, ts)
		if p.cut > 0 && aws.ToInt64(e.IngestionTime) >= p.cut {
			gr.Live++
			continue
		}
		page = append(page, event{stream: aws.ToString(e.LogStreamName), ev: subscription.LogEvent{ID: id, Timestamp: ts, Message: aws.ToString(e.Message)}})
	}
	return page, last
}

// advance moves the checkpoint past a page that is in: the next run may
// start at its last timestamp, leaving out the events it read there.
func advance(st *groupState, skip map[string]bool, out *cloudwatchlogs.FilterLogEventsOutput, last int64) {
	if last > st.From {
		st.From, st.Skip = last, nil
		clear(skip)
	}
	for _, e := range out.Events {
		if id := aws.ToString(e.EventId); aws.ToInt64(e.Timestamp) == st.From && !skip[id] {
			st.Skip = append(st.Skip, id)
			skip[id] = true
		}
	}
}

// save writes the checkpoint; a failure to write it is the group's error
// (the next run would otherwise put again what this one put).
func (b *run) save(st, base *groupState, gr *GroupReport) {
	st.Put, st.Read, st.Live = base.Put+gr.Put, base.Read+gr.Read, base.Live+gr.Live
	if err := b.cp.save(); err != nil && gr.Err == "" {
		gr.Err = err.Error()
	}
}

// put encodes a page's events as subscription records, one log stream's
// events per record in timestamp order, and puts them. It returns the IDs
// of the events it put, and an error when some were not.
func (b *run) put(ctx context.Context, p *plan, filters []string, page []event, gr *GroupReport) ([]string, error) {
	if len(page) == 0 {
		return nil, nil
	}
	byStream := map[string][]subscription.LogEvent{}
	var streams []string
	for _, e := range page {
		if _, ok := byStream[e.stream]; !ok {
			streams = append(streams, e.stream)
		}
		byStream[e.stream] = append(byStream[e.stream], e.ev)
	}
	var recs []kinRecord
	for _, s := range streams {
		m := &subscription.Message{MessageType: subscription.DataMessage, Owner: p.g.owner, LogGroup: p.g.name, LogStream: s, SubscriptionFilters: filters, LogEvents: byStream[s]}
		rs, tooLarge, err := encode(m)
		if err != nil {
			return nil, err
		}
		gr.TooLarge = append(gr.TooLarge, tooLarge...)
		recs = append(recs, rs...)
	}
	var putIDs []string
	for len(recs) > 0 {
		n, size := 0, 0
		for n < len(recs) && n < MaxCallRecords && (n == 0 || size+recs[n].size() <= MaxCallBytes) {
			size += recs[n].size()
			n++
		}
		ok, err := b.putCall(ctx, recs[:n])
		for _, r := range ok {
			putIDs = append(putIDs, r.ids...)
			gr.Put += len(r.ids)
			gr.Records++
			gr.Bytes += r.bytes
		}
		if b.bar != nil {
			var evs, by int64
			for _, r := range ok {
				evs += int64(len(r.ids))
				by += r.bytes
			}
			b.bar.Add(0, 0, evs, by)
		}
		if len(ok) > 0 && b.o.AfterPut != nil {
			b.o.AfterPut(p.g.name, len(ok))
		}
		if err != nil {
			return putIDs, err
		}
		recs = recs[n:]
	}
	return putIDs, nil
}

// kinRecord is one Kinesis record to put.
type kinRecord struct {
	key   string
	data  []byte
	ids   []string
	bytes int64 // log message bytes
}

func (r kinRecord) size() int { return len(r.data) + len(r.key) }

// encode builds m's records: all of m when its JSON fits maxRecordJSON and
// maxRecordEvents, halves of it otherwise. A single event whose gzip cannot
// fit a record is returned by ID in tooLarge.
func encode(m *subscription.Message) (recs []kinRecord, tooLarge []string, err error) {
	j, err := subscription.AppendJSON(nil, m)
	if err != nil {
		return nil, nil, fmt.Errorf("encode a record of %s: %w", m.LogStream, err)
	}
	if len(m.LogEvents) > 1 && (len(j) > maxRecordJSON || len(m.LogEvents) > maxRecordEvents) {
		half := len(m.LogEvents) / 2
		a, b := *m, *m
		a.LogEvents, b.LogEvents = m.LogEvents[:half], m.LogEvents[half:]
		ra, ta, err := encode(&a)
		if err != nil {
			return nil, nil, err
		}
		rb, tb, err := encode(&b)
		if err != nil {
			return nil, nil, err
		}
		return append(ra, rb...), append(ta, tb...), nil
	}
	r := kinRecord{key: partitionKey(m.LogGroup, m.LogStream), data: compress(j)}
	for _, e := range m.LogEvents {
		r.ids = append(r.ids, e.ID)
		r.bytes += int64(len(e.Message))
	}
	if r.size() > MaxRecordBytes {
		return nil, r.ids, nil
	}
	return []kinRecord{r}, nil, nil
}

// compress gzips a payload as CloudWatch Logs does (its level is not
// documented; any level is the same format to the decoder). klauspost's
// default level, not subscription.Compress's stdlib best compression:
// that took 4.4 s on a 1 MiB event of random bytes (a base64 blob is
// close), this takes milliseconds at a similar ratio on log text.
func compress(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression) // a valid level cannot fail
	_, _ = zw.Write(b)                                          // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	return buf.Bytes()
}

// partitionKey spreads log streams over the shards and keeps one stream's
// records in order on one shard (Kinesis allows 256 characters).
func partitionKey(group, stream string) string {
	k := group + "/" + stream
	if len(k) <= maxPartitionKey {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// putCall puts recs with PutRecords, putting again, with backoff, the
// entries that failed (throttled or an internal failure) until they land
// or the attempts run out. It returns the records that landed.
func (b *run) putCall(ctx context.Context, recs []kinRecord) ([]kinRecord, error) {
	var landed []kinRecord
	pending := recs
	for round := 0; ; round++ {
		entries := make([]kintypes.PutRecordsRequestEntry, len(pending))
		for i, r := range pending {
			entries[i] = kintypes.PutRecordsRequestEntry{Data: r.data, PartitionKey: aws.String(r.key)}
		}
		var out *kinesis.PutRecordsOutput
		_, err := b.o.Retry.Do(ctx, func(ctx context.Context) error {
			var err error
			out, err = b.o.Kinesis.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: aws.String(b.o.StreamARN), Records: entries})
			return err
		})
		if err != nil {
			if !retry.Retryable(context.Background(), err) {
				b.streamBroken = true
			}
			return landed, fmt.Errorf("put %d records into %s: %w", len(pending), b.o.StreamARN, err)
		}
		var failed []kinRecord
		var why string
		for i, e := range out.Records {
			if i >= len(pending) {
				break
			}
			if e.ErrorCode != nil {
				failed = append(failed, pending[i])
				why = aws.ToString(e.ErrorCode) + ": " + aws.ToString(e.ErrorMessage)
				continue
			}
			landed = append(landed, pending[i])
		}
		if len(out.Records) < len(pending) {
			// A response shorter than the request is a service bug; put the rest again.
			failed = append(failed, pending[len(out.Records):]...)
			why = "response shorter than the request"
		}
		if len(failed) == 0 {
			return landed, nil
		}
		if round+1 >= b.o.Attempts {
			return landed, fmt.Errorf("put %d records into %s: still failing after %d attempts (%s)", len(failed), b.o.StreamARN, round+1, why)
		}
		if err := b.o.Retry.Wait(ctx, round); err != nil {
			return landed, fmt.Errorf("put %d records into %s: %s (gave up: %w)", len(failed), b.o.StreamARN, why, err)
		}
		pending = failed
	}
}

// pacer spaces calls at least every apart.
type pacer struct {
	every time.Duration
	mu    sync.Mutex
	next  time.Time
}

func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.every)
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		return retry.Sleep(ctx, d)
	}
	return nil
}

// checkpoint is the checkpoint file: per log group, where the next run starts.
type checkpoint struct {
	path string
	// Format, Stream and Groups are the file's content.
	Format int                    `json:"format"`
	Stream string                 `json:"stream"`
	Groups map[string]*groupState `json:"groups"`
}

// groupState is one log group's progress.
type groupState struct {
	// Since, Until and SubscribedAt fix the window the state is about.
	Since        int64 `json:"since"`
	Until        int64 `json:"until"`
	SubscribedAt int64 `json:"subscribedAt,omitempty"`
	// From is the timestamp the next read starts at; Skip the IDs of events
	// at or after it that were already read and put (or left to the subscription).
	From int64    `json:"from"`
	Skip []string `json:"skip,omitempty"`
	// Done says the window is finished.
	Done bool `json:"done"`
	// Read, Live and Put count the events of every run so far.
	Read int `json:"read"`
	Live int `json:"live"`
	Put  int `json:"put"`
}

func loadCheckpoint(path, stream string) (*checkpoint, error) {
	cp := &checkpoint{path: path, Format: checkpointFormat, Stream: stream, Groups: map[string]*groupState{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cp, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the checkpoint: %w", err)
	}
	if err := json.Unmarshal(b, cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s is not JSON (%v): delete it to start over (events already put would be put again)", path, err)
	}
	cp.path = path
	if cp.Stream != stream {
		return nil, fmt.Errorf("%w: %s is for stream %s, not %s: give another -checkpoint", ErrCheckpointMismatch, path, cp.Stream, stream)
	}
	if cp.Groups == nil {
		cp.Groups = map[string]*groupState{}
	}
	return cp, nil
}

// state returns a group's state for a window, new if the file has none.
func (c *checkpoint) state(group string, since, until, cut int64) (*groupState, error) {
	st, ok := c.Groups[group]
	if !ok {
		st = &groupState{Since: since, Until: until, SubscribedAt: cut, From: since}
		c.Groups[group] = st
		return st, nil
	}
	if st.Since != since || st.Until != until || st.SubscribedAt != cut {
		return nil, fmt.Errorf("%w: %s holds %s from %s to %s (subscribed at %s), this run asks for %s to %s (subscribed at %s): "+
			"run with the same -since and -until, or give another -checkpoint for a new window", ErrCheckpointMismatch, c.path, group,
			ms(st.Since), ms(st.Until), ms(st.SubscribedAt), ms(since), ms(until), ms(cut))
	}
	return st, nil
}

func ms(v int64) string {
	if v == 0 {
		return "-"
	}
	return time.UnixMilli(v).UTC().Format(time.RFC3339Nano)
}

// save writes the file atomically (a new file renamed over the old), so a
// run killed while saving leaves the previous checkpoint intact.
func (c *checkpoint) save() error {
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), filepath.Base(c.path)+".*")
	if err != nil {
		return fmt.Errorf("write the checkpoint: %w", err)
	}
	if _, err := io.Copy(tmp, bytes.NewReader(b)); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write the checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write the checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return fmt.Errorf("write the checkpoint: %w", err)
	}
	return nil
}
