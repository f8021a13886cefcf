package health

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/shared/config"
)

// fakeReader serves a table's contents and counts the day reads.
type fakeReader struct {
	senders []Sender
	days    map[string][]LogGroupDay
	reads   map[string]int
	err     error
}

func (f *fakeReader) Senders(context.Context) ([]Sender, error) { return f.senders, f.err }
func (f *fakeReader) LogGroupDays(_ context.Context, day string) ([]LogGroupDay, error) {
	if f.reads == nil {
		f.reads = map[string]int{}
	}
	f.reads[day]++
	return f.days[day], f.err
}

var wdNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func accounts(regions ...string) Settings {
	return Settings{Mode: config.SenderModeAccounts, Accounts: []string{"111111111111", "222222222222", "333333333333", "444444444444"}, Regions: regions,
		HeartbeatInterval: 5 * time.Minute, SilentAfter: 15 * time.Minute, ForgetAfter: 7 * 24 * time.Hour}
}

func states(r *Report) map[string]string {
	out := map[string]string{}
	for _, s := range r.Senders {
		out[s.Name()] = s.State
	}
	return out
}

func ago(d time.Duration) time.Time { return wdNow.Add(-d) }

// TestEvaluateStates: ok, late (two intervals), silent (SilentAfter),
// never seen, unexpected, and a heartbeat claiming nothing it may not.
func TestEvaluateStates(t *testing.T) {
	senders := []Sender{
		{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: ago(4 * time.Minute)},
		{Account: "222222222222", Region: "eu-west-1", LastHeartbeat: ago(11 * time.Minute)},
		{Account: "333333333333", Region: "eu-west-1", LastHeartbeat: ago(16 * time.Minute)},
		{Account: "999999999999", Region: "eu-west-1", LastHeartbeat: ago(time.Minute)},   // not expected, sending
		{Account: "888888888888", Region: "eu-west-1", LastHeartbeat: ago(3 * time.Hour)}, // not expected, quiet: not shown
	}
	rep := Evaluate(wdNow, accounts("eu-west-1"), senders, nil)
	want := map[string]string{
		"111111111111/eu-west-1": StateOK, "222222222222/eu-west-1": StateLate, "333333333333/eu-west-1": StateSilent,
		"444444444444/eu-west-1": StateNeverSeen, "999999999999/eu-west-1": StateUnexpected,
	}
	if got := states(rep); !equalMaps(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if rep.Silent != 1 || rep.Late != 1 || rep.NeverSeen != 1 || rep.Unexpected != 1 {
		t.Errorf("counts %+v", rep)
	}
	// The boundaries: exactly two intervals is still ok, exactly SilentAfter still late.
	rep = Evaluate(wdNow, accounts("eu-west-1"), []Sender{
		{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: ago(10 * time.Minute)},
		{Account: "222222222222", Region: "eu-west-1", LastHeartbeat: ago(15 * time.Minute)},
	}, nil)
	if got := states(rep); got["111111111111/eu-west-1"] != StateOK || got["222222222222/eu-west-1"] != StateLate {
		t.Errorf("boundaries: %v", got)
	}
}

// TestEvaluateRemovedAccount: an account taken out of the expectations is
// no longer silent; while it still sends it is unexpected.
func TestEvaluateRemovedAccount(t *testing.T) {
	s := accounts("eu-west-1")
	s.Accounts = []string{"111111111111"}
	quiet := []Sender{{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: ago(time.Minute)}, {Account: "222222222222", Region: "eu-west-1", LastHeartbeat: ago(time.Hour)}}
	rep := Evaluate(wdNow, s, quiet, nil)
	if got := states(rep); len(got) != 1 || got["111111111111/eu-west-1"] != StateOK || rep.Silent != 0 {
		t.Errorf("removed and quiet: %v (silent %d), want the removed account gone", got, rep.Silent)
	}
	sending := []Sender{{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: ago(time.Minute)}, {Account: "222222222222", Region: "eu-west-1", LastHeartbeat: ago(2 * time.Minute)}}
	if got := states(Evaluate(wdNow, s, sending, nil)); got["222222222222/eu-west-1"] != StateUnexpected {
		t.Errorf("removed and still sending: %v, want unexpected", got)
	}
}

// TestEvaluateOrganization: every sender seen within ForgetAfter is
// expected (so it goes silent), older ones are forgotten, and the optional
// list is expected too.
func TestEvaluateOrganization(t *testing.T) {
	s := accounts("eu-west-1", "us-east-1")
	s.Mode = config.SenderModeOrganization
	s.Accounts = []string{"444444444444"}
	senders := []Sender{
		{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: ago(time.Minute)},
		{Account: "222222222222", Region: "us-east-1", LastHeartbeat: ago(2 * 24 * time.Hour)}, // silent for two days
		{Account: "333333333333", Region: "eu-west-1", LastHeartbeat: ago(8 * 24 * time.Hour)}, // forgotten
	}
	rep := Evaluate(wdNow, s, senders, nil)
	want := map[string]string{
		"111111111111/eu-west-1": StateOK, "222222222222/us-east-1": StateSilent,
		"444444444444/eu-west-1": StateNeverSeen, "444444444444/us-east-1": StateNeverSeen,
	}
	if got := states(rep); !equalMaps(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if rep.Silent != 1 || rep.NeverSeen != 2 || rep.Unexpected != 0 {
		t.Errorf("counts %+v", rep)
	}
}

// TestEvaluateUnknownRegion: with one region, a heartbeat without
// "@aws.region" is that region's; with several it counts for none of them
// (it cannot hide a region's silence) and shows as account/? (not counted).
func TestEvaluateUnknownRegion(t *testing.T) {
	senders := []Sender{
		{Account: "111111111111", Region: "", LastHeartbeat: ago(time.Minute)},
		{Account: "222222222222", Region: "eu-west-1", LastHeartbeat: ago(time.Hour)},
		{Account: "222222222222", Region: "", LastHeartbeat: ago(time.Minute)}, // "claims" nothing; must not hide eu-west-1's silence
	}
	s := accounts("eu-west-1")
	s.Accounts = []string{"111111111111", "222222222222"}
	got := states(Evaluate(wdNow, s, senders, nil))
	// One region: the unknown-region heartbeat is eu-west-1's. The latest wins.
	if want := map[string]string{"111111111111/eu-west-1": StateOK, "222222222222/eu-west-1": StateOK}; !equalMaps(got, want) {
		t.Errorf("one region: %v, want %v", got, want)
	}
	s.Regions = []string{"eu-west-1", "us-east-1"}
	rep := Evaluate(wdNow, s, senders, nil)
	want := map[string]string{
		"111111111111/?": StateOK, "111111111111/eu-west-1": StateNeverSeen, "111111111111/us-east-1": StateNeverSeen,
		"222222222222/?": StateOK, "222222222222/eu-west-1": StateSilent, "222222222222/us-east-1": StateNeverSeen,
	}
	if got := states(rep); !equalMaps(got, want) {
		t.Errorf("two regions: %v, want %v", got, want)
	}
	if rep.Silent != 1 || rep.NeverSeen != 3 || rep.Unexpected != 0 {
		t.Errorf("counts %+v: the unknown-region rows count for nothing", rep)
	}
}

// TestEvaluateLogGroups: traffic per sender (today, yesterday, active
// groups, last event), and a log group that sent every day of the last
// week and nothing today is silent; one that skipped a day is not.
func TestEvaluateLogGroups(t *testing.T) {
	days := make(Days, WindowDays+1)
	for i := 1; i <= WindowDays; i++ {
		day := Day(wdNow.AddDate(0, 0, -i))
		days[i] = append(days[i], LogGroupDay{Account: "111111111111", Region: "eu-west-1", LogGroup: "/daily", Day: day, Events: 10, Bytes: 100, LastEvent: wdNow.AddDate(0, 0, -i)})
		if i != 3 {
			days[i] = append(days[i], LogGroupDay{Account: "111111111111", Region: "eu-west-1", LogGroup: "/skipped-a-day", Day: day, Events: 1, Bytes: 1})
		}
	}
	days[0] = []LogGroupDay{{Account: "111111111111", Region: "eu-west-1", LogGroup: "/today", Day: Day(wdNow), Events: 5, Bytes: 50, LastEvent: ago(time.Minute)}}
	rep := Evaluate(wdNow, accounts("eu-west-1"), []Sender{{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: ago(time.Minute)}}, days)
	r := rep.Senders[0]
	if r.Name() != "111111111111/eu-west-1" || r.EventsToday != 5 || r.BytesToday != 50 || r.EventsYesterday != 11 || r.BytesYesterday != 101 || r.ActiveLogGroups != 1 || !r.LastEvent.Equal(ago(time.Minute)) {
		t.Errorf("row %+v", r)
	}
	silent := map[string]bool{}
	for _, g := range r.LogGroups {
		silent[g.LogGroup] = g.Silent
	}
	if !silent["/daily"] || silent["/skipped-a-day"] || silent["/today"] || len(silent) != 3 || rep.SilentLogGroups != 1 {
		t.Errorf("silent log groups %v (count %d), want /daily only", silent, rep.SilentLogGroups)
	}
}

// TestWatchdogRun: one EMF document without dimensions, one log line
// naming the silent and late senders, the finished days read once.
func TestWatchdogRun(t *testing.T) {
	now := wdNow
	f := &fakeReader{senders: []Sender{
		{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: now.Add(-time.Minute)},
		{Account: "222222222222", Region: "eu-west-1", LastHeartbeat: now.Add(-11 * time.Minute)},
		{Account: "333333333333", Region: "eu-west-1", LastHeartbeat: now.Add(-20 * time.Minute)},
	}}
	var metrics, logs bytes.Buffer
	w := &Watchdog{Reader: f, Settings: accounts("eu-west-1"), Now: func() time.Time { return now }, Metrics: &metrics, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	ctx := context.Background()
	if _, err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(metrics.Bytes(), &doc); err != nil {
		t.Fatalf("EMF %s: %v", metrics.String(), err)
	}
	cw := doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if d, _ := json.Marshal(cw["Dimensions"]); string(d) != "[[]]" || cw["Namespace"] != "logfan" {
		t.Errorf("EMF dimensions %s namespace %v, want [[]] and logfan", d, cw["Namespace"])
	}
	for name, want := range map[string]float64{"SilentSenders": 1, "LateSenders": 1, "NeverSeenSenders": 1, "UnexpectedSenders": 0, "SilentLogGroups": 0} {
		if doc[name] != want {
			t.Errorf("%s = %v, want %v", name, doc[name], want)
		}
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), `"silent":["333333333333/eu-west-1"]`) || !strings.Contains(logs.String(), `"late":["222222222222/eu-west-1"]`) {
		t.Errorf("log (%d lines):\n%s", n, logs.String())
	}
	// Five minutes later (12:05): today again, the finished days from memory.
	now = now.Add(5 * time.Minute)
	if _, err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for i, d := range DayNames(now) {
		if want := map[bool]int{true: 2, false: 1}[i == 0]; f.reads[d] != want {
			t.Errorf("day %s read %d times, want %d", d, f.reads[d], want)
		}
	}
	// Just after midnight yesterday is not finished: the consumers may still write it.
	f.reads = nil
	w.cache = DayCache{}
	now = time.Date(2026, 3, 11, 1, 30, 0, 0, time.UTC)
	for range 2 {
		if _, err := w.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if d := Day(now.AddDate(0, 0, -1)); f.reads[d] != 2 || f.reads[Day(now.AddDate(0, 0, -2))] != 1 {
		t.Errorf("at 01:30 yesterday read %d times (want 2), the day before %d (want 1)", f.reads[d], f.reads[Day(now.AddDate(0, 0, -2))])
	}
	// A table that cannot be read: an error, and no metrics (the alarm treats missing data as breaching).
	f.err = errors.New("AccessDeniedException")
	metrics.Reset()
	if _, err := w.Run(ctx); err == nil || metrics.Len() != 0 {
		t.Errorf("Run with a failing table = %v, metrics %q; want an error and none", err, metrics.String())
	}
}

func TestLoadSettings(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	s, err := LoadSettings(env(config.EnvExpectedAccounts, "111111111111, 222222222222", config.EnvExpectedRegions, "us-east-1,eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode != config.SenderModeAccounts || len(s.Accounts) != 2 || len(s.Regions) != 2 || s.HeartbeatInterval != 5*time.Minute || s.SilentAfter != 15*time.Minute || s.ForgetAfter != 7*24*time.Hour {
		t.Errorf("defaults: %+v", s)
	}
	_, err = LoadSettings(env(config.EnvSenderMode, "everyone", config.EnvExpectedAccounts, "1234", config.EnvHeartbeatMinutes, "0", config.EnvForgetSendersAfterDays, "400"))
	for _, want := range []string{config.EnvSenderMode, `"1234"`, config.EnvExpectedRegions, config.EnvHeartbeatMinutes, config.EnvForgetSendersAfterDays} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestLoadSettingsExpectedAccountsFile(t *testing.T) {
	// GIVEN shard 0's accounts in the environment and the other shards' in a
	// file (as a sharded stack's layer holds them), one listed in both
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "%012d,", 100000000000+i)
	}
	b.WriteString("\n111111111111\n")
	file := filepath.Join(t.TempDir(), "expected-accounts")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		return map[string]string{config.EnvExpectedAccounts: "111111111111,222222222222", config.EnvExpectedAccountsFile: file, config.EnvExpectedRegions: "us-east-1"}[k]
	}
	// WHEN the watchdog loads its settings
	s, err := LoadSettings(getenv)
	// THEN it expects every account once: the environment's and the file's
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Accounts) != 1002 || s.Accounts[0] != "111111111111" || s.Accounts[2] != "100000000000" {
		t.Errorf("%d accounts, first %v", len(s.Accounts), s.Accounts[:3])
	}
	// AND a missing file or a bad account in it is an error naming the variable
	if err := os.WriteFile(file, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSettings(getenv); err == nil || !strings.Contains(err.Error(), `"12345"`) {
		t.Errorf("bad account: %v", err)
	}
	missing := func(k string) string {
		if k == config.EnvExpectedAccountsFile {
			return "/nonexistent/expected-accounts"
		}
		return getenv(k)
	}
	if _, err := LoadSettings(missing); err == nil || !strings.Contains(err.Error(), config.EnvExpectedAccountsFile) {
		t.Errorf("missing file: %v", err)
	}
}
