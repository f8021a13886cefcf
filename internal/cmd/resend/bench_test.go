package resend

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/sink/s3sink"
	"github.com/logfan/logfan/shared/subscription"
)

// memS3 is an in-memory bucket: the archive and the progress records,
// so the benchmark measures resend's own work, not a network.
type memS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (m *memS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.objects[aws.ToString(in.Key)] = b
	m.mu.Unlock()
	return &s3.PutObjectOutput{}, nil
}

func (m *memS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.mu.Lock()
	b, ok := m.objects[aws.ToString(in.Key)]
	m.mu.Unlock()
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

func (m *memS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prefix, delim := aws.ToString(in.Prefix), aws.ToString(in.Delimiter)
	out := &s3.ListObjectsV2Output{}
	seen := map[string]bool{}
	var keys []string
	for k := range m.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+1]
				if !seen[cp] {
					seen[cp] = true
					out.CommonPrefixes = append(out.CommonPrefixes, types.CommonPrefix{Prefix: aws.String(cp)})
				}
				continue
			}
		}
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(m.objects[k])))})
	}
	return out, nil
}

// archiveInMemory runs the S3 sink on nRecords sample records of 1,000
// events into a memS3 and returns it, the events and their NDJSON bytes.
func archiveInMemory(tb testing.TB, nRecords int) (*memS3, int, int64) {
	tb.Helper()
	mem := &memS3{objects: map[string][]byte{}}
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
	start := rusage(b)
	return func() {
		if d := rusage(b) - start; d > 0 {
			b.ReportMetric(float64(events*b.N)/d.Seconds(), "cpu-events/s")
		}
	}
}

func rusage(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
