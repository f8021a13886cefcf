package capacity

import (
	"bytes"
	"math"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/subscription"
)

// TestSampleWorkload measures Sample and the per-event constants again on
// the generated application logs `make cost` benchmarks, so a change of
// the generator (or of the NDJSON line) fails here until they are updated.
func TestSampleWorkload(t *testing.T) {
	payloads := benchinput.Payloads(1, 10, 1000, eventgen.KindApp)
	var gz, events, msgs, lines, stored int
	dec := subscription.NewDecoder(0)
	for _, p := range payloads {
		gz += len(p)
		m, err := dec.Decode(p)
		if err != nil {
			t.Fatal(err)
		}
		// The S3 sink writes a record's events (one log group) as gzip
		// level 1 NDJSON.
		var nd []byte
		for i := range m.LogEvents {
			msgs += len(m.LogEvents[i].Message)
			nd = record.AppendLine(nd, m, &m.LogEvents[i])
		}
		events += len(m.LogEvents)
		lines += len(nd)
		var obj bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&obj, gzip.BestSpeed)
		if _, err := zw.Write(nd); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		stored += obj.Len()
	}
	raw := float64(benchinput.UncompressedSize(payloads))
	ratio := raw / float64(gz)
	for _, c := range []struct {
		name      string
		got, want float64
		tolerance float64
	}{
		{"Sample.Ratio", ratio, Sample.Ratio, 0.001},
		{"Sample.EventBytes", raw / float64(events), Sample.EventBytes, 0.001},
		{"Sample.EventsPerRecord", float64(events) / float64(len(payloads)), Sample.EventsPerRecord, 0},
		{"EventOverheadBytes", (raw - float64(msgs)) / float64(events), EventOverheadBytes, 0.001},
		{"LineExtraBytes", float64(lines-int(raw)) / float64(events), LineExtraBytes, 0.001},
		// Objects here hold one record's events; the sink's hold a
		// partition's events of a batch, slightly better compressed.
		{"S3GzipGain", float64(lines) / float64(stored) / ratio, S3GzipGain, 0.03},
	} {
		if math.Abs(c.got-c.want) > c.tolerance*c.want {
			t.Errorf("%s: measured %.4g, recorded %.4g: update it (internal/ops/capacity/measured.go) and the capacity figures of docs/performance.md", c.name, c.got, c.want)
		}
	}
	t.Logf("ratio %.3f, %.1f bytes/event, %.1f of them not the message, lines %.1f bytes longer, S3 gzip gain %.3f",
		ratio, raw/float64(events), (raw-float64(msgs))/float64(events), float64(lines-int(raw))/float64(events), float64(lines)/float64(stored)/ratio)
}
