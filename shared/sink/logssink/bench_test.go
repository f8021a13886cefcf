package logssink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// okTransport answers every request the way a successful PutLogEvents does,
// after reading the request body, as a real connection would.
type okTransport struct {
	mu   sync.Mutex
	keep func(body []byte) // optional: sees each PutLogEvents request body
}

const okBody = `{"nextSequenceToken":"1"}`

func (t *okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		if t.keep != nil && faults.IsOperation(req, "PutLogEvents") {
			body, _ := io.ReadAll(req.Body)
			t.mu.Lock()
			t.keep(body)
			t.mu.Unlock()
		} else {
			_, _ = io.Copy(io.Discard, req.Body)
		}
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {"bench"}},
		Body:          io.NopCloser(strings.NewReader(okBody)),
		ContentLength: int64(len(okBody)),
		Request:       req,
	}, nil
}

// fakeClient is a real CloudWatch Logs client (serialization, SigV4
// signing, retry middleware) whose HTTP transport never leaves the process.
func fakeClient(rt http.RoundTripper) *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(fakeaws.Config(targetRegion, rt))
}

// naiveDeliver is the baseline: every event in arrival order into one
// group and stream, a new PutLogEvents batch whenever any limit would
// break (count, bytes, 24 h span, or a timestamp going backwards), no
// sorting, no UTF-8 repair, SDK-style *string/*int64 per event.
func naiveDeliver(ctx context.Context, client *cloudwatchlogs.Client, msgs []*subscription.Message) (int, error) {
	group, stream := "/logfan/naive", "all"
	var (
		batch       []types.InputLogEvent
		size        int
		first, last int64
		sent        int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream, LogEvents: batch})
		sent += len(batch)
		batch, size = nil, 0
		return err
	}
	for _, m := range msgs {
		for _, e := range m.LogEvents {
			n := len(e.Message) + EventOverhead
			if len(batch) > 0 && (len(batch) == DefaultMaxBatchEvents || size+n > DefaultMaxBatchBytes ||
				e.Timestamp-first > DefaultMaxSpanMillis || e.Timestamp < last) {
				if err := flush(); err != nil {
					return sent, err
				}
			}
			if len(batch) == 0 {
				first = e.Timestamp
			}
			batch = append(batch, types.InputLogEvent{Message: aws.String(e.Message), Timestamp: aws.Int64(e.Timestamp)})
			size += n
			last = e.Timestamp
		}
	}
	return sent, flush()
}

func benchSink(client *cloudwatchlogs.Client) *Sink {
	return New(client, config.Logs{Region: targetRegion, RetentionDays: 30})
}

// oursDeliver is the pipeline the logs function runs: the tuned decoder,
// then Deliver (per-stream grouping, sorting, exact batching, the SDK).
func oursDeliver(ctx context.Context, s *Sink, dec *subscription.Decoder, payloads [][]byte, seqs []string, recs []sink.DecodedRecord) (sink.Result, error) {
	batch := &sink.Batch{ShardID: "shardId-000000000000", Records: recs[:0]}
	for i, p := range payloads {
		m, err := dec.Decode(p)
		if err != nil {
			return sink.Result{}, err
		}
		batch.Records = append(batch.Records, sink.DecodedRecord{SequenceNumber: seqs[i], Message: m})
	}
	return s.Deliver(ctx, batch), nil
}

var benchKinds = []string{eventgen.KindApp, eventgen.KindCloudTrail, eventgen.KindRandom}

