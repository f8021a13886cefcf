package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/internal/devkit/cputime"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/quarantine"
)

// fiftyRoutes is a table of 50 routes over realistic log-group names: 49
// teams by owner and log group, then the rest to the default prefix. A
// record of the rest falls through all 49. The teams share one S3 prefix,
// or, with prefixPerTeam, each has its own (50 targets).
func fiftyRoutes(prefixPerTeam bool) string {
	var b strings.Builder
	b.WriteString("[")
	for i := range 49 {
		prefix := "teams"
		if prefixPerTeam {
			prefix = fmt.Sprintf("team%d", i)
		}
		fmt.Fprintf(&b, `{"name":"team%d","match":{"owners":["%012d"],"logGroups":["/aws/lambda/team%d-*","/ecs/team%d/**"]},"to":[{"sink":"s3","prefix":%q}]},`, i, 100000000000+i, i, i, prefix)
	}
	b.WriteString(`{"name":"rest","to":["s3"]}]`)
	return b.String()
}

// routedInvocation is a ~1.4 MB Kinesis invocation of 100 records of 100
// events from 20 log streams: half of the records belong to teams spread
// over the table, half fall through to the last route.
func routedInvocation(tb testing.TB) ([]byte, int64, int) {
	tb.Helper()
	g := eventgen.New(50)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rest := []string{"/aws/lambda/orders-api", "/aws/cloudtrail/org-trail", "/aws/lambda/payments-webhook", "/aws/vpc/flow-logs/prod", "/aws/ecs/containerinsights/prod/performance"}
	var datas [][]byte
	var size int64
	for i := range 100 {
		src := eventgen.Source{Owner: "999999999999", LogGroup: rest[i%len(rest)], LogStream: fmt.Sprintf("2026/01/01/[$LATEST]%08x", i%10)}
		if i%2 == 0 {
			team := (i / 2 * 11) % 49 // 11 is coprime to 49: every team, spread over the table
			src = eventgen.Source{Owner: fmt.Sprintf("%012d", 100000000000+team), LogGroup: fmt.Sprintf("/aws/lambda/team%d-checkout", team), LogStream: fmt.Sprintf("2026/01/01/[$LATEST]%08x", i%10)}
		}
		m := g.Message(src, 100, start.Add(time.Duration(i)*time.Second), 5*time.Millisecond, 120)
		p := eventgen.MustPayload(m)
		datas = append(datas, p)
		js, _ := json.Marshal(m)
		size += int64(len(js))
	}
	payload, err := json.Marshal(invocation.NewKinesisEvent(invocation.Stream{}, datas))
	if err != nil {
		tb.Fatal(err)
	}
	return payload, size, 100 * 100
}

// BenchmarkRouting is the whole S3 path (decode, route, encode, the SDK on
// a fake transport) of one invocation without routes and with a 50-route
// table that sends every event to one of two S3 prefixes (routed50): the
// cost of routing. routed50targets gives each team its own prefix: 50
// targets, so 50 sink deliveries per invocation instead of one or two.
func BenchmarkRouting(b *testing.B) {
	payload, size, nEvents := routedInvocation(b)
	for _, impl := range []string{"unrouted", "routed50", "routed50targets"} {
		b.Run("sink=s3/impl="+impl, func(b *testing.B) {
			env := map[string]string{}
			for k, v := range fakeEnv {
				env[k] = v
			}
			if impl != "unrouted" {
				env[config.EnvRoutes] = fiftyRoutes(impl == "routed50targets")
			}
			cfg, err := config.Load(config.SinkS3, getenv(env))
			if err != nil {
				b.Fatal(err)
			}
			var sum consumer.Summary
			h, err := app.NewHandler(cfg, aws.Config{}, fakeBuilders(&fakeaws.Transport{})[config.SinkS3], app.Deps{
				Logger: slog.New(slog.DiscardHandler), Quarantine: &quarantine.Memory{}, OnSummary: func(s consumer.Summary) { sum = s },
			})
			if err != nil {
				b.Fatal(err)
			}
			// Equal work: both deliver every event once.
			if _, err := h.Invoke(context.Background(), payload); err != nil || sum.Delivered != nEvents || sum.Dropped != 0 || sum.RetryFrom != "" {
				b.Fatalf("summary %+v (%v): want %d events delivered", sum, err, nEvents)
			}
			if impl != "unrouted" && len(sum.Routes) < 20 {
				b.Fatalf("only %d routes matched: the table is not exercised", len(sum.Routes))
			}
			b.SetBytes(size)
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*nEvents), "µs/event")
			// CPU time (all threads, GC included) is steadier than wall time on a shared machine.
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/1e3/float64(b.N*nEvents), "cpu-µs/event")
		})
	}
}
