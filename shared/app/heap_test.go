package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/sink/firehosesink"
	"github.com/logfan/logfan/shared/sink/logssink"
	"github.com/logfan/logfan/shared/sink/s3sink"
)

// maxInvocation is Lambda's invocation payload limit.
const maxInvocation = 6 << 20

// sixMBInvocation builds a Kinesis event just under 6 MB of poorly
// compressible records (the worst case for memory: the most events per byte
// of payload is realistic data, the most bytes is random data; both are
// measured).
func sixMBInvocation(tb testing.TB, kind string) ([]byte, int) {
	tb.Helper()
	all := benchinput.Payloads(42, 400, 250, kind)
	lo, hi := 1, len(all)
	for lo < hi { // largest prefix that fits
		mid := (lo + hi + 1) / 2
		b, _ := json.Marshal(invocation.NewKinesisEvent(invocation.Stream{}, all[:mid]))
		if len(b) <= maxInvocation {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	b, err := json.Marshal(invocation.NewKinesisEvent(invocation.Stream{}, all[:lo]))
	if err != nil {
		tb.Fatal(err)
	}
	return b, lo * 250
}

func fakeConfig(tr http.RoundTripper) aws.Config {
	c := fakeaws.Config("us-east-1", tr)
	c.Retryer = func() aws.Retryer { return aws.NopRetryer{} } // as app.NewHandler sets
	return c
}

// fakeBuilders are the real sinks' builders on an SDK configuration whose
// requests go to a fake transport (no network, no credentials chain).
func fakeBuilders(tr http.RoundTripper) map[string]app.Builder {
	c := fakeConfig(tr)
	on := func(build app.Builder) app.Builder {
		return func(_ aws.Config, cfg *config.Config, p retry.Policy) (sink.Sink, error) { return build(c, cfg, p) }
	}
	return map[string]app.Builder{
		config.SinkS3:       on(s3sink.Build),
		config.SinkFirehose: on(firehosesink.Build),
		config.SinkLogs:     on(logssink.Build),
	}
}

var fakeEnv = map[string]string{
	config.EnvS3Bucket: "data", config.EnvFirehoseStream: "fh", config.EnvLogsRegion: "eu-west-1", config.EnvQuarantineBucket: "quarantine",
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// peakHeap runs f and returns the largest heap the runtime reported while it
// ran (live and not yet collected objects), sampled without stopping the world.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	return <-done
}

// TestPeakHeapSixMBInvocation holds the memory budget: a 6 MB invocation
// through any real handler must peak under 96 MB of heap with the GOMEMLIMIT
// the stack gives a 128 MB function, so that the functions run at 128–256 MB.
// The peak without a limit (GOGC's headroom only) is logged beside it.
func TestPeakHeapSixMBInvocation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 6 MB invocation")
	}
	const budget = 96 << 20
	limit, err := strconv.ParseInt(strings.TrimSuffix(config.GoMemLimit(128), "MiB"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{eventgen.KindRandom, eventgen.KindApp} {
		payload, nEvents := sixMBInvocation(t, kind)
		for _, sinkName := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
			tr := &fakeaws.Transport{}
			cfg, err := config.Load(sinkName, getenv(fakeEnv))
			if err != nil {
				t.Fatal(err)
			}
			h, err := app.NewHandler(cfg, aws.Config{}, fakeBuilders(tr)[sinkName], app.Deps{Logger: slog.New(slog.DiscardHandler), Quarantine: &quarantine.Memory{}})
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			unlimited := peakHeap(func() { out, err = lambda.NewHandler(h).Invoke(context.Background(), payload) })
			if err != nil {
				t.Fatal(err)
			}
			old := debug.SetMemoryLimit(limit << 20)
			peak := peakHeap(func() { out, err = lambda.NewHandler(h).Invoke(context.Background(), payload) })
			debug.SetMemoryLimit(old)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.KinesisEventResponse
			if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("%s: response %s (%v)", sinkName, out, err)
			}
			t.Logf("%-8s %-6s %d-byte invocation, %d events: peak heap %.1f MB with GOMEMLIMIT=%dMiB (%.1f MB with none)", sinkName, kind, len(payload), nEvents, float64(peak)/(1<<20), limit, float64(unlimited)/(1<<20))
			if peak > budget {
				t.Errorf("%s %s: peak heap %.1f MB over the %d MB budget", sinkName, kind, float64(peak)/(1<<20), budget>>20)
			}
		}
	}
}

