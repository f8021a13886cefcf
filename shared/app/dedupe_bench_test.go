package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"testing"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/cputime"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/quarantine"
)

// BenchmarkDedupe is the whole path of a ~1.3 MB invocation (10 records x
// 1,000 events, no faults) through app.NewHandler per sink, with the ledger
// off and on (impl=ledger: its GetItem, answered "no entry" by the fake
// transport, runs beside decoding). The ratio is the ledger's cost on the
// happy path in CPU and allocation; the GetItem's network time is not in
// it (see docs/design.md, "Effectively once: the ledger").
func BenchmarkDedupe(b *testing.B) {
	payloads := benchinput.Payloads(1, 10, 1000, eventgen.KindApp)
	payload, err := json.Marshal(invocation.NewKinesisEvent(invocation.Stream{}, payloads))
	if err != nil {
		b.Fatal(err)
	}
	size := benchinput.UncompressedSize(payloads)
	for _, sinkName := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		for _, impl := range []string{"off", "ledger"} {
			b.Run("sink="+sinkName+"/impl="+impl, func(b *testing.B) {
				env := maps.Clone(fakeEnv)
				if impl == "ledger" {
					env[config.EnvLedgerTable] = "ledger"
				}
				cfg, err := config.Load(sinkName, getenv(env))
				if err != nil {
					b.Fatal(err)
				}
				tr := &fakeaws.Transport{}
				h, err := app.NewHandler(cfg, fakeConfig(tr), fakeBuilders(tr)[sinkName], app.Deps{Logger: slog.New(slog.DiscardHandler), Quarantine: &quarantine.Memory{}})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(size)
				b.ReportAllocs()
				calls0, cpu0 := tr.Calls(), cputime.Process()
				for b.Loop() {
					if _, err := h.Invoke(context.Background(), payload); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(tr.Calls()-calls0)/float64(b.N), "calls/op")
				b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
