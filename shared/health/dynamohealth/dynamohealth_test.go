package dynamohealth_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
	"github.com/logfan/logfan/shared/subscription"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

func newStore(t *testing.T, table string) (*dynamohealth.Store, *dynamodb.Client) {
	t.Helper()
	c := emutest.HealthTable(t, srv, table)
	return dynamohealth.New(c, table), c
}

// TestWritesOnMoto: counters add up across writes (several instances), a
// last-seen time only goes up, items carry their TTL, and reads give back
// what was written.
func TestWritesOnMoto(t *testing.T) {
	s, c := newStore(t, "health-writes")
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, u := range []health.SenderUpdate{
		{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: t0.UnixMilli(), Heartbeats: 2},
		{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: t0.Add(-time.Hour).UnixMilli(), Heartbeats: 1}, // an instance behind
		{Account: "111111111111", Region: "eu-west-1", LastHeartbeat: t0.UnixMilli(), Heartbeats: 1},                 // the same time again
		{Account: "222222222222", Region: "", LastHeartbeat: t0.Add(time.Minute).UnixMilli(), Heartbeats: 1},
	} {
		if err := s.WriteSender(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	day := health.Day(t0)
	for _, u := range []health.LogGroupUpdate{
		{Account: "111111111111", Region: "eu-west-1", LogGroup: "/aws/lambda/a#b", Day: day, LastEvent: t0.UnixMilli(), Events: 10, Bytes: 1000},
		{Account: "111111111111", Region: "eu-west-1", LogGroup: "/aws/lambda/a#b", Day: day, LastEvent: t0.Add(-time.Minute).UnixMilli(), Events: 5, Bytes: 500},
		{Account: "111111111111", Region: "eu-west-1", LogGroup: "/aws/lambda/a#b", Day: day, Events: 1, Bytes: 1}, // no event time known
		{Account: "111111111111", Region: "", LogGroup: "/aws/lambda/a#b", Day: day, LastEvent: t0.UnixMilli(), Events: 1, Bytes: 2},
	} {
		if err := s.WriteLogGroup(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	senders, err := s.Senders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]health.Sender{
		"111111111111#eu-west-1": {Account: "111111111111", Region: "eu-west-1", LastHeartbeat: t0, Heartbeats: 4},
		"222222222222#":          {Account: "222222222222", Region: "", LastHeartbeat: t0.Add(time.Minute), Heartbeats: 1},
	}
	if len(senders) != len(want) {
		t.Fatalf("senders %+v, want %v", senders, want)
	}
	for _, got := range senders {
		if w := want[got.Account+"#"+got.Region]; got != w {
			t.Errorf("sender %+v, want %+v", got, w)
		}
	}
	groups, err := s.LogGroupDays(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Fatalf("log groups %+v, want two (by region)", groups)
	}
	for _, g := range groups {
		w := health.LogGroupDay{Account: "111111111111", Region: "eu-west-1", LogGroup: "/aws/lambda/a#b", Day: day, LastEvent: t0, Events: 16, Bytes: 1501}
		if g.Region == "" {
			w.Region, w.Events, w.Bytes = "", 1, 2
		}
		if g != w {
			t.Errorf("log group %+v, want %+v", g, w)
		}
	}
	if other, err := s.LogGroupDays(ctx, "2026-02-28"); err != nil || len(other) != 0 {
		t.Errorf("another day: %+v, %v", other, err)
	}
	// TTL: sender items 90 days after their heartbeat, log groups 40 after their day.
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("health-writes"), Key: map[string]types.AttributeValue{
		health.AttrPK: &types.AttributeValueMemberS{Value: health.SendersPK}, health.AttrSK: &types.AttributeValueMemberS{Value: health.SenderSK("111111111111", "eu-west-1")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if exp, ok := out.Item[health.AttrExpires].(*types.AttributeValueMemberN); !ok || exp.Value != fmt.Sprint(t0.Add(90*24*time.Hour).Unix()) {
		t.Errorf("%s = %v, want 90 days after the heartbeat", health.AttrExpires, out.Item[health.AttrExpires])
	}
}

// TestRecorderOnMoto is the consumer's path: a Recorder fed heartbeats
// and traffic, flushed into the table, read back.
func TestRecorderOnMoto(t *testing.T) {
	s, _ := newStore(t, "health-recorder")
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := health.NewRecorder(health.RecorderOptions{HeartbeatLogGroups: []string{"/logfan/heartbeat"}, Writer: s})
	hb := eventgen.Heartbeat{Owner: "111111111111", Region: "eu-west-1", LogGroup: "/logfan/heartbeat", At: now.Add(-time.Minute), SystemFields: true}
	// Through the decoder, as the consumer gets it: the decoder reads the
	// region from the events' system fields (subscription.Message.Region).
	payload, err := subscription.Encode(hb.Message())
	if err != nil {
		t.Fatal(err)
	}
	beat, err := subscription.NewDecoder(0).Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	r.Heartbeat(beat, now)
	g := eventgen.New(1)
	m := g.Message(eventgen.Source{Owner: "111111111111", LogGroup: "/app"}, 3, now.Add(-time.Minute), time.Second, 0)
	r.Traffic(m, 3, 300, now.Add(-58*time.Second).UnixMilli(), now)
	res, err := r.Flush(ctx, now)
	if err != nil || res.Writes != 2 {
		t.Fatalf("Flush = %+v, %v", res, err)
	}
	senders, err := s.Senders(ctx)
	if err != nil || len(senders) != 1 || senders[0].Region != "eu-west-1" || !senders[0].LastHeartbeat.Equal(hb.At) {
		t.Fatalf("senders %+v, %v", senders, err)
	}
	groups, err := s.LogGroupDays(ctx, health.Day(now))
	if err != nil || len(groups) != 1 || groups[0].Events != 3 || groups[0].Bytes != 300 || groups[0].Region != "" {
		t.Fatalf("log groups %+v, %v", groups, err)
	}
}

// TestConcurrentInstancesOnMoto: instances (one per shard in Lambda)
// writing the same sender and log-group items at once add up, and the
// latest heartbeat wins. DynamoDB applies each item write atomically; moto
// does not (without emulator.ItemLocks this test lost an update in most
// runs, one round in 20 or so; the deterministic proof of the locks is
// emulator's TestItemLocksMakeUpdatesAtomic), so the client goes through
// ItemLocks, as the demo's handlers do.
func TestConcurrentInstancesOnMoto(t *testing.T) {
	table := fmt.Sprintf("health-concurrent-%d", time.Now().UnixNano()) // -count reuses the emulator
	_, c := newStore(t, table)
	cfg := c.Options()
	cfg.HTTPClient = &http.Client{Transport: &emulator.ItemLocks{}}
	s := dynamohealth.New(dynamodb.New(cfg), table)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const instances, rounds = 4, 20
	for round := range rounds {
		acct := fmt.Sprintf("%012d", round)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range instances {
			r := health.NewRecorder(health.RecorderOptions{HeartbeatLogGroups: []string{"/logfan/heartbeat"}, Writer: s})
			at := now.Add(-time.Duration(i) * time.Minute) // instance 0 has the latest
			r.Heartbeat(eventgen.Heartbeat{Owner: acct, Region: "eu-west-1", LogGroup: "/logfan/heartbeat", At: at, SystemFields: true}.Message(), now)
			m := eventgen.New(uint64(i)).Message(eventgen.Source{Owner: acct, LogGroup: "/app"}, 1+i, at, time.Second, 0)
			r.Traffic(m, 1+i, 100, at.UnixMilli(), now)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start // every instance flushes at once
				if res, err := r.Flush(ctx, now); err != nil || res.Writes != 2 {
					t.Errorf("instance %d: Flush = %+v, %v", i, res, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		senders, err := s.Senders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		groups, err := s.LogGroupDays(ctx, health.Day(now))
		if err != nil {
			t.Fatal(err)
		}
		var sender health.Sender
		for _, sn := range senders {
			if sn.Account == acct {
				sender = sn
			}
		}
		var group health.LogGroupDay
		for _, g := range groups {
			if g.Account == acct {
				group = g
			}
		}
		if sender.Heartbeats != instances || !sender.LastHeartbeat.Equal(now) || group.Events != 1+2+3+4 || group.Bytes != 100*instances {
			t.Errorf("round %d: sender %+v, log group %+v: want %d heartbeats, the last at %v, 10 events, %d bytes", round, sender, group, instances, now, 100*instances)
		}
	}
}

// TestWatchdogOnMoto: the watchdog reads what the consumers wrote.
func TestWatchdogOnMoto(t *testing.T) {
	s, _ := newStore(t, "health-watchdog")
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := health.NewRecorder(health.RecorderOptions{Writer: s})
	for i, acct := range []string{"111111111111", "222222222222"} {
		at := now.Add(-time.Duration(1+29*i) * time.Minute) // 1 and 30 minutes ago
		r.Heartbeat(eventgen.Heartbeat{Owner: acct, Region: "eu-west-1", LogGroup: "/logfan/heartbeat", At: at, SystemFields: true}.Message(), now)
	}
	if _, err := r.Flush(ctx, now); err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	w := &health.Watchdog{Reader: s, Now: func() time.Time { return now }, Metrics: &metrics, Settings: health.Settings{
		Mode: "accounts", Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"eu-west-1"},
		HeartbeatInterval: 5 * time.Minute, SilentAfter: 15 * time.Minute, ForgetAfter: 7 * 24 * time.Hour,
	}}
	rep, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Silent != 1 || rep.Count(health.StateOK) != 1 || !strings.Contains(metrics.String(), `"SilentSenders":1`) {
		t.Errorf("report %+v, metrics %s", rep, metrics.String())
	}
}
