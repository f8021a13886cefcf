package senders_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/cmd/senders"
	"github.com/logfan/logfan/internal/devkit/deployed"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// TestSendersOnMoto: `logfan senders` over a table on moto, with the
// states, traffic, log groups, JSON and -check.
func TestSendersOnMoto(t *testing.T) {
	const table = "senders-health"
	s := dynamohealth.New(emutest.HealthTable(t, srv, table), table)
	ctx := context.Background()
	now := time.Now()
	for _, u := range []health.SenderUpdate{
		{Account: "111111111111", Region: emulator.Region, LastHeartbeat: now.Add(-time.Minute).UnixMilli(), Heartbeats: 3},
		{Account: "222222222222", Region: emulator.Region, LastHeartbeat: now.Add(-20 * time.Minute).UnixMilli(), Heartbeats: 3},
		{Account: "999999999999", Region: emulator.Region, LastHeartbeat: now.Add(-time.Minute).UnixMilli(), Heartbeats: 1},
	} {
		if err := s.WriteSender(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []health.LogGroupUpdate{
		{Account: "111111111111", Region: emulator.Region, LogGroup: "/aws/lambda/orders", Day: health.Day(now), LastEvent: now.Add(-2 * time.Minute).UnixMilli(), Events: 120, Bytes: 24000},
		{Account: "111111111111", Region: "", LogGroup: "/aws/lambda/payments", Day: health.Day(now), LastEvent: now.Add(-3 * time.Minute).UnixMilli(), Events: 30, Bytes: 3000},
		{Account: "111111111111", Region: emulator.Region, LogGroup: "/aws/lambda/orders", Day: health.Day(now.AddDate(0, 0, -1)), LastEvent: now.Add(-24 * time.Hour).UnixMilli(), Events: 1000, Bytes: 2_000_000},
	} {
		if err := s.WriteLogGroup(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{config.EnvHealthTable: table}
	getenv := func(k string) string { return env[k] }
	list := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := senders.RunEnv(ctx, append([]string{"-accounts", "111111111111,222222222222,333333333333", "-regions", emulator.Region}, args...), getenv, &out, &errOut, nil)
		return out.String(), err
	}

	out, err := list()
	if err != nil {
		t.Fatal(err)
	}
	// Compare with the columns' padding collapsed to one space.
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"ACCOUNT REGION STATE LAST HEARTBEAT LAST EVENT",
		"111111111111 " + emulator.Region + " ok", "222222222222 " + emulator.Region + " silent", "333333333333 " + emulator.Region + " never seen", "999999999999 " + emulator.Region + " unexpected",
		"4 senders: 1 ok, 1 silent, 1 never seen, 1 unexpected",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// One region: the payments group without a region is the account's too: 150 events today over 2 groups.
	if !strings.Contains(flat, "ago) 150 27.0 kB 1000 2.0 MB 2 222222222222") {
		t.Errorf("111111111111's traffic is not 150 events, 27.0 kB today, 1000, 2.0 MB yesterday, 2 groups:\n%s", out)
	}
	if strings.Contains(out, "/aws/lambda/orders") {
		t.Errorf("log groups listed without -log-groups:\n%s", out)
	}
	out, err = list("-log-groups")
	if err != nil || !strings.Contains(out, "  /aws/lambda/orders") || !strings.Contains(out, "  /aws/lambda/payments") {
		t.Errorf("-log-groups (%v):\n%s", err, out)
	}
	out, err = list("-json", "-log-groups")
	if err != nil {
		t.Fatal(err)
	}
	var rep health.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("-json: %v\n%s", err, out)
	}
	if len(rep.Senders) != 4 || rep.Silent != 1 || rep.Senders[0].EventsToday != 150 || len(rep.Senders[0].LogGroups) != 2 {
		t.Errorf("-json report %+v", rep)
	}
	if _, err := list("-check"); err == nil || !strings.Contains(err.Error(), "222222222222/"+emulator.Region) {
		t.Errorf("-check = %v, want an error naming the silent sender", err)
	}
	// The same with 222222222222 no longer expected: nothing silent, -check passes.
	var out2, errOut bytes.Buffer
	if err := senders.RunEnv(ctx, []string{"-accounts", "111111111111", "-regions", emulator.Region, "-check"}, getenv, &out2, &errOut, nil); err != nil {
		t.Errorf("-check without the silent sender: %v\n%s", err, out2.String())
	}
}

func TestSendersNeedsATable(t *testing.T) {
	var out, errOut bytes.Buffer
	err := senders.RunEnv(context.Background(), nil, func(string) string { return "" }, &out, &errOut, nil)
	if err == nil || !strings.Contains(err.Error(), config.EnvHealthTable) {
		t.Errorf("err = %v, want one naming -table and %s", err, config.EnvHealthTable)
	}
}

// TestSendersFromTheStack: with the stack's name alone, `logfan senders`
// reads the table from its output and the expectations from its watchdog's
// environment; a flag still overrides one of them.
func TestSendersFromTheStack(t *testing.T) {
	cfg := emutest.Config(t, srv, emulator.Region)
	ctx := context.Background()
	const table = "senders-stack-health"
	if err := dynamohealth.New(emutest.HealthTable(t, srv, table), table).WriteSender(ctx, health.SenderUpdate{
		Account: "111111111111", Region: emulator.Region, LastHeartbeat: time.Now().Add(-time.Minute).UnixMilli(), Heartbeats: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := deployed.Register(ctx, deployed.NewClients(cfg), deployed.Stack{
		Name: "SendersStack", Outputs: map[string]string{naming.OutputHealthTable: table},
		Functions: []deployed.Function{{Key: "watchdog", Name: "SendersStack-WatchdogFunction", Output: naming.OutputWatchdogFunction, Env: map[string]string{
			config.EnvHealthTable: table, config.EnvExpectedAccounts: "111111111111,444444444444", config.EnvExpectedRegions: emulator.Region,
			config.EnvSenderMode: config.SenderModeAccounts, config.EnvHeartbeatMinutes: "5", config.EnvSilentAfterMinutes: "15", config.EnvForgetSendersAfterDays: "7",
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := senders.RunEnv(ctx, args, func(string) string { return "" }, &out, &errOut, nil); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, errOut.String())
		}
		return strings.Join(strings.Fields(out.String()), " ")
	}
	out := run("-stack", "SendersStack", "-region", emulator.Region)
	if !strings.Contains(out, "111111111111 "+emulator.Region+" ok") || !strings.Contains(out, "444444444444 "+emulator.Region+" never seen") {
		t.Errorf("from the stack:\n%s", out)
	}
	out = run("-stack", "SendersStack", "-region", emulator.Region, "-accounts", "111111111111")
	if strings.Contains(out, "444444444444") {
		t.Errorf("-accounts did not override the watchdog's expectations:\n%s", out)
	}
}
