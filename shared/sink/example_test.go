package sink_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// memSink is a target's sink that keeps the messages it delivers, and
// fails on the record with sequence number down (a service outage).
type memSink struct {
	got  []string
	down string
}

func (m *memSink) Name() string { return "mem" }

func (m *memSink) Deliver(_ context.Context, b *sink.Batch) sink.Result {
	res := sink.Result{FailedAt: -1}
	for i, r := range b.Records {
		if r.SequenceNumber == m.down {
			res.FailedAt, res.Err = i, errors.New("service unavailable")
			break
		}
		for _, e := range r.Message.LogEvents {
			m.got = append(m.got, e.Message)
			res.Delivered++
		}
	}
	return res
}

// record is one decoded record of the given messages, routed to targets.
func record(seq string, targets []int, messages ...string) sink.DecodedRecord {
	m := &subscription.Message{Owner: "111111111111", LogGroup: "/aws/lambda/orders", LogStream: "s"}
	for _, msg := range messages {
		m.LogEvents = append(m.LogEvents, subscription.LogEvent{Message: msg})
	}
	return sink.DecodedRecord{SequenceNumber: seq, Message: m, Targets: targets}
}

// A Fanout hands each of its targets the records routed to it, and merges
// what they report: every event counts once per target it was owed to, and
// Lambda retries from the first record any target failed on.
func ExampleFanout() {
	apps, audit := &memSink{}, &memSink{down: "3"}
	f := sink.NewFanout("s3", []string{"s3:apps", "s3:audit"}, []sink.Sink{apps, audit})

	res := f.Deliver(context.Background(), &sink.Batch{
		ShardID: "shardId-000000000000",
		Records: []sink.DecodedRecord{
			record("1", []int{0, 1}, "a", "b"), // to both targets
			record("2", []int{0}, "c"),         // to apps only
			record("3", []int{1}, "d"),         // to audit, which fails on it
		},
	})
	fmt.Println("apps got:", strings.Join(apps.got, " "))
	fmt.Println("audit got:", strings.Join(audit.got, " "))
	fmt.Println("delivered:", res.Delivered, "retry from record:", res.FailedAt)
	fmt.Println(res.Err)
	// Output:
	// apps got: a b c
	// audit got: a b
	// delivered: 5 retry from record: 2
	// target s3:audit: service unavailable
}
