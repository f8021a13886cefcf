package benchinput

import (
	"fmt"
	"strings"
	"time"

	"github.com/logfan/logfan/shared/subscription"
)

// MaxKinesisRecord is the largest Kinesis record (its data blob): a
// subscription payload, gzip-compressed, is at most this long.
const MaxKinesisRecord = 1 << 20

// NearCapPayload returns a valid gzip subscription payload of one log
// stream that inflates to at most limit bytes and as close to it as whole
// events allow: the largest payload a decompression cap of limit lets
// through, the worst case for a function's memory. Its events repeat one
// realistic application line of messageBytes bytes (repetitive logs are
// what compress this well: a payload near a 64 MiB cap still fits a
// 1 MiB Kinesis record), with CloudWatch-shaped IDs and timestamps.
func NearCapPayload(limit int64, messageBytes int) []byte {
	line := `{"level":"info","msg":"request served","service":"checkout","path":"/api/v1/orders","status":200,"detail":"`
	line += strings.Repeat("x", max(messageBytes-len(line)-2, 0)) + `"}`
	m := &subscription.Message{
		MessageType:         subscription.DataMessage,
		Owner:               "111111111111",
		LogGroup:            "/aws/app/checkout",
		LogStream:           "i-0123456789abcdef0",
		SubscriptionFilters: []string{"logfan"},
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	event := func(i int) subscription.LogEvent {
		ts := start + int64(i)
		return subscription.LogEvent{ID: fmt.Sprintf("%020d%018d%018d", ts, i, i), Timestamp: ts, Message: line}
	}
	// The JSON grows by the same number of bytes per event (fixed-width IDs
	// and timestamps), so the count follows from two sizes.
	jsonSize := func(n int) int64 {
		m.LogEvents = m.LogEvents[:0]
		for i := range n {
			m.LogEvents = append(m.LogEvents, event(i))
		}
		b, err := subscription.AppendJSON(nil, m)
		if err != nil {
			panic(err)
		}
		return int64(len(b))
	}
	base := jsonSize(1)
	per := jsonSize(2) - base
	n := 1 + int((limit-base)/per)
	for n > 1 && jsonSize(n) > limit {
		n--
	}
	b, err := subscription.AppendJSON(nil, m)
	if err != nil {
		panic(err)
	}
	return subscription.Compress(b)
}
