package firehosesink

import (
	"testing"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// TestArenaSize checks the up-front arena holds the first call's NDJSON
// for every kind of generated data (so packing it never reallocates), and
// stays within a call and a sixteenth however large the batch.
func TestArenaSize(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive, on one goroutine: -race finds nothing more here; the run without -short covers it")
	}
	lim := DefaultLimits()
	for _, kind := range []string{eventgen.KindApp, eventgen.KindCloudTrail, eventgen.KindVPCFlow, eventgen.KindRandom} {
		for _, n := range []int{1, 30, 1000} {
			b := &sink.Batch{}
			dec := subscription.NewDecoder(0)
			for j, p := range benchinput.Payloads(3, 12, n, kind) {
				m, err := dec.Decode(p)
				if err != nil {
					t.Fatal(err)
				}
				b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: seqNo(j), Message: m})
			}
			want := arenaSize(b, lim)
			p := newPacker(b, lim, false, make([]byte, 0, want))
			var c call
			p.startCall(&c)
			if o := p.fill(&c); o != nil {
				t.Fatal("oversize")
			}
			if len(p.arena) > want {
				t.Errorf("%s, %d events per record: first call's NDJSON %d bytes, arenaSize %d", kind, n, len(p.arena), want)
			}
			if want > lim.CallBytes+lim.CallBytes/16 {
				t.Errorf("%s: arenaSize %d over its cap", kind, want)
			}
		}
	}
}
