package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/logfan/logfan/internal/devkit/localenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/subscription"
)

// keyMark starts the tag every demo message ends with: it names the run and
// the event's number, so reconciliation can match what landed in each sink
// (the logs sink keeps only message and timestamp) to what was sent, and
// ignore what earlier runs left on a reused emulator.
const keyMark = " logfan-demo:"

// eventKey is the tag of event n of run.
func eventKey(run string, n int) string { return keyMark + run + ":" + strconv.Itoa(n) }

// parseKey returns the run and event number a message is tagged with.
func parseKey(msg string) (run string, n int, ok bool) {
	i := strings.LastIndex(msg, keyMark)
	if i < 0 {
		return "", 0, false
	}
	run, num, ok := strings.Cut(msg[i+len(keyMark):], ":")
	if !ok {
		return "", 0, false
	}
	n, err := strconv.Atoi(num)
	return run, n, err == nil
}

// MaxEventsPerCall bounds the events of one PutLogEvents call the senders
// make; moto turns each call into one subscription record.
const MaxEventsPerCall = 100

// Sender is one demo sender account.
type Sender struct {
	Account string
	// Direct: the account's records are written into the stream as
	// CloudWatch Logs writes them. moto delivers a subscription only to a
	// stream of the sender's own account (it has no cross-account
	// destinations), so only the recipient's own account can send through
	// moto's CloudWatch Logs; the other demo accounts are written directly
	// (see WriteDirect).
	Direct bool
	// Region is where the account logs (Region if empty).
	Region string
	// Hub, if set, is the recipient's own account, whose log groups hold
	// this account's events once CloudWatch Logs centralization copied them
	// there: its records are the hub's payloads (owner Hub), each event
	// with the system fields naming Account and Region (HubSenders).
	Hub string
}

// region is where snd logs.
func (snd Sender) region() string {
	if snd.Region != "" {
		return snd.Region
	}
	return localenv.Region
}

// DemoSenders are the demo's senders: the emulator's account (through
// moto's subscription delivery) and DemoAccounts (written directly).
func DemoSenders(emulatorAccount string) []Sender {
	out := []Sender{{Account: emulatorAccount}}
	for _, a := range localenv.DemoAccounts {
		out = append(out, Sender{Account: a, Direct: true})
	}
	return out
}

// Sent is what the senders wrote.
type Sent struct {
	// Run tags every message of this run.
	Run string
	// Events counts the events CloudWatch Logs accepted (or the demo wrote directly).
	Events int
	// Calls counts PutLogEvents calls and direct records (one Kinesis record each).
	Calls int
	// Groups and Streams count where they went, over all accounts.
	Groups, Streams int
	// Accounts are the sender accounts, in order (the last one is stopped by Plan.StopLast).
	Accounts []string
	// Heartbeats counts the heartbeat events written.
	Heartbeats int
	// Sources lists where each PutLogEvents call wrote, in order: what
	// routing decides by (the routed demo computes each target's due from it).
	Sources []Source
	// Senders are the senders, in order.
	Senders []Sender
	// Origins is, in a hub run, each event's source: the account and
	// region its system fields name (several sources may share a record).
	Origins []Origin
}

// Origin is where one event of a hub run was logged.
type Origin struct{ Account, Region string }

// Source is one PutLogEvents call: events First to First+N-1 went to
// Owner's Group/Stream, logged in Region ("" when the payload does not say).
type Source struct {
	Owner, Group, Stream string
	Region               string
	First, N             int
}

// Plan is what the senders write.
type Plan struct {
	Groups  []localenv.SenderGroup
	Senders []Sender
	// Stream is the recipient stream's name (direct writes).
	Stream string
	Run    string
	Events int
	Seed   uint64
	// Window is the simulated time the events and heartbeats span, ending
	// when the senders start writing: the demo runs minutes of senders'
	// time in seconds (default SimulatedWindow).
	Window time.Duration
	// HeartbeatEvery is the senders' heartbeat interval in that time
	// (default config.DefaultHeartbeatMinutes).
	HeartbeatEvery time.Duration
	// StopLast stops the last sender halfway through Window: no data and no
	// heartbeat after it.
	StopLast bool
	// Progress is told the running total of events.
	Progress func(sent int)
}

// SimulatedWindow is the senders' time a demo run spans: long enough for
// a sender stopped halfway to be silent (config.DefaultSilentAfterMinutes)
// when the watchdog looks.
const SimulatedWindow = 40 * time.Minute

