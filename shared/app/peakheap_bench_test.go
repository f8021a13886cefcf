package app_test

import (
	"context"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/config"
)

// stackMemoryMB is the stack's default function memory size
// (cdk/recipient, context key functionMemoryMB), whose GOMEMLIMIT the
// stack sets (config.GoMemLimit).
const stackMemoryMB = 512

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
			h := fakeHandler(b, sinkName)
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
