package redrive

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/ops/readback"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/sink/logssink"
	"github.com/logfan/logfan/shared/subscription"
)

// TestRedriveEventsUpTo1MBToLogs: events between 256 KB and 1 MB that the
// logs sink used to quarantine as oversize (issue 21, item 13) are delivered
// by `logfan redrive` now, and their entries removed; one over 1 MB is
// still refused and stays in the quarantine.
func TestRedriveEventsUpTo1MBToLogs(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	e := newEnv(t, 1)
	q := e.s3Quarantine(config.SinkLogs)
	ts := time.Now().Add(-time.Hour).UnixMilli()
	m := &subscription.Message{Owner: "333333333333", LogGroup: "/large", LogStream: "s", SubscriptionFilters: []string{"logfan"},
		LogEvents: []subscription.LogEvent{
			{ID: "1", Timestamp: ts, Message: strings.Repeat("a", 900_000) + " tag-large"},
			{ID: "2", Timestamp: ts + 1, Message: strings.Repeat("b", logssink.DefaultMaxMessageBytes+1)},
		}}
	for i := range m.LogEvents {
		ev := &m.LogEvents[i]
		if err := q.Put(ctx, quarantine.Entry{Kind: quarantine.KindEvent, Sink: config.SinkLogs, Shard: "shardId-000000000000", SequenceNumber: "77", EventID: ev.ID, Event: i,
			Reason: "oversize: message is over the 262118-byte PutLogEvents limit", Data: record.AppendLine(nil, m, ev)}); err != nil {
			t.Fatal(err)
		}
	}

	cfg := emutest.Config(t, srv, "eu-west-1")
	logs := cloudwatchlogs.NewFromConfig(cfg)
	prefix := "/redrive-large-" + e.data
	out := &bytes.Buffer{}
	r, err := New(ctx, Options{
		Sink: config.SinkLogs, S3: e.s3, Bucket: e.quarantine, RetryDelay: time.Millisecond, Out: out, Delete: true, Sources: []string{SourceQuarantine},
		NewHandler: func(_ context.Context, q quarantine.Quarantine, onSummary func(consumer.Summary)) (lambda.Handler, error) {
			s := logssink.New(logs, config.Logs{Region: "eu-west-1", GroupTemplate: prefix + "/{owner}/{logGroup}", StreamTemplate: "{logStream}", RetentionDays: 1})
			return consumer.New(consumer.Options{Sink: s, Quarantine: q, OnSummary: onSummary, Logger: slog.New(slog.DiscardHandler)}), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("redrive: %v\n%s", err, out)
	}
	if sum.Objects != 2 || sum.Redriven != 1 || sum.StillPoison != 1 || sum.Delivered != 1 {
		t.Fatalf("summary %+v, want the 900 KB event redriven and the one over 1 MB still poison\n%s", sum, out)
	}
	evs, err := readback.LogEvents(ctx, logs, prefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Message != m.LogEvents[0].Message {
		t.Fatalf("read back %d events from CloudWatch Logs, want the 900 KB one", len(evs))
	}
	left := e.keys(t, config.DefaultQuarantinePrefix+"/")
	if len(left) != 1 || !strings.HasSuffix(left[0], "/logs/1.json") {
		t.Fatalf("quarantine holds %v, want only the event over 1 MB", left)
	}
}
