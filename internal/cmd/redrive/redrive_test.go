package redrive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/poller"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/internal/ops/onfailure"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/sink/s3sink"
	"github.com/logfan/logfan/shared/subscription"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

var envCount atomic.Int32

// env is one test's stream and buckets on moto, named like the stack's.
type env struct {
	kin        *kinesis.Client
	s3         *s3.Client
	streamARN  string
	data       string // the S3 sink's bucket
	quarantine string // quarantine and on-failure records, as the stack shares them
	function   string
	// sent counts the tagged events written to the stream, by tag.
	sent map[string]bool
}

func newEnv(t *testing.T, shards int) *env {
	t.Helper()
	ctx := context.Background()
	cfg := emutest.Config(t, srv, emulator.Region)
	n := envCount.Add(1)
	e := &env{
		kin: kinesis.NewFromConfig(cfg), s3: awsclient.S3(cfg),
		data: fmt.Sprintf("redrive-data-%d", n), quarantine: fmt.Sprintf("redrive-quarantine-%d", n),
		function: fmt.Sprintf("arn:aws:lambda:us-east-1:123456789012:function:LogfanRecipient-%s-Ab%d", naming.FunctionLogicalID(config.SinkS3), n),
		sent:     map[string]bool{},
	}
	emutest.Buckets(t, e.s3, e.data, e.quarantine)
	name := fmt.Sprintf("redrive-%d", n)
	if _, err := e.kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))}); err != nil {
		t.Fatal(err)
	}
	d, err := e.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	e.streamARN = aws.ToString(d.StreamDescriptionSummary.StreamARN)
	return e
}

// writeRecords puts n subscription records of 1..20 tagged events each,
// and the raw datas given (undecodable records).
func (e *env) writeRecords(t *testing.T, n int, raw ...[]byte) {
	t.Helper()
	gen := eventgen.New(11)
	start := time.Now().Add(-time.Hour)
	var entries []kintypes.PutRecordsRequestEntry
	for i := 0; i < n; i++ {
		m := gen.Message(eventgen.Source{Owner: "111111111111", LogGroup: fmt.Sprintf("/app/%d", i%3), LogStream: "s"}, 1+i%20, start, time.Millisecond, 0)
		for j := range m.LogEvents {
			tag := fmt.Sprintf("tag-%d-%d", i, j)
			m.LogEvents[j].Message += " " + tag
			e.sent[tag] = true
		}
		entries = append(entries, kintypes.PutRecordsRequestEntry{Data: eventgen.MustPayload(m), PartitionKey: aws.String(fmt.Sprint(i))})
	}
	for i, d := range raw {
		entries = append(entries, kintypes.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String(fmt.Sprint("raw", i))})
	}
	out, err := e.kin.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamARN: aws.String(e.streamARN), Records: entries})
	if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
		t.Fatalf("put records: %v", err)
	}
}

// handler is the real S3 handler writing to bucket with quarantine q.
func (e *env) handler(bucket string, q quarantine.Quarantine, onSummary func(consumer.Summary)) lambda.Handler {
	sink := s3sink.New(e.s3, config.S3{Bucket: bucket, Prefix: config.DefaultS3Prefix, MaxObjectBytes: config.DefaultS3MaxObjectBytes})
	return consumer.New(consumer.Options{Sink: sink, Quarantine: q, OnSummary: onSummary, Logger: slog.New(slog.DiscardHandler)})
}

// s3Quarantine is sink's function's quarantine, under its own prefix as the stack sets it.
func (e *env) s3Quarantine(sink string) *s3quarantine.Quarantine {
	return s3quarantine.New(e.s3, config.Quarantine{Bucket: e.quarantine, Prefix: config.SinkQuarantinePrefix(config.DefaultQuarantinePrefix, sink)})
}

