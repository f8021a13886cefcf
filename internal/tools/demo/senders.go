package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/logfan/logfan/internal/devkit/eventgen"
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

// Sent is what the senders wrote.
type Sent struct {
	// Run tags every message of this run.
	Run string
	// Events counts the events CloudWatch Logs accepted.
	Events int
	// Calls counts PutLogEvents calls (one Kinesis record each on moto).
	Calls int
	// Groups and Streams count where they went.
	Groups, Streams int
	// Sources lists where each PutLogEvents call wrote, in order: what
	// routing decides by (the routed demo computes each target's due from it).
	Sources []Source
}

// Source is one PutLogEvents call: events First to First+N-1 went to Group/Stream.
type Source struct {
	Group, Stream string
	First, N      int
}

// WriteEvents writes n events, tagged with run, across groups and their
// streams in PutLogEvents calls of 1 to MaxEventsPerCall events. The
// messages come from eventgen (deterministic for a seed), timestamps are
// recent and increasing, and progress is told the running total.
func WriteEvents(ctx context.Context, c *Clients, groups []SenderGroup, run string, n int, seed uint64, progress func(sent int)) (*Sent, error) {
	type target struct{ group, stream, kind string }
	var targets []target
	for _, g := range groups {
		for _, s := range g.Streams {
			targets = append(targets, target{g.Name, s, g.Kind})
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no sender log streams")
	}
	sent := &Sent{Run: run, Groups: len(groups), Streams: len(targets)}
	rng := rand.New(rand.NewPCG(seed, seed+1))
	gen := eventgen.New(seed)
	// Recent enough for the logs sink (PutLogEvents rejects events older
	// than 14 days), in order per call and per stream.
	base := time.Now().Add(-time.Duration(n)*10*time.Millisecond - time.Minute)
	for i := 0; sent.Events < n; i++ {
		t := targets[i%len(targets)]
		size := min(1+rng.IntN(MaxEventsPerCall), n-sent.Events)
		src := eventgen.Source{Owner: "demo", LogGroup: t.group, LogStream: t.stream, Kind: t.kind}
		m := gen.Message(src, size, base, time.Millisecond, 0)
		evs := make([]cwltypes.InputLogEvent, size)
		for j := range evs {
			idx := sent.Events + j
			evs[j] = cwltypes.InputLogEvent{
				Timestamp: aws.Int64(base.Add(time.Duration(idx) * 10 * time.Millisecond).UnixMilli()),
				Message:   aws.String(m.LogEvents[j].Message + eventKey(run, idx)),
			}
		}
		out, err := c.Logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(t.group), LogStreamName: aws.String(t.stream), LogEvents: evs})
		if err != nil {
			return sent, fmt.Errorf("put %d log events to %s/%s: %w", size, t.group, t.stream, err)
		}
		if r := out.RejectedLogEventsInfo; r != nil {
			return sent, fmt.Errorf("CloudWatch Logs rejected events of %s/%s: %+v", t.group, t.stream, *r)
		}
		sent.Sources = append(sent.Sources, Source{Group: t.group, Stream: t.stream, First: sent.Events, N: size})
		sent.Events += size
		sent.Calls++
		if progress != nil {
			progress(sent.Events)
		}
	}
	return sent, nil
}