// BenchmarkSixMBInvocation reports allocation per 6 MB invocation per sink (profile with -memprofile).
func BenchmarkSixMBInvocation(b *testing.B) {
	payload, _ := sixMBInvocation(b, eventgen.KindApp)
	for _, sinkName := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		b.Run("sink="+sinkName, func(b *testing.B) {
			h := fakeHandler(b, sinkName)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fakeHandler is sinkName's handler on the fake transport, quarantining in memory.
func fakeHandler(b *testing.B, sinkName string) *consumer.Handler {
	b.Helper()
	cfg, err := config.Load(sinkName, getenv(fakeEnv))
	if err != nil {
		b.Fatal(err)
	}
	h, err := app.NewHandler(cfg, aws.Config{}, fakeBuilders(&fakeaws.Transport{})[sinkName], app.Deps{Logger: slog.New(slog.DiscardHandler), Quarantine: &quarantine.Memory{}})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// TestPeakHeapNearTheCap holds the same budget for the worst single
// payload: a record that inflates to just under the decompression cap the
// smallest function (128 MB) derives from its memory, of short events (the
// most records to build) and of long ones, through every real handler with
// that function's GOMEMLIMIT. With the old fixed 64 MiB cap the same
// payload peaked at 138-146 MB of heap; internal/cmd/invoke measures the
// resident set of the real bootstrap under the runtime emulator.
func TestPeakHeapNearTheCap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds payloads of 16 MiB")
	}
	const memoryMB, budget = 128, 96 << 20
	limit, err := strconv.ParseInt(strings.TrimSuffix(config.GoMemLimit(memoryMB), "MiB"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{config.EnvLambdaMemory: strconv.Itoa(memoryMB)}
	for k, v := range fakeEnv {
		env[k] = v
	}
	for _, messageBytes := range []int{120, 1000} {
		payload := benchinput.NearCapPayload(config.MaxDecompressedFor(memoryMB), messageBytes)
		ev, err := json.Marshal(invocation.NewKinesisEvent(invocation.Stream{}, [][]byte{payload}))
		if err != nil {
			t.Fatal(err)
		}
		for _, sinkName := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
			cfg, err := config.Load(sinkName, getenv(env))
			if err != nil {
				t.Fatal(err)
			}
			var sum consumer.Summary
			h, err := app.NewHandler(cfg, aws.Config{}, fakeBuilders(&fakeaws.Transport{})[sinkName],
				app.Deps{Logger: slog.New(slog.DiscardHandler), Quarantine: &quarantine.Memory{}, OnSummary: func(s consumer.Summary) { sum = s }})
			if err != nil {
				t.Fatal(err)
			}
			old := debug.SetMemoryLimit(limit << 20)
			peak := peakHeap(func() { _, err = lambda.NewHandler(h).Invoke(context.Background(), ev) })
			debug.SetMemoryLimit(old)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Events == 0 || sum.Delivered != sum.Events || len(sum.Poison) != 0 {
				t.Fatalf("%s: %d of %d events delivered, poison %v", sinkName, sum.Delivered, sum.Events, sum.Poison)
			}
			t.Logf("%-8s %4d-byte events, payload near the %d-byte cap: peak heap %.1f MB with GOMEMLIMIT=%dMiB", sinkName, messageBytes, cfg.MaxDecompressed, float64(peak)/(1<<20), limit)
			if peak > budget {
				t.Errorf("%s %d-byte events: peak heap %.1f MB over the %d MB budget", sinkName, messageBytes, float64(peak)/(1<<20), budget>>20)
			}
		}
	}
}
