package app_test

import (
	"context"
	"log/slog"
	"maps"
	"testing"

	"github.com/logfan/logfan/internal/devkit/cputime"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/quarantine"
)

// BenchmarkHealth is the whole S3 path of a ~1.4 MB invocation of 100
// records (51 owners, 54 log groups: routedInvocation, no routes) without
// sender health at all (impl=off: the handler as it was before) and with
// it writing to its table (impl=health: heartbeat recognition, the
// per-record aggregation, the flush; UpdateItem answered by the fake
// transport). The first invocation writes every key; the measured ones are
// the steady state, where no key is due again within the minute. The
// ratio is sender health's cost per event in CPU and allocation.
func BenchmarkHealth(b *testing.B) {
	payload, size, nEvents := routedInvocation(b)
	for _, impl := range []string{"off", "health"} {
		b.Run("sink=s3/impl="+impl, func(b *testing.B) {
			env := maps.Clone(fakeEnv)
			if impl == "health" {
				env[config.EnvHealthTable] = "health"
			}
			cfg, err := config.Load(config.SinkS3, getenv(env))
			if err != nil {
				b.Fatal(err)
			}
			tr := &fakeaws.Transport{}
			var sum consumer.Summary
			h, err := app.NewHandler(cfg, fakeConfig(tr), fakeBuilders(tr)[config.SinkS3], app.Deps{
				Logger: slog.New(slog.DiscardHandler), Quarantine: &quarantine.Memory{}, NoHealth: impl == "off",
				OnSummary: func(s consumer.Summary) { sum = s },
			})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.Invoke(context.Background(), payload); err != nil || sum.Delivered != nEvents || sum.HealthErr != "" {
				b.Fatalf("summary %+v (%v): want %d events delivered", sum, err, nEvents)
			}
			if impl == "health" && sum.HealthWrites == 0 {
				b.Fatal("no sender-health writes: the table is not exercised")
			}
			b.SetBytes(size)
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/1e3/float64(b.N*nEvents), "cpu-µs/event")
		})
	}
}
