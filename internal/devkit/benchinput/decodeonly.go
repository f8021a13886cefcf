package benchinput

import (
	"testing"

	"github.com/logfan/logfan/shared/subscription"
)

// DecodeOnly benchmarks logfan's decoder alone on payloads, as each sink's
// pipeline benchmark decodes them (one Decoder, every payload per op), so
// that a sink's whole path can be stated as a share of the decode-only rate
// on the same input in the same run. MB/s counts uncompressed JSON.
func DecodeOnly(b *testing.B, payloads [][]byte) {
	dec := subscription.NewDecoder(0)
	b.SetBytes(UncompressedSize(payloads))
	b.ReportAllocs()
	defer CPUStart(b, UncompressedSize(payloads))()
	events := 0
	for b.Loop() {
		events = 0
		for _, p := range payloads {
			m, err := dec.Decode(p)
			if err != nil {
				b.Fatal(err)
			}
			events += len(m.LogEvents)
		}
	}
	if events > 0 {
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*events), "µs/event")
	}
}
