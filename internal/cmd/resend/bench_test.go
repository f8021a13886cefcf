package resend

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/cputime"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/sink/s3sink"
	"github.com/logfan/logfan/shared/subscription"
)

// archiveInMemory runs the S3 sink on nRecords sample records of 1,000
// events into an in-memory bucket and returns it, the events and their NDJSON bytes.
func archiveInMemory(tb testing.TB, nRecords int) (*fakeaws.S3, int, int64) {
	tb.Helper()
	mem := &fakeaws.S3{}
	dec := subscription.NewDecoder(0)
	b := &sink.Batch{ShardID: "shardId-000000000000"}
	events := 0
	for i, p := range benchinput.Payloads(1, nRecords, 1000, "app") {
		m, err := dec.Decode(p)
		if err != nil {
			tb.Fatal(err)
		}
		events += len(m.LogEvents)
		b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: fmt.Sprint(i + 1), Message: m})
	}
	res := s3sink.New(mem, config.S3{Bucket: "archive", Prefix: "logs"}).Deliver(context.Background(), b)
	if res.FailedAt >= 0 {
		tb.Fatal(res.Err)
	}
	return mem, events, res.Bytes
}

// BenchmarkResend resends an archive of 40,000 sample events (40 records
// of 1,000, four owners and log groups) to a Firehose target through its
// real handler, over an in-memory bucket and a fake HTTP transport: the
// rate of resend's own work on one core, reading, selecting, rebuilding
// records, decoding them in the handler and the Firehose sink's encoding.
// MB/s is of the archive's NDJSON; BenchmarkDecodeSame decodes the same
// events as subscription payloads, for comparison in the same run:
//
//	go test -run '^$' -bench 'Resend|DecodeSame' -benchtime 20x -cpu 1 ./internal/cmd/resend
func BenchmarkResend(b *testing.B) {
	mem, events, ndjson := archiveInMemory(b, 40)
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		HTTPClient: &http.Client{Transport: &fakeaws.Transport{}}}
	vars := map[string]string{config.EnvQuarantineBucket: "quarantine-bucket", config.EnvFirehoseStream: "siem"}
	cfg, err := config.Load(config.SinkFirehose, func(k string) string { return vars[k] })
	if err != nil {
		b.Fatal(err)
	}
	if cfg.Routes, err = config.ParseRoutes([]byte(`[{"name":"resend","to":["firehose"]}]`), cfg.RouteDefaults()); err != nil {
		b.Fatal(err)
	}
	target := &Target{Name: "firehose:siem", Destination: "firehose:siem", Kind: routes.SinkFirehose, Routes: cfg.Routes,
		NewHandler: func(context.Context) (Handler, error) {
			build, _ := anysink.Builder(config.SinkFirehose, nil)
			return app.NewHandler(cfg, awsCfg, build, app.Deps{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), NoHealth: true})
		}}
	b.SetBytes(ndjson)
	b.ResetTimer()
	start := time.Now()
	report := benchinput.CPUStart(b, ndjson)
	cpuEvents := cpuEventsStart(b, events)
	for i := range b.N {
		rep, err := Options{S3: mem, Bucket: "archive", Prefix: "logs", Targets: []*Target{target}, Parallel: 1,
			ProgressBucket: "archive", ProgressPrefix: fmt.Sprintf("progress/%d", i)}.Run(context.Background())
		if err != nil || rep.Targets[0].Delivered != events {
			b.Fatalf("%v: %+v", err, rep)
		}
	}
	report()
	cpuEvents()
	b.ReportMetric(float64(events*b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkDecodeSame decodes the benchmark's events as the 40
// subscription payloads they came from: the handler's decode alone.
func BenchmarkDecodeSame(b *testing.B) {
	payloads := benchinput.Payloads(1, 40, 1000, "app")
	dec := subscription.NewDecoder(0)
	_, _, ndjson := archiveInMemory(b, 40)
	b.SetBytes(ndjson)
	b.ResetTimer()
	start := time.Now()
	report := benchinput.CPUStart(b, ndjson)
	cpuEvents := cpuEventsStart(b, 40_000)
	for range b.N {
		for _, p := range payloads {
			if _, err := dec.Decode(p); err != nil {
				b.Fatal(err)
			}
		}
	}
	report()
	cpuEvents()
	b.ReportMetric(float64(40_000*b.N)/time.Since(start).Seconds(), "events/s")
}

// cpuEventsStart reports events per CPU second (all threads), steadier
// than events per wall second on a shared machine.
func cpuEventsStart(b *testing.B, events int) func() {
	start := cputime.Process()
	return func() {
		if d := cputime.Process() - start; d > 0 {
			b.ReportMetric(float64(events*b.N)/d.Seconds(), "cpu-events/s")
		}
	}
}
