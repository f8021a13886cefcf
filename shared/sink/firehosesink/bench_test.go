package firehosesink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// okTransport answers every PutRecordBatch with success and one RecordId
// per record sent, without a network: what remains is the SDK client's own
// CPU (serialization, base64, SigV4) and ours.
type okTransport struct {
	buf   bytes.Buffer
	resps [MaxBatchRecords + 1][]byte
	calls int
}

func newOKTransport() *okTransport {
	t := &okTransport{}
	for n := range t.resps {
		var b strings.Builder
		b.WriteString(`{"Encrypted":false,"FailedPutCount":0,"RequestResponses":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"RecordId":"%048d"}`, i)
		}
		b.WriteString(`]}`)
		t.resps[n] = []byte(b.String())
	}
	return t
}

func (t *okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.buf.Reset()
	if _, err := t.buf.ReadFrom(req.Body); err != nil {
		return nil, err
	}
	req.Body.Close()
	t.calls++
	// Base64 never holds a quote, so this counts the records exactly.
	n := bytes.Count(t.buf.Bytes(), []byte(`"Data"`))
	if n > MaxBatchRecords {
		return nil, fmt.Errorf("%d records in one call", n)
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": []string{"application/x-amz-json-1.1"}, "X-Amzn-Requestid": []string{"bench"}},
		Body:          io.NopCloser(bytes.NewReader(t.resps[n])),
		ContentLength: int64(len(t.resps[n])),
		Request:       req,
	}, nil
}

// benchClient is a real firehose.Client on the fake transport, with
// static credentials so SigV4 signing runs as in production.
func benchClient(tr http.RoundTripper) *firehose.Client {
	return firehose.NewFromConfig(fakeaws.Config("us-east-1", tr))
}

// naiveDeliver is the baseline: one event per Firehose record, marshalled
// with encoding/json, 500 records per call.
func naiveDeliver(ctx context.Context, c *firehose.Client, stream string, msgs []*subscription.Message) error {
	in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream)}
	flush := func() error {
		if len(in.Records) == 0 {
			return nil
		}
		if _, err := c.PutRecordBatch(ctx, in); err != nil {
			return err
		}
		in.Records = in.Records[:0]
		return nil
	}
	for _, m := range msgs {
		for k := range m.LogEvents {
			line, err := json.Marshal(record.From(m, &m.LogEvents[k]))
			if err != nil {
				return err
			}
			in.Records = append(in.Records, types.Record{Data: append(line, '\n')})
			if len(in.Records) == MaxBatchRecords {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// BenchmarkPipeline compares the whole path for a ~1.3 MB invocation (10
// records x 1,000 events): decode, prepare and the SDK client's CPU.
//
//	decode:      subscription.Decoder alone (the decode-only rate on the same input)
//	naive:       benchinput.NaiveDecode + encoding/json, one event per record
//	ours:        subscription.Decoder + Sink (AppendLine, packed records)
//	ours-single: subscription.Decoder + Sink with one event per record
func BenchmarkPipeline(b *testing.B) {
	for _, kind := range []string{eventgen.KindApp, eventgen.KindRandom} {
		payloads := benchinput.Payloads(1, 10, 1000, kind)
		size := benchinput.UncompressedSize(payloads)
		events := 10 * 1000
		ctx := context.Background()

		b.Run(kind+"/decode", func(b *testing.B) { benchinput.DecodeOnly(b, payloads) })
		b.Run(kind+"/naive", func(b *testing.B) {
			tr := newOKTransport()
			c := benchClient(tr)
			msgs := make([]*subscription.Message, len(payloads))
			b.SetBytes(size)
			defer benchinput.CPUStart(b, size)()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j, p := range payloads {
					m, err := benchinput.NaiveDecode(p)
					if err != nil {
						b.Fatal(err)
					}
					msgs[j] = m
				}
				if err := naiveDeliver(ctx, c, "bench", msgs); err != nil {
					b.Fatal(err)
				}
			}
			reportPerEvent(b, events)
			b.ReportMetric(float64(naiveUnits(b, payloads))/float64(events), "billed5KB/event")
		})
		for _, packing := range []string{config.PackingPack, config.PackingSingle} {
			name := "ours"
			if packing == config.PackingSingle {
				name = "ours-single"
			}
			b.Run(kind+"/"+name, func(b *testing.B) {
				tr := newOKTransport()
				s := New(benchClient(tr), config.Firehose{Stream: "bench", Packing: packing})
				dec := subscription.NewDecoder(0)
				batch := &sink.Batch{ShardID: "shardId-000000000000", Records: make([]sink.DecodedRecord, len(payloads))}
				b.SetBytes(size)
				defer benchinput.CPUStart(b, size)()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for j, p := range payloads {
						m, err := dec.Decode(p)
						if err != nil {
							b.Fatal(err)
						}
						batch.Records[j] = sink.DecodedRecord{SequenceNumber: seqNo(j), Message: m}
					}
					if r := s.Deliver(ctx, batch); r.FailedAt != -1 || r.Delivered != events {
						b.Fatalf("result %+v", r)
					}
				}
				reportPerEvent(b, events)
				b.ReportMetric(float64(sinkUnits(b, batch, packing == config.PackingSingle))/float64(events), "billed5KB/event")
			})
		}
	}
}

// BenchmarkPack is the packing step alone (NDJSON lines into records and
// calls), on already decoded messages.
func BenchmarkPack(b *testing.B) {
	payloads := benchinput.Payloads(1, 10, 1000, eventgen.KindApp)
	batch := &sink.Batch{}
	dec := subscription.NewDecoder(0)
	for j, p := range payloads {
		m, err := dec.Decode(p)
		if err != nil {
			b.Fatal(err)
		}
		batch.Records = append(batch.Records, sink.DecodedRecord{SequenceNumber: seqNo(j), Message: m})
	}
	b.SetBytes(benchinput.UncompressedSize(payloads))
	b.ReportAllocs()
	var arena []byte
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := newPacker(batch, DefaultLimits(), false, arena)
		var c call
		for !p.exhausted() {
			p.startCall(&c)
			if o := p.fill(&c); o != nil {
				b.Fatal("oversize")
			}
		}
		arena = p.arena
	}
	reportPerEvent(b, 10*1000)
}

