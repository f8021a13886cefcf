package invoke

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
)

// TestShutdownWritesPendingHealth runs the S3 function's bootstrap with a
// sender-health table under the RIE: the first invocation writes each log
// group once, the second's counts wait in memory (a log-group key is
// written at most hourly), and SIGTERM at the instance's end writes them.
func TestShutdownWritesPendingHealth(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	d := deploy(t, "S3Function", "HealthShutdown", 0, map[string]string{config.EnvHealthTable: "health-shutdown"})
	if d.names.HealthTable != "health-shutdown" {
		t.Fatalf("local names %+v: the health table is not created", d.names)
	}
	cfg := emutest.Config(t, srv, emulator.Region)
	store := dynamohealth.New(dynamodb.NewFromConfig(cfg), "health-shutdown")
	events := func() int64 {
		t.Helper()
		items, err := store.LogGroupDays(ctx, health.Day(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		for _, it := range items {
			n += it.Events
		}
		return n
	}
	payload := sampleEvents(t)["kinesis-data.json"]
	for i := range 2 {
		res, err := d.rt.Invoke(ctx, payload)
		if err != nil || res.FunctionError || res.TimedOut {
			t.Fatalf("invocation %d: %+v, %v", i, res, err)
		}
	}
	first := events()
	if first == 0 {
		t.Fatalf("no events recorded after two invocations")
	}
	d.rt.Stop()
	if got := events(); got != 2*first {
		t.Errorf("after SIGTERM the table holds %d events, want both invocations' %d", got, 2*first)
	}
}
