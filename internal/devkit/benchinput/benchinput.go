// Package benchinput builds benchmark inputs (generated, never large binary
// fixtures) and the plain-stdlib decode that benchmarks compare against.
package benchinput

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/subscription"
)

// Payloads returns nRecords gzip subscription payloads of nEvents events each
// (messages ~200 bytes of the given eventgen kind), spread over four owners
// and log groups, deterministic for a seed.
func Payloads(seed uint64, nRecords, nEvents int, kind string) [][]byte {
	g := eventgen.New(seed)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([][]byte, nRecords)
	for i := range out {
		src := eventgen.Source{
			Owner:     fmt.Sprintf("%012d", 111111111111*(1+i%4)),
			LogGroup:  fmt.Sprintf("/aws/app/service-%d", i%4),
			LogStream: fmt.Sprintf("stream-%d", i%7),
			Kind:      kind,
		}
		out[i] = eventgen.MustPayload(g.Message(src, nEvents, start.Add(time.Duration(i)*time.Minute), 5*time.Millisecond, 200))
	}
	return out
}

// UncompressedSize sums the decompressed sizes of payloads, for b.SetBytes.
func UncompressedSize(payloads [][]byte) int64 {
	var n int64
	for _, p := range payloads {
		zr, err := gzip.NewReader(bytes.NewReader(p))
		if err != nil {
			panic(err)
		}
		c, _ := io.Copy(io.Discard, zr)
		n += c
	}
	return n
}

// NaiveDecode is the baseline decode: a new compress/gzip reader per record
// and encoding/json into aws-lambda-go's events.CloudwatchLogsData, converted
// to a Message (which loses nothing the baseline can see).
func NaiveDecode(data []byte) (*subscription.Message, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var d events.CloudwatchLogsData
	if err := json.NewDecoder(zr).Decode(&d); err != nil {
		return nil, err
	}
	m := &subscription.Message{
		MessageType: d.MessageType, Owner: d.Owner, LogGroup: d.LogGroup, LogStream: d.LogStream,
		SubscriptionFilters: d.SubscriptionFilters, LogEvents: make([]subscription.LogEvent, len(d.LogEvents)),
	}
	for i, e := range d.LogEvents {
		m.LogEvents[i] = subscription.LogEvent{ID: e.ID, Timestamp: e.Timestamp, Message: e.Message}
	}
	return m, nil
}