// WriteEvents writes p.Events events, tagged with p.Run, across the
// senders' groups and streams in PutLogEvents calls of 1 to
// MaxEventsPerCall events, and every sender's heartbeats. The messages
// come from eventgen (deterministic for a seed); timestamps spread over
// p.Window, so that heartbeats and data tell the same story.
func WriteEvents(ctx context.Context, c *localenv.Clients, p Plan) (*Sent, error) {
	if p.Window <= 0 {
		p.Window = SimulatedWindow
	}
	if p.HeartbeatEvery <= 0 {
		p.HeartbeatEvery = time.Duration(config.DefaultHeartbeatMinutes) * time.Minute
	}
	targets, streams := p.targets()
	if len(targets) == 0 {
		return nil, fmt.Errorf("no sender log streams")
	}
	w := newEventWriter(c, p, targets, streams)
	for i := 0; w.sent.Events < p.Events; i++ {
		if p.StopLast && !w.at(w.sent.Events).Before(w.stopAt) && len(w.active) == len(targets) {
			w.stopLast()
		}
		if err := w.beats(ctx, w.at(w.sent.Events)); err != nil {
			return w.sent, err
		}
		if err := w.writeCall(ctx, i); err != nil {
			return w.sent, err
		}
	}
	return w.sent, w.beats(ctx, w.end)
}

// writeTarget is one sender's log stream of one group.
type writeTarget struct {
	sender              Sender
	last                bool // of the last sender
	group, stream, kind string
}

// targets lists the senders' log streams in the order the calls write to
// them, and counts the distinct ones. Groups alternate fastest, then
// senders, then streams, so that even a short run writes to every group
// and, soon after, every sender.
func (p *Plan) targets() (targets []writeTarget, distinctStreams int) {
	streams := 0
	for _, g := range p.Groups {
		streams = max(streams, len(g.Streams))
	}
	distinct := map[string]bool{}
	for k := range streams {
		for i, snd := range p.Senders {
			for _, g := range p.Groups {
				if len(g.Streams) == 0 {
					continue
				}
				s := g.Streams[k%len(g.Streams)]
				targets = append(targets, writeTarget{snd, i == len(p.Senders)-1, g.Name, s, g.Kind})
				distinct[snd.Account+"\x00"+snd.Region+"\x00"+g.Name+"\x00"+s] = true
			}
		}
	}
	return targets, len(distinct)
}

// eventWriter is one WriteEvents call's state: the senders' clock over
// p.Window, the messages' generator, and what was sent so far.
type eventWriter struct {
	c       *localenv.Clients
	p       Plan
	sent    *Sent
	rng     *rand.Rand
	gen     *eventgen.Generator
	targets []writeTarget
	active  []writeTarget // targets, less the last sender's once it stopped
	// The senders' time: events are spread from start to end; the last
	// sender stops at stopAt with StopLast; nextBeat is the next heartbeat.
	start, end, stopAt, nextBeat time.Time
}

// newEventWriter starts the senders' clock: p.Window, ending now.
func newEventWriter(c *localenv.Clients, p Plan, targets []writeTarget, streams int) *eventWriter {
	sent := &Sent{Run: p.Run, Groups: len(p.Groups) * len(p.Senders), Streams: streams, Senders: p.Senders}
	for _, snd := range p.Senders {
		if !slices.Contains(sent.Accounts, snd.Account) {
			sent.Accounts = append(sent.Accounts, snd.Account)
		}
	}
	w := &eventWriter{c: c, p: p, sent: sent, rng: rand.New(rand.NewPCG(p.Seed, p.Seed+1)), gen: eventgen.New(p.Seed), targets: targets, active: targets}
	w.end = time.Now()
	w.start = w.end.Add(-p.Window)
	w.stopAt = w.start.Add(p.Window / 2)
	w.nextBeat = w.start
	return w
}

// at is event idx's time: the events spread evenly over the window.
func (w *eventWriter) at(idx int) time.Time {
	return w.start.Add(time.Duration(int64(w.p.Window) * int64(idx) / int64(w.p.Events)))
}

// stopLast leaves the last sender's streams out of the calls from now on.
func (w *eventWriter) stopLast() {
	w.active = nil
	for _, t := range w.targets {
		if !t.last {
			w.active = append(w.active, t)
		}
	}
}

// beats writes every sender's heartbeats due up to upTo (none of the last
// sender's after stopAt with StopLast): heartbeats are written as the
// senders' time passes them.
func (w *eventWriter) beats(ctx context.Context, upTo time.Time) error {
	p := &w.p
	for ; !w.nextBeat.After(upTo); w.nextBeat = w.nextBeat.Add(p.HeartbeatEvery) {
		for i, snd := range p.Senders {
			if p.StopLast && i == len(p.Senders)-1 && w.nextBeat.After(w.stopAt) {
				continue
			}
			if err := writeHeartbeat(ctx, w.c, p.Stream, snd, w.nextBeat); err != nil {
				return err
			}
			w.sent.Heartbeats++
		}
	}
	return nil
}