// BenchmarkSDKFloor is the SDK client's share alone: PutRecordBatch of the
// records the sink packs for the same input, already built. Both pipelines
// pay about this much, since both send the same NDJSON bytes.
func BenchmarkSDKFloor(b *testing.B) {
	payloads := benchinput.Payloads(1, 10, 1000, eventgen.KindApp)
	batch := &sink.Batch{}
	dec := subscription.NewDecoder(0)
	for j, p := range payloads {
		m, err := dec.Decode(p)
		if err != nil {
			b.Fatal(err)
		}
		batch.Records = append(batch.Records, sink.DecodedRecord{SequenceNumber: seqNo(j), Message: m})
	}
	calls, _ := plan(b, batch, DefaultLimits(), false)
	c := benchClient(newOKTransport())
	ctx := context.Background()
	b.SetBytes(benchinput.UncompressedSize(payloads))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, call := range calls {
			in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("bench")}
			for _, r := range call {
				in.Records = append(in.Records, types.Record{Data: r.data})
			}
			if _, err := c.PutRecordBatch(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportPerEvent(b, 10*1000)
}

func reportPerEvent(b *testing.B, events int) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(events), "µs/event")
}

// naiveUnits is the 5 KB billing units the baseline's records cost.
func naiveUnits(tb testing.TB, payloads [][]byte) int {
	units := 0
	for _, p := range payloads {
		m, err := benchinput.NaiveDecode(p)
		if err != nil {
			tb.Fatal(err)
		}
		for k := range m.LogEvents {
			line, _ := json.Marshal(record.From(m, &m.LogEvents[k]))
			units += BillingUnits(len(line) + 1)
		}
	}
	return units
}

// sinkUnits is the 5 KB billing units of the records the sink sends for b.
func sinkUnits(tb testing.TB, b *sink.Batch, single bool) int {
	calls, _ := plan(tb, b, DefaultLimits(), single)
	units := 0
	for _, c := range calls {
		for _, r := range c {
			units += BillingUnits(len(r.data))
		}
	}
	return units
}

// TestBillingSavings reports, for the sample events and the benchmark
// inputs, the Firehose billing units (5 KB steps per record) of packed
// records against one event per record, and checks packing saves.
func TestBillingSavings(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive, on one goroutine: -race finds nothing more here; the run without -short covers it")
	}
	type input struct {
		name  string
		batch *sink.Batch
	}
	var inputs []input
	for _, f := range []string{"kinesis-data.json", "kinesis-account-policy.json", "generated/kinesis-6mb.json"} {
		b, err := eventsFile(t, "../../../events/"+f)
		if err != nil {
			t.Logf("skip %s: %v", f, err)
			continue
		}
		inputs = append(inputs, input{"events/" + f, b})
	}
	for _, kind := range []string{eventgen.KindApp, eventgen.KindCloudTrail, eventgen.KindVPCFlow, eventgen.KindRandom} {
		b := &sink.Batch{}
		dec := subscription.NewDecoder(0)
		for j, p := range benchinput.Payloads(1, 10, 1000, kind) {
			m, err := dec.Decode(p)
			if err != nil {
				t.Fatal(err)
			}
			b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: seqNo(j), Message: m})
		}
		inputs = append(inputs, input{"benchinput " + kind + " 10x1000", b})
	}
	if len(inputs) == 0 {
		t.Fatal("no input")
	}
	t.Logf("%-40s %8s %12s %10s %9s %9s %8s", "input", "events", "NDJSON bytes", "FH records", "units 1/r", "units pk", "saving")
	for _, in := range inputs {
		events := in.batch.Events()
		single, pack := sinkUnits(t, in.batch, true), sinkUnits(t, in.batch, false)
		calls, _ := plan(t, in.batch, DefaultLimits(), false)
		recs, n := 0, 0
		for _, c := range calls {
			recs += len(c)
			for _, r := range c {
				n += len(r.data)
			}
		}
		if single < events {
			t.Errorf("%s: %d units for %d events sent one per record, want at least one each", in.name, single, events)
		}
		if pack > single || pack < BillingUnits(n) {
			t.Errorf("%s: packed %d units, single %d, minimum %d", in.name, pack, single, BillingUnits(n))
		}
		t.Logf("%-40s %8d %12d %10d %9d %9d %7.1f%%", in.name, events, n, recs, single, pack, 100*(1-float64(pack)/float64(single)))
	}
}

// eventsFile loads the DATA_MESSAGE records of a sample Lambda event file.
func eventsFile(t *testing.T, path string) (*sink.Batch, error) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	inv, err := invocation.Parse(raw)
	if err != nil {
		return nil, err
	}
	dec := subscription.NewDecoder(0)
	b := &sink.Batch{ShardID: "sample"}
	for _, r := range inv.Records {
		m, err := dec.Decode(r.Data)
		if err != nil || m.IsControl() {
			continue // poison and control records never reach a sink
		}
		b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: r.SequenceNumber, Message: m})
	}
	if len(b.Records) == 0 {
		return nil, fmt.Errorf("no data records")
	}
	return b, nil
}
