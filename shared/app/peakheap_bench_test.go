package app_test

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
)

// stackMemoryMB is the stack's default function memory size
// (cdk/recipient, context key functionMemoryMB), whose GOMEMLIMIT the
// stack sets (config.GoMemLimit).
const stackMemoryMB = 1024

// BenchmarkPeakHeap reports the peak heap (peak-MB, the largest over the
// iterations) of a 6 MB invocation of realistic records through each real
// handler, with the GOMEMLIMIT the stack gives a function of its default
// memory size and the default GOGC: the memory figure `make cost` uses to
// size the function. A benchmark, not a test, because the figure depends
// on when the collector runs.
func BenchmarkPeakHeap(b *testing.B) {
	limit, err := strconv.ParseInt(strings.TrimSuffix(config.GoMemLimit(stackMemoryMB), "MiB"), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	payload, _ := sixMBInvocation(b, eventgen.KindApp)
	for _, sinkName := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		b.Run("sink="+sinkName, func(b *testing.B) {
			cfg, err := config.Load(sinkName, getenv(fakeEnv))
			if err != nil {
				b.Fatal(err)
			}
			h, err := app.NewHandler(cfg, aws.Config{}, fakeBuilders(&fakeaws.Transport{})[sinkName], app.Deps{Logger: slog.New(slog.DiscardHandler), Quarantine: &quarantine.Memory{}})
			if err != nil {
				b.Fatal(err)
			}
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit << 20))
			handler := lambda.NewHandler(h)
			var peak uint64
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				peak = max(peak, peakHeap(func() {
					if _, err = handler.Invoke(context.Background(), payload); err != nil {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(float64(peak)/1e6, "peak-MB") // 10^6 bytes, as benchstat reads "MB"
		})
	}
}