// writeCall writes call i: 1 to MaxEventsPerCall events (no more than are
// left) to the next active target, each stamped with its time and tagged
// with its key.
func (w *eventWriter) writeCall(ctx context.Context, i int) error {
	p, sent := &w.p, w.sent
	t := w.active[i%len(w.active)]
	size := min(1+w.rng.IntN(MaxEventsPerCall), p.Events-sent.Events)
	src := eventgen.Source{Owner: t.sender.Account, LogGroup: t.group, LogStream: t.stream, Kind: t.kind, Filter: localenv.SubscriptionFilterName}
	m := w.gen.Message(src, size, w.start, time.Millisecond, 0)
	for j := range m.LogEvents {
		idx := sent.Events + j
		m.LogEvents[j].Timestamp = w.at(idx).UnixMilli()
		m.LogEvents[j].Message += eventKey(p.Run, idx)
	}
	if t.sender.Hub != "" {
		// Every fifth record of the hub mixes two sources, as one of
		// the hub's log streams may when two accounts' streams share a
		// name: the consumer splits it per source.
		var other *Sender
		if i%5 == 4 {
			other = &p.Senders[(slices.IndexFunc(p.Senders, func(s Sender) bool { return s == t.sender })+1)%len(p.Senders)]
		}
		sent.Origins = append(sent.Origins, centralize(m, t.sender, other)...)
	}
	if err := writeRecord(ctx, w.c, p.Stream, t.sender, m); err != nil {
		return err
	}
	sent.Sources = append(sent.Sources, Source{Owner: t.sender.Account, Region: t.sender.Region, Group: t.group, Stream: t.stream, First: sent.Events, N: size})
	sent.Events += size
	sent.Calls++
	if p.Progress != nil {
		p.Progress(sent.Events)
	}
	return nil
}

// writeRecord sends m's events: through moto's CloudWatch Logs (one
// PutLogEvents call, which moto's subscription turns into one record), or
// directly into the stream for a Direct sender.
func writeRecord(ctx context.Context, c *localenv.Clients, stream string, snd Sender, m *subscription.Message) error {
	if snd.Direct {
		return WriteDirect(ctx, c, stream, m)
	}
	evs := make([]cwltypes.InputLogEvent, len(m.LogEvents))
	for j, e := range m.LogEvents {
		evs[j] = cwltypes.InputLogEvent{Timestamp: aws.Int64(e.Timestamp), Message: aws.String(e.Message)}
	}
	out, err := c.Logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(m.LogGroup), LogStreamName: aws.String(m.LogStream), LogEvents: evs})
	if err != nil {
		return fmt.Errorf("put %d log events to %s/%s: %w", len(evs), m.LogGroup, m.LogStream, err)
	}
	if r := out.RejectedLogEventsInfo; r != nil {
		return fmt.Errorf("CloudWatch Logs rejected events of %s/%s: %+v", m.LogGroup, m.LogStream, *r)
	}
	return nil
}

// writeHeartbeat writes snd's heartbeat at: the EventBridge Scheduled Event
// the sender stack's schedule rule writes into the heartbeat log group. A
// direct sender's record carries the system fields its subscription filter
// emits ("@aws.account", "@aws.region"); moto's delivery carries none.
func writeHeartbeat(ctx context.Context, c *localenv.Clients, stream string, snd Sender, at time.Time) error {
	hb := eventgen.Heartbeat{Owner: snd.Account, Region: snd.region(), LogGroup: config.DefaultHeartbeatLogGroup, At: at, SystemFields: snd.Direct, Hub: snd.Hub}
	return writeRecord(ctx, c, stream, snd, hb.Message())
}

// WriteDirect puts m into the stream as CloudWatch Logs does for a
// subscription: the gzip JSON payload as one record, partitioned by the
// log stream (what "ByLogStream" distribution does). It stands in for the
// cross-account delivery moto does not emulate.
func WriteDirect(ctx context.Context, c *localenv.Clients, stream string, m *subscription.Message) error {
	data, err := subscription.Encode(m)
	if err != nil {
		return fmt.Errorf("encode the payload of %s/%s: %w", m.LogGroup, m.LogStream, err)
	}
	key := sha256.Sum256([]byte(m.Owner + "\x00" + m.LogGroup + "\x00" + m.LogStream))
	if _, err := c.Kinesis.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String(stream), Data: data, PartitionKey: aws.String(hex.EncodeToString(key[:16])),
	}); err != nil {
		return fmt.Errorf("put the record of %s %s/%s into %s: %w", m.Owner, m.LogGroup, m.LogStream, stream, err)
	}
	return nil
}