// BenchmarkLogsPipeline measures decode + prepare + the SDK client's own
// CPU (fake transport) per invocation of 10 records x 1,000 events, ours
// beside the naive pipeline, in MB/s of uncompressed JSON and µs/event.
func BenchmarkLogsPipeline(b *testing.B) {
	ctx := context.Background()
	for _, kind := range benchKinds {
		payloads := benchinput.Payloads(7, 10, 1000, kind)
		raw := benchinput.UncompressedSize(payloads)
		events := 10 * 1000
		seqs := make([]string, len(payloads))
		for i := range seqs {
			seqs[i] = fmt.Sprintf("%056d", i)
		}
		b.Run("decode/"+kind, func(b *testing.B) { benchinput.DecodeOnly(b, payloads) })
		b.Run("naive/"+kind, func(b *testing.B) {
			client := fakeClient(&okTransport{})
			b.SetBytes(raw)
			defer benchinput.CPUStart(b, raw)()
			b.ReportAllocs()
			for b.Loop() {
				msgs := make([]*subscription.Message, len(payloads))
				for i, p := range payloads {
					m, err := benchinput.NaiveDecode(p)
					if err != nil {
						b.Fatal(err)
					}
					msgs[i] = m
				}
				if n, err := naiveDeliver(ctx, client, msgs); err != nil || n != events {
					b.Fatalf("naive sent %d: %v", n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*events), "µs/event")
		})
		b.Run("ours/"+kind, func(b *testing.B) {
			s := benchSink(fakeClient(&okTransport{}))
			dec := subscription.NewDecoder(0)
			recs := make([]sink.DecodedRecord, 0, len(payloads))
			b.SetBytes(raw)
			defer benchinput.CPUStart(b, raw)()
			b.ReportAllocs()
			for b.Loop() {
				res, err := oursDeliver(ctx, s, dec, payloads, seqs, recs)
				if err != nil || res.FailedAt != -1 || res.Delivered != events {
					b.Fatalf("ours: %+v %v", res, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*events), "µs/event")
		})
	}
}

// BenchmarkLogsSinkOnly isolates the sink (prepare + SDK) from decoding:
// already decoded messages, naive batching vs Deliver.
func BenchmarkLogsSinkOnly(b *testing.B) {
	ctx := context.Background()
	payloads := benchinput.Payloads(7, 10, 1000, eventgen.KindApp)
	raw := benchinput.UncompressedSize(payloads)
	batch := &sink.Batch{ShardID: "shardId-000000000000"}
	var msgs []*subscription.Message
	for i, p := range payloads {
		m, err := benchinput.NaiveDecode(p)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, m)
		batch.Records = append(batch.Records, sink.DecodedRecord{SequenceNumber: fmt.Sprint(i), Message: m})
	}
	events := batch.Events()
	b.Run("naive", func(b *testing.B) {
		client := fakeClient(&okTransport{})
		b.SetBytes(raw)
		defer benchinput.CPUStart(b, raw)()
		b.ReportAllocs()
		for b.Loop() {
			if n, err := naiveDeliver(ctx, client, msgs); err != nil || n != events {
				b.Fatal(n, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*events), "µs/event")
	})
	b.Run("ours", func(b *testing.B) {
		s := benchSink(fakeClient(&okTransport{}))
		b.SetBytes(raw)
		defer benchinput.CPUStart(b, raw)()
		b.ReportAllocs()
		for b.Loop() {
			if res := s.Deliver(ctx, batch); res.FailedAt != -1 || res.Delivered != events {
				b.Fatalf("%+v", res)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*events), "µs/event")
	})
}

// TestBenchPipelinesAgree checks that the two benchmarked pipelines put the
// same events on the wire (each exactly once), so the benchmark compares
// equal work, and that ours keeps every request within the limits.
func TestBenchPipelinesAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive, on one goroutine: -race finds nothing more here; the run without -short covers it")
	}
	ctx := context.Background()
	for _, kind := range benchKinds {
		const records, perRecord = 10, 300
		payloads := benchinput.Payloads(7, records, perRecord, kind)
		type tsMsg struct {
			ts  int64
			msg string
		}
		collect := func() (*okTransport, map[tsMsg]int, *[]putBody) {
			got := map[tsMsg]int{}
			var bodies []putBody
			return &okTransport{keep: func(body []byte) {
				var p putBody
				if err := json.NewDecoder(bytes.NewReader(body)).Decode(&p); err != nil {
					t.Error(err)
					return
				}
				bodies = append(bodies, p)
				for _, e := range p.Events {
					got[tsMsg{e.Timestamp, e.Message}]++
				}
			}}, got, &bodies
		}
		naiveRT, naiveGot, _ := collect()
		var msgs []*subscription.Message
		for _, p := range payloads {
			m, err := benchinput.NaiveDecode(p)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, m)
		}
		if _, err := naiveDeliver(ctx, fakeClient(naiveRT), msgs); err != nil {
			t.Fatal(err)
		}
		oursRT, oursGot, bodies := collect()
		seqs := make([]string, len(payloads))
		for i := range seqs {
			seqs[i] = fmt.Sprint(i)
		}
		res, err := oursDeliver(ctx, benchSink(fakeClient(oursRT)), subscription.NewDecoder(0), payloads, seqs, nil)
		if err != nil || res.FailedAt != -1 || res.Delivered != records*perRecord {
			t.Fatalf("%s: %+v %v", kind, res, err)
		}
		if len(naiveGot) == 0 || !maps.Equal(naiveGot, oursGot) {
			t.Fatalf("%s: the pipelines sent different events (%d vs %d distinct)", kind, len(naiveGot), len(oursGot))
		}
		for _, p := range *bodies {
			checkBody(t, p)
		}
	}
}