// consumeBroken runs the stream through the S3 handler pointed at a bucket
// that does not exist, like a misconfigured function: every batch fails
// until Lambda gives up and writes it to the on-failure destination.
func (e *env) consumeBroken(t *testing.T) poller.Stats {
	t.Helper()
	dst := &onfailure.Destination{Client: e.s3, Bucket: e.quarantine, MappingUUID: "8f7c1c1e-0d1f-4c59-9a0e-3c2b1a0f9e8d"}
	p, err := poller.New(e.kin, e.handler("no-such-bucket", e.s3Quarantine(config.SinkS3), nil), poller.Options{
		StreamARN: e.streamARN, BatchSize: 7, MaxRetryAttempts: 1, RetryDelay: time.Millisecond, PollInterval: 10 * time.Millisecond,
		FunctionARN: e.function, OnFailure: dst.Put,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// landed counts the tagged events in the data bucket.
func (e *env) landed(t *testing.T) map[string]int {
	t.Helper()
	recs, _, err := readback.Records(context.Background(), e.s3, e.data, config.DefaultS3Prefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range recs {
		got[r.Message[strings.LastIndexByte(r.Message, ' ')+1:]]++
	}
	return got
}

func (e *env) keys(t *testing.T, prefix string) []string {
	t.Helper()
	keys, err := readback.Keys(context.Background(), e.s3, e.quarantine, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func (e *env) redriver(t *testing.T, o Options) *Redriver {
	t.Helper()
	o.Sink, o.S3, o.Bucket, o.RetryDelay = config.SinkS3, e.s3, e.quarantine, time.Millisecond
	o.NewHandler = func(_ context.Context, q quarantine.Quarantine, onSummary func(consumer.Summary)) (lambda.Handler, error) {
		return e.handler(e.data, q, onSummary), nil // fixed: the right bucket
	}
	r, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRedriveAfterTheSinkIsFixed: a sink fails, Lambda parks the batches in
// the on-failure destination, the sink is fixed, the redrive delivers every
// event exactly once, and a second run changes nothing.
func TestRedriveAfterTheSinkIsFixed(t *testing.T) {
	emutest.Require(t, srv)
	e := newEnv(t, 2)
	e.writeRecords(t, 40, []byte("definitely not gzip"))
	st := e.consumeBroken(t)
	if st.Discarded != 41 {
		t.Fatalf("discarded %d records, want all 41", st.Discarded)
	}
	if got := e.landed(t); len(got) != 0 {
		t.Fatalf("%d events landed through a broken sink", len(got))
	}
	parked := e.keys(t, onfailure.KeyPrefix)
	poison := e.keys(t, config.SinkQuarantinePrefix(config.DefaultQuarantinePrefix, config.SinkS3)+"/record/")
	if len(parked) == 0 || len(poison) != 1 {
		t.Fatalf("%d on-failure objects, %d quarantined records", len(parked), len(poison))
	}

	out := &bytes.Buffer{}
	sum, err := e.redriver(t, Options{Out: out}).Run(context.Background())
	if err != nil {
		t.Fatalf("redrive: %v\n%s", err, out)
	}
	got := e.landed(t)
	for tag := range e.sent {
		if got[tag] != 1 {
			t.Errorf("event %s landed %d times", tag, got[tag])
		}
	}
	if len(got) != len(e.sent) {
		t.Errorf("%d distinct events landed, %d sent", len(got), len(e.sent))
	}
	// The undecodable record is still poison: reported and left in the
	// quarantine, not retried in a loop.
	if sum.Redriven != len(parked) || sum.StillPoison != 1 || sum.StillFailing != 0 || sum.Delivered != len(e.sent) || sum.Events != len(e.sent) {
		t.Fatalf("summary %+v\n%s", sum, out)
	}
	if !strings.Contains(out.String(), "still poison") || !strings.Contains(out.String(), fmt.Sprintf("[%d/%d]", len(parked), len(parked))) {
		t.Fatalf("output:\n%s", out)
	}
	if keys := e.keys(t, config.DefaultQuarantinePrefix+"/"); len(keys) != 1 {
		t.Fatalf("quarantine holds %v, want only the poison record", keys)
	}

	// Idempotent: a second run finds everything done and delivers nothing;
	// the poison record, all that is left, could not be redriven: exit 1.
	objects := len(e.keysIn(t, e.data))
	out.Reset()
	sum, err = e.redriver(t, Options{Out: out}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "none of the 1 sources could be redriven (1 still poison") {
		t.Fatalf("second run: %v", err)
	}
	if sum.Redriven != 0 || sum.Delivered != 0 || sum.AlreadyDone != len(parked) || sum.StillPoison != 1 {
		t.Fatalf("second run: %+v\n%s", sum, out)
	}
	if n := len(e.keysIn(t, e.data)); n != objects {
		t.Fatalf("second run wrote objects: %d, was %d", n, objects)
	}
}

func (e *env) keysIn(t *testing.T, bucket string) []string {
	t.Helper()
	keys, err := readback.Keys(context.Background(), e.s3, bucket, "")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestRedriveStillFailingKeepsTheSource(t *testing.T) {
	emutest.Require(t, srv)
	e := newEnv(t, 1)
	e.writeRecords(t, 5)
	e.consumeBroken(t)
	parked := e.keys(t, onfailure.KeyPrefix)
	r := e.redriver(t, Options{Delete: true})
	// Not fixed yet: the redrive's handler still points at the missing bucket.
	r.h = e.handler("no-such-bucket", r.capture, func(s consumer.Summary) { r.mu.Lock(); r.last = &s; r.mu.Unlock() })
	sum, err := r.Run(context.Background())
	if err == nil || sum.StillFailing != len(parked) || sum.Redriven != 0 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	if got := e.keys(t, onfailure.KeyPrefix); len(got) != len(parked) {
		t.Fatalf("sources deleted although still failing: %d left of %d", len(got), len(parked))
	}
	if got := e.keys(t, DonePrefix+"/"); len(got) != 0 {
		t.Fatalf("sources marked done although still failing: %v", got)
	}
}

// TestRedriveQuarantinedEvents: events a sink refused are rebuilt from their
// NDJSON lines and delivered; another sink's entries are left alone.
func TestRedriveQuarantinedEvents(t *testing.T) {
	emutest.Require(t, srv)
	e := newEnv(t, 1)
	m := &subscription.Message{Owner: "222222222222", LogGroup: "/big", LogStream: "s", SubscriptionFilters: []string{"logfan"},
		LogEvents: []subscription.LogEvent{{ID: "1", Timestamp: time.Now().UnixMilli(), Message: "refused once tag-q1"}, {ID: "2", Timestamp: time.Now().UnixMilli(), Message: "refused by logs tag-q2"}}}
	for i, sink := range []string{config.SinkS3, config.SinkLogs} {
		ev := &m.LogEvents[i]
		if err := e.s3Quarantine(sink).Put(context.Background(), quarantine.Entry{Kind: quarantine.KindEvent, Sink: sink, Shard: "shardId-000000000000", SequenceNumber: "42",
			EventID: ev.ID, Reason: "over the object size limit", Data: record.AppendLine(nil, m, ev)}); err != nil {
			t.Fatal(err)
		}
	}
	out := &bytes.Buffer{}
	sum, err := e.redriver(t, Options{Out: out, Delete: true, Sources: []string{SourceQuarantine}}).Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if sum.Objects != 1 || sum.Redriven != 1 || sum.Delivered != 1 {
		t.Fatalf("summary %+v\n%s", sum, out)
	}
	got := e.landed(t)
	if got["tag-q1"] != 1 || got["tag-q2"] != 0 {
		t.Fatalf("landed %v", got)
	}
	recs, keys, err := readback.Records(context.Background(), e.s3, e.data, config.DefaultS3Prefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	// The rebuilt record never takes the name of an original object.
	if !strings.Contains(keys[0], redrivenShardPrefix+"shardId-000000000000_42_0") || recs[0].Owner != "222222222222" || recs[0].LogGroup != "/big" {
		t.Fatalf("object %s, record %+v", keys[0], recs[0])
	}
	left := e.keys(t, config.DefaultQuarantinePrefix+"/")
	if len(left) != 1 || !strings.Contains(left[0], "/logs/") {
		t.Fatalf("quarantine holds %v, want only the logs sink's entry", left)
	}
}

// TestRedriveReadsOnlyTheSinksOwnPrefix: each function writes quarantine
// entries under its own prefix (the only one its role may write), so a
// sink's redrive reads that prefix and the shared layout of older
// deployments, never another function's prefix, where a compromised
// function could have forged entries naming this sink.
func TestRedriveReadsOnlyTheSinksOwnPrefix(t *testing.T) {
	emutest.Require(t, srv)
	e := newEnv(t, 1)
	root := config.DefaultQuarantinePrefix
	now := time.Now().UnixMilli()
	put := func(prefix, tag string, seq int) {
		t.Helper()
		m := &subscription.Message{Owner: "222222222222", LogGroup: "/app", LogStream: "s", SubscriptionFilters: []string{"logfan"},
			LogEvents: []subscription.LogEvent{{ID: tag, Timestamp: now, Message: "refused " + tag}}}
		q := s3quarantine.New(e.s3, config.Quarantine{Bucket: e.quarantine, Prefix: prefix})
		if err := q.Put(context.Background(), quarantine.Entry{Kind: quarantine.KindEvent, Sink: config.SinkS3, Shard: "shardId-000000000000",
			SequenceNumber: fmt.Sprint(seq), Reason: "refused", Data: record.AppendLine(nil, m, &m.LogEvents[0])}); err != nil {
			t.Fatal(err)
		}
	}
	put(config.SinkQuarantinePrefix(root, config.SinkS3), "tag-own", 1)          // the S3 function's own entry
	put(root, "tag-shared", 2)                                                   // written before functions had prefixes
	put(config.SinkQuarantinePrefix(root, config.SinkFirehose), "tag-forged", 3) // another function's prefix
	out := &bytes.Buffer{}
	sum, err := e.redriver(t, Options{Out: out, Delete: true, Sources: []string{SourceQuarantine}, QuarantinePrefix: root}).Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := e.landed(t)
	if got["tag-own"] != 1 || got["tag-shared"] != 1 || got["tag-forged"] != 0 || sum.Redriven != 2 {
		t.Fatalf("landed %v, summary %+v\n%s", got, sum, out)
	}
	left := e.keys(t, root+"/")
	if len(left) != 1 || !strings.HasPrefix(left[0], config.SinkQuarantinePrefix(root, config.SinkFirehose)+"/") {
		t.Fatalf("quarantine holds %v, want only the entry under the firehose function's prefix", left)
	}
}

// TestDeliverRetriesFromTheReportedRecord checks the retry loop against a
// handler that fails once in the middle: records before the failure are not
// offered again.
func TestDeliverRetriesFromTheReportedRecord(t *testing.T) {
	var offered [][]string
	fails := 1
	var onSummary func(consumer.Summary)
	h := invokerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
		var ev events.KinesisEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		var seqs []string
		for _, r := range ev.Records {
			seqs = append(seqs, r.Kinesis.SequenceNumber)
		}
		offered = append(offered, seqs)
		s := consumer.Summary{Records: len(seqs), Events: len(seqs), Delivered: len(seqs)}
		if fails > 0 && len(seqs) > 2 {
			fails--
			s.Delivered, s.RetryFrom, s.Err = 2, seqs[2], "throttled"
		}
		onSummary(s)
		return nil, nil
	})
	r, err := New(context.Background(), Options{Sink: "s3", S3: &s3.Client{}, Bucket: "b", RetryDelay: time.Millisecond,
		NewHandler: func(_ context.Context, _ quarantine.Quarantine, f func(consumer.Summary)) (lambda.Handler, error) {
			onSummary = f
			return h, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	var recs []kintypes.Record
	for i := 1; i <= 5; i++ {
		recs = append(recs, kintypes.Record{SequenceNumber: aws.String(fmt.Sprint(i)), Data: []byte("x"), PartitionKey: aws.String("p")})
	}
	res, err := r.deliver(context.Background(), invocation.EventSource{ShardID: "shardId-000000000000"}, recs)
	if err != nil || res.failed != "" || res.delivered != 5 {
		t.Fatalf("result %+v, %v", res, err)
	}
	if fmt.Sprint(offered) != "[[1 2 3 4 5] [3 4 5]]" {
		t.Fatalf("offered %v", offered)
	}
}

type invokerFunc func(context.Context, []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, p []byte) ([]byte, error) { return f(ctx, p) }

func TestNewValidates(t *testing.T) {
	h := func(context.Context, quarantine.Quarantine, func(consumer.Summary)) (lambda.Handler, error) {
		return nil, nil
	}
	for _, o := range []Options{
		{S3: &s3.Client{}, Bucket: "b", NewHandler: h},
		{Sink: "s3", Bucket: "b", NewHandler: h},
		{Sink: "s3", S3: &s3.Client{}, Bucket: "b"},
		{Sink: "s3", S3: &s3.Client{}, Bucket: "b", NewHandler: h, Sources: []string{"sqs"}},
	} {
		if _, err := New(context.Background(), o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// TestRedriveCommand runs `logfan redrive` as an operator would, through
// app.NewHandler configured by the LOGFAN_* variables.
func TestRedriveCommand(t *testing.T) {
	emutest.Require(t, srv)
	e := newEnv(t, 2)
	e.writeRecords(t, 25)
	e.consumeBroken(t)
	parked := e.keys(t, onfailure.KeyPrefix)
	t.Setenv(config.EnvS3Bucket, e.data)
	t.Setenv(config.EnvQuarantineBucket, e.quarantine)

	// GIVEN a dry run THEN nothing changes
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"-sink", "s3", "-dry-run"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	if strings.Count(out.String(), "would redrive") != len(parked) || len(e.landed(t)) != 0 {
		t.Fatalf("dry run:\n%s", out.String())
	}
	// WHEN the redrive runs with -delete THEN every event lands once and the sources are gone
	out.Reset()
	if err := Run(context.Background(), []string{"-sink", "s3", "-delete"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	got := e.landed(t)
	for tag := range e.sent {
		if got[tag] != 1 {
			t.Errorf("event %s landed %d times", tag, got[tag])
		}
	}
	if left := e.keys(t, onfailure.KeyPrefix); len(left) != 0 {
		t.Fatalf("on-failure objects left: %v", left)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("redrive s3: %d objects: %d redriven", len(parked), len(parked))) {
		t.Fatalf("summary:\n%s", out.String())
	}
	// AND another sink's redrive leaves the s3 function's records alone
	out.Reset()
	e.consumeBroken(t) // new failures, of the S3 function
	t.Setenv(config.EnvFirehoseStream, "unused")
	if err := Run(context.Background(), []string{"-sink", "firehose", "-from", "onfailure"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "0 redriven") || !strings.Contains(out.String(), "of other functions") {
		t.Fatalf("firehose redrive touched the S3 function's records:\n%s", out.String())
	}
}
