package backfill

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/internal/devkit/poller"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// put writes n events into a stream of group, the i-th stamped at at(i), and returns their messages.
func put(t *testing.T, c *cloudwatchlogs.Client, group, stream, tag string, n int, at func(int) time.Time) []string {
	t.Helper()
	var evs []cwltypes.InputLogEvent
	var msgs []string
	for i := range n {
		m := fmt.Sprintf("%s %s %s %d", group, stream, tag, i)
		evs = append(evs, cwltypes.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(at(i).UnixMilli())})
		msgs = append(msgs, m)
	}
	if _, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestBackfillHistoryBeforeTheSubscription writes a log group's history,
// subscribes the group to the stream (moto then delivers what is written
// from there on, as CloudWatch Logs does), writes more (some of it stamped
// in the past), and backfills: interrupted after two PutRecords calls,
// then resumed. The S3 consumer, run by the demo's poller over the whole
// stream, then holds every event exactly once: the history from the
// backfill, the rest from the subscription.
func TestBackfillHistoryBeforeTheSubscription(t *testing.T) {
	c := emutest.Clients(t, srv)
	ctx := context.Background()
	names := localenv.DefaultNames().WithSuffix("-backfill")
	names.LedgerTable, names.HealthTable = "", ""
	rec, err := localenv.SetupRecipient(ctx, c, names)
	if err != nil {
		t.Fatal(err)
	}
	const group = "/app/history"
	if _, err := c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"s1", "s2"} {
		if _, err := c.Logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().Add(-6 * time.Hour)
	var want []string
	for _, s := range []string{"s1", "s2"} {
		want = append(want, put(t, c.Logs, group, s, "history", 150, func(i int) time.Time { return start.Add(time.Duration(i) * time.Minute) })...)
	}
	time.Sleep(20 * time.Millisecond) // the filter's creation after the history's ingestion, in ms
	if _, err := c.Logs.PutSubscriptionFilter(ctx, &cloudwatchlogs.PutSubscriptionFilterInput{
		LogGroupName: aws.String(group), FilterName: aws.String(localenv.SubscriptionFilterName), FilterPattern: aws.String(""),
		DestinationArn: aws.String(rec.StreamARN), RoleArn: aws.String(rec.RoleARN),
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	// After the subscription: live events, and late ones stamped in the history's hours.
	want = append(want, put(t, c.Logs, group, "s1", "live", 20, func(i int) time.Time { return time.Now().Add(-time.Duration(20-i) * time.Second) })...)
	want = append(want, put(t, c.Logs, group, "s2", "late", 10, func(i int) time.Time { return start.Add(time.Duration(i)*time.Minute + 30*time.Second) })...)

	cp := filepath.Join(t.TempDir(), "checkpoint.json")
	o := Options{Logs: c.Logs, Kinesis: c.Kinesis, StreamARN: rec.StreamARN, Groups: []string{"/app/*"}, Checkpoint: cp,
		MaxRPS: 1000, PageLimit: 40, Retry: retry.Policy{BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond}}
	ictx, cancel := context.WithCancel(ctx)
	puts := 0
	o.AfterPut = func(string, int) {
		if puts++; puts == 2 {
			cancel()
		}
	}
	rep, err := o.Run(ictx)
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Groups[0]
	if !rep.Interrupted || g.Done || g.Put == 0 || g.Put >= 300 || g.Filter != localenv.SubscriptionFilterName {
		t.Fatalf("interrupted run: %+v", rep)
	}
	first, firstLive := g.Put, g.Live

	o.AfterPut = nil
	rep, err = o.Run(ctx)
	if err != nil || rep.Problem() != nil {
		t.Fatalf("resumed run: %v %v", err, rep.Problem())
	}
	g = rep.Groups[0]
	// The 30 events ingested after the subscription started (20 live, 10
	// stamped in the history's hours) are left to it, over both runs.
	if !g.Done || g.Put != 300-first || g.AlreadyPut != first || firstLive+g.Live != 30 {
		t.Errorf("resumed run: %+v, want %d put, %d already put, 30 events left to the subscription over both runs (%d in the first)", g, 300-first, first, firstLive)
	}
	// Once done, a run puts nothing.
	rep, err = o.Run(ctx)
	if err != nil || rep.Problem() != nil || rep.Groups[0].Put != 0 || !rep.Groups[0].Done {
		t.Errorf("third run: %+v %v %v", rep, err, rep.Problem())
	}

	// The consumer reads the stream: live payloads and backfilled ones alike.
	env := names.Env(config.SinkS3)
	cfg, err := config.Load(config.SinkS3, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h, err := anysink.NewHandler(ctx, cfg, app.Deps{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), NoHealth: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := poller.New(c.Kinesis, h, poller.Options{StreamARN: rec.StreamARN, BatchSize: 100, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	recs, _, err := readback.Records(ctx, c.S3, names.DataBucket, config.DefaultS3Prefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.LogGroup == group {
			got = append(got, r.Message)
		}
		if r.LogGroup == group && strings.Contains(r.Message, "history") && (len(r.SubscriptionFilters) != 1 || r.SubscriptionFilters[0] != localenv.SubscriptionFilterName) {
			t.Errorf("backfilled record names filters %v, want the group's own", r.SubscriptionFilters)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		seen := map[string]int{}
		for _, m := range got {
			seen[m]++
		}
		missing, dup := 0, 0
		for _, m := range want {
			switch seen[m] {
			case 0:
				missing++
			case 1:
			default:
				dup++
			}
		}
		t.Errorf("S3 holds %d events of %s, want %d: %d missing, %d duplicated", len(got), group, len(want), missing, dup)
	}
}
