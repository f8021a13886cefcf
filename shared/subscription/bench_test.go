package subscription

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/internal/devkit/cputime"
)

// BenchmarkDecodeRecord decodes one Kinesis record's data (gzip JSON) with
// each implementation: impl=baseline (new compress/gzip reader per record +
// encoding/json into aws-lambda-go's CloudwatchLogsData), impl=fastjson
// (reused klauspost reader + fastjson tree, the other tuned design) and
// impl=logfan (Decoder). flavour=systemfields gives every event the
// extractedFields a filter's emitSystemFields adds, which logfan reads
// (the references only carry); flavour=patternfields gives them fields
// that differ per event (a filter pattern's) besides. MB/s counts
// uncompressed JSON. Compare with
//
//	go test -run '^$' -bench DecodeRecord -benchmem -cpu 1 -count 6 ./shared/subscription | benchstat -col /impl -
func BenchmarkDecodeRecord(b *testing.B) {
	for _, fl := range []flavour{realistic, random, systemFields, patternFields} {
		for _, n := range []int{100, 1000} {
			payload := genPayload(42, n, fl)
			data := gz(b, payload)
			name := fmt.Sprintf("flavour=%s/events=%d", fl, n)
			b.Run("impl=baseline/"+name, func(b *testing.B) {
				benchDecode(b, len(payload), n, func() (int, error) {
					d, err := baselineDecode(data)
					if err != nil {
						return 0, err
					}
					return len(d.LogEvents), nil
				})
			})
			b.Run("impl=fastjson/"+name, func(b *testing.B) {
				var f fastjsonDecoder
				benchDecode(b, len(payload), n, func() (int, error) {
					m, err := f.decode(data)
					if err != nil {
						return 0, err
					}
					return len(m.LogEvents), nil
				})
			})
			b.Run("impl=logfan/"+name, func(b *testing.B) {
				d := NewDecoder(0)
				benchDecode(b, len(payload), n, func() (int, error) {
					m, err := d.Decode(data)
					if err != nil {
						return 0, err
					}
					return len(m.LogEvents), nil
				})
			})
		}
	}
}

// BenchmarkControlMessage is the per-record cost of the health check.
func BenchmarkControlMessage(b *testing.B) {
	payload := []byte(`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}`)
	data := gz(b, payload)
	d := NewDecoder(0)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if m, err := d.Decode(data); err != nil || !m.IsControl() {
			b.Fatal(m, err)
		}
	}
}

func benchDecode(b *testing.B, uncompressed, events int, decode func() (int, error)) {
	b.Helper()
	b.SetBytes(int64(uncompressed))
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		n, err := decode()
		if err != nil || n != events {
			b.Fatalf("decoded %d events (want %d): %v", n, events, err)
		}
	}
	cputime.ReportPerOp(b, cputime.Process()-cpu)
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseJSON isolates the JSON layer: the decompressed payload to a
// Message, with encoding/json (into aws-lambda-go's type) as the baseline.
func BenchmarkParseJSON(b *testing.B) {
	for _, fl := range []flavour{realistic, random} {
		for _, n := range []int{100, 1000} {
			payload := genPayload(42, n, fl)
			name := fmt.Sprintf("flavour=%s/events=%d", fl, n)
			b.Run("impl=baseline/"+name, func(b *testing.B) {
				benchDecode(b, len(payload), n, func() (int, error) {
					var d events.CloudwatchLogsData
					err := json.Unmarshal(payload, &d)
					return len(d.LogEvents), err
				})
			})
			b.Run("impl=logfan/"+name, func(b *testing.B) {
				var p parser
				buf := make([]byte, len(payload))
				benchDecode(b, len(payload), n, func() (int, error) {
					copy(buf, payload) // the parser compacts in place
					m, err := p.decode(buf)
					if err != nil {
						return 0, err
					}
					return len(m.LogEvents), nil
				})
			})
		}
	}
}

// BenchmarkGunzip isolates decompression: a new compress/gzip reader per
// record (baseline) against the Decoder's reused klauspost reader and
// buffer. On poorly compressible data this layer bounds the whole decode.
func BenchmarkGunzip(b *testing.B) {
	for _, fl := range []flavour{realistic, random} {
		for _, n := range []int{100, 1000} {
			payload := genPayload(42, n, fl)
			data := gz(b, payload)
			name := fmt.Sprintf("flavour=%s/events=%d", fl, n)
			b.Run("impl=baseline/"+name, func(b *testing.B) {
				var out bytes.Buffer
				benchDecode(b, len(payload), n, func() (int, error) {
					zr, err := stdgzip.NewReader(bytes.NewReader(data))
					if err != nil {
						return 0, err
					}
					out.Reset()
					if _, err := out.ReadFrom(zr); err != nil {
						return 0, err
					}
					return n, zr.Close()
				})
			})
			b.Run("impl=logfan/"+name, func(b *testing.B) {
				d := NewDecoder(0)
				benchDecode(b, len(payload), n, func() (int, error) {
					_, err := d.inflate(data)
					return n, err
				})
			})
		}
	}
}
