package invocation_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/internal/devkit/cputime"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/subscription"
)

// BenchmarkInvocation decodes a whole ~1.3 MB Lambda Kinesis event of 100
// records and 10,000 log events, from the event JSON to every log event.
// impl=baseline is plain stdlib: encoding/json into aws-lambda-go's
// KinesisEvent, then per record a new compress/gzip reader and
// encoding/json into CloudwatchLogsData. impl=logfan is invocation.Parse
// plus one reused subscription.Decoder. MB/s counts the event JSON plus
// the subscription JSON inside it. Compare with
//
//	go test -run '^$' -bench . -benchmem -cpu 1 -count 6 ./shared/invocation | benchstat -col /impl -
func BenchmarkInvocation(b *testing.B) {
	g := generate(b, 1, 100, 100)
	bytesPerOp := int64(len(g.payload) + g.uncompressed)
	b.Run("impl=baseline/events=10000", func(b *testing.B) {
		benchInvocation(b, bytesPerOp, g.events, func() (int, error) {
			var ev events.KinesisEvent
			if err := json.Unmarshal(g.payload, &ev); err != nil {
				return 0, err
			}
			n := 0
			for _, r := range ev.Records {
				zr, err := gzip.NewReader(bytes.NewReader(r.Kinesis.Data))
				if err != nil {
					return 0, err
				}
				var d events.CloudwatchLogsData
				if err := json.NewDecoder(zr).Decode(&d); err != nil {
					return 0, err
				}
				n += len(d.LogEvents)
			}
			return n, nil
		})
	})
	b.Run("impl=logfan/events=10000", func(b *testing.B) {
		d := subscription.NewDecoder(0)
		benchInvocation(b, bytesPerOp, g.events, func() (int, error) {
			inv, err := invocation.Parse(g.payload)
			if err != nil {
				return 0, err
			}
			n := 0
			for i := range inv.Records {
				m, err := d.Decode(inv.Records[i].Data)
				if err != nil {
					return 0, err
				}
				n += len(m.LogEvents)
			}
			return n, nil
		})
	})
}

// BenchmarkParse is the envelope alone: the Lambda event JSON to records
// with base64-decoded data. MB/s counts the event JSON.
func BenchmarkParse(b *testing.B) {
	g := generate(b, 1, 100, 100)
	b.Run("impl=baseline/records=100", func(b *testing.B) {
		benchInvocation(b, int64(len(g.payload)), 0, func() (int, error) {
			var ev events.KinesisEvent
			return 0, json.Unmarshal(g.payload, &ev)
		})
	})
	b.Run("impl=logfan/records=100", func(b *testing.B) {
		benchInvocation(b, int64(len(g.payload)), 0, func() (int, error) {
			_, err := invocation.Parse(g.payload)
			return 0, err
		})
	})
}

func benchInvocation(b *testing.B, bytesPerOp int64, events int, run func() (int, error)) {
	b.Helper()
	b.SetBytes(bytesPerOp)
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		n, err := run()
		if err != nil || n != events {
			b.Fatalf("%d events (want %d): %v", n, events, err)
		}
	}
	cputime.ReportPerOp(b, cputime.Process()-cpu)
	if events > 0 {
		b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
}
