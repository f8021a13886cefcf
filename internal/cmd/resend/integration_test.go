package resend

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/sink/s3sink"
	"github.com/logfan/logfan/shared/sink/s3sink/s3parquet"
	"github.com/logfan/logfan/shared/subscription"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

const (
	ownerA    = "111111111111"
	ownerB    = "222222222222"
	logsEU    = "eu-west-1"
	perRecord = 12 // events per archived record: one every 5 minutes of an hour
)

// env is the world one test works in: an archive, a quarantine bucket,
// and Firehose streams writing into a bucket.
type env struct {
	t                                  *testing.T
	s3                                 *s3.Client
	fh                                 *firehose.Client
	logs                               *cloudwatchlogs.Client // in logsEU
	data, quarantine, fhBucket, suffix string
	base                               time.Time
	vars                               map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := emutest.Config(t, srv, emulator.Region)
	eu := emutest.Config(t, srv, logsEU)
	sfx := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	e := &env{t: t, s3: awsclient.S3(cfg), fh: firehose.NewFromConfig(cfg), logs: cloudwatchlogs.NewFromConfig(eu),
		data: "data-" + sfx, quarantine: "quarantine-" + sfx, fhBucket: "firehose-" + sfx, suffix: sfx,
		base: time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)}
	emutest.Buckets(t, e.s3, e.data, e.quarantine, e.fhBucket)
	e.vars = map[string]string{config.EnvQuarantineBucket: e.quarantine, config.EnvS3Bucket: e.data, "AWS_REGION": emulator.Region}
	return e
}

// stream creates a Firehose stream writing into the env's bucket under its own name.
func (e *env) stream(name string) string {
	e.t.Helper()
	name += "-" + e.suffix
	_, err := e.fh.CreateDeliveryStream(context.Background(), &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name), DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + e.fhBucket), RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"), Prefix: aws.String(name + "/"),
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return name
}

// message is the text of one archived event.
func message(owner, group, stream string, hour, n int) string {
	return fmt.Sprintf("o=%s g=%s s=%s h=%d n=%d", owner, group, stream, hour, n)
}

// archive runs the S3 sinks on events of two owners, two log groups, two
// streams and three hours, one record per (owner, group, stream, hour):
// owner A's /aws/lambda/orders in the last hour as Parquet, the rest as
// gzip NDJSON, as a stack that switched formats would leave them.
func (e *env) archive() {
	e.t.Helper()
	ctx := context.Background()
	nd := s3sink.New(e.s3, config.S3{Bucket: e.data, Prefix: config.DefaultS3Prefix})
	pq := s3sink.New(e.s3, config.S3{Bucket: e.data, Prefix: config.DefaultS3Prefix}, s3sink.WithColumnar(s3parquet.Format()))
	var ndb, pqb sink.Batch
	ndb.ShardID, pqb.ShardID = "shardId-000000000000", "shardId-000000000000"
	seq := 0
	for _, owner := range []string{ownerA, ownerB} {
		for _, group := range []string{"/aws/lambda/orders", "/demo/cloudtrail"} {
			for _, stream := range []string{"s1", "s2"} {
				for h := range 3 {
					m := &subscription.Message{MessageType: subscription.DataMessage, Owner: owner, LogGroup: group, LogStream: stream, SubscriptionFilters: []string{"logfan"}}
					for n := range perRecord {
						ts := e.base.Add(time.Duration(h)*time.Hour + time.Duration(n)*5*time.Minute)
						m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: fmt.Sprint(seq*100 + n), Timestamp: ts.UnixMilli(), Message: message(owner, group, stream, h, n)})
					}
					seq++
					r := sink.DecodedRecord{SequenceNumber: fmt.Sprint(seq), Message: m}
					if owner == ownerA && group == "/aws/lambda/orders" && h == 2 {
						pqb.Records = append(pqb.Records, r)
					} else {
						ndb.Records = append(ndb.Records, r)
					}
				}
			}
		}
	}
	for _, d := range []struct {
		s *s3sink.Sink
		b *sink.Batch
	}{{nd, &ndb}, {pq, &pqb}} {
		if res := d.s.Deliver(ctx, d.b); res.FailedAt >= 0 {
			e.t.Fatalf("archive: %v", res.Err)
		}
	}
}

// selected are the messages of owner A's /aws/lambda/* events from hour 1
// to the middle of hour 2: what the tests resend.
func selected() []string {
	var out []string
	for _, s := range []string{"s1", "s2"} {
		for n := range perRecord {
			out = append(out, message(ownerA, "/aws/lambda/orders", s, 1, n))
			if n*5 < 30 {
				out = append(out, message(ownerA, "/aws/lambda/orders", s, 2, n))
			}
		}
	}
	sort.Strings(out)
	return out
}

// options builds a resend of the selection to targets through the CLI's parser.
func (e *env) options(s3c API, to ...string) Options {
	e.t.Helper()
	in := parseInput{owners: []string{ownerA}, group: "/aws/lambda/*",
		since: e.base.Add(time.Hour).Format(time.RFC3339), until: e.base.Add(150 * time.Minute).Format(time.RFC3339),
		to: to, bucket: e.data, prefix: config.DefaultS3Prefix, parallel: 2, attempts: 3, timeout: 30 * time.Second,
		getenv: func(k string) string { return e.vars[k] }, now: time.Now()}
	p, err := parse(in)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := emutest.Config(e.t, srv, emulator.Region)
	for _, t := range p.targets {
		t.bind(cfg, nil)
	}
	return Options{S3: s3c, Bucket: e.data, Prefix: config.DefaultS3Prefix, Selection: p.sel, Targets: p.list(),
		ProgressBucket: p.progressBucket, ProgressPrefix: p.progressPrefix, Parallel: 2, Attempts: 3, RetryDelay: 10 * time.Millisecond, Timeout: 30 * time.Second}
}

// s3Messages reads back the messages under prefix of bucket.
func (e *env) s3Messages(bucket, prefix string) []string {
	e.t.Helper()
	recs, _, err := readback.Records(context.Background(), e.s3, bucket, prefix)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Message)
	}
	sort.Strings(out)
	return out
}

// logsMessages reads back the messages of the log groups under prefix in logsEU.
func (e *env) logsMessages(prefix string) []string {
	e.t.Helper()
	evs, err := readback.LogEvents(context.Background(), e.logs, prefix)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Message)
	}
	sort.Strings(out)
	return out
}

// exactlyOnce fails unless got holds each of want once and nothing else.
func exactlyOnce(t *testing.T, where string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	missing, dup := 0, 0
	for _, w := range want {
		switch count[w] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
		delete(count, w)
	}
	t.Errorf("%s: %d events, want %d: %d missing, %d duplicated, %d not selected (e.g. %v)", where, len(got), len(want), missing, dup, len(count), firstKey(count))
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}

// audit records what a resend lists and reads of the archive.
type audit struct {
	*s3.Client
	mu          sync.Mutex
	lists, gets []string
	bucket      string
}

func (a *audit) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if aws.ToString(in.Bucket) == a.bucket {
		a.mu.Lock()
		a.lists = append(a.lists, aws.ToString(in.Prefix))
		a.mu.Unlock()
	}
	return a.Client.ListObjectsV2(ctx, in, o...)
}

func (a *audit) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if aws.ToString(in.Bucket) == a.bucket {
		a.mu.Lock()
		a.gets = append(a.gets, aws.ToString(in.Key))
		a.mu.Unlock()
	}
	return a.Client.GetObject(ctx, in, o...)
}

// TestResendToFirehoseAndAnotherRegion archives events with the S3 sinks
// (NDJSON and Parquet), resends one owner's /aws/lambda/* events of an
// hour and a half to a second Firehose stream and to log groups in
// another region, reading only the partitions that can match, and checks
// each event landed exactly once; a second run sends nothing and reads no
// archived object.
func TestResendToFirehoseAndAnotherRegion(t *testing.T) {
	e := newEnv(t)
	e.archive()
	ctx := context.Background()
	siem := e.stream("siem")
	groups := "/replayed-" + e.suffix
	a := &audit{Client: e.s3, bucket: e.data}
	o := e.options(a, "firehose:"+siem, "logs:"+logsEU+":"+groups+"/{owner}/{logGroup}")
	rep, err := o.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Problem(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	want := selected()
	for _, tr := range rep.Targets {
		if tr.Delivered != len(want) || tr.Events != len(want) || tr.Failed != 0 || tr.Quarantined != 0 {
			t.Errorf("%s: %+v, want %d delivered", tr.Target, tr, len(want))
		}
	}
	exactlyOnce(t, "firehose", e.s3Messages(e.fhBucket, siem+"/"), want)
	exactlyOnce(t, "logs", e.logsMessages(groups+"/"), want)

	// Only the partitions that can match: owner A's /aws/lambda/orders, hours 1 and 2.
	ownerDir := config.DefaultS3Prefix + "/owner=" + ownerA + "/"
	groupDir := ownerDir + "log_group=%2Faws%2Flambda%2Forders/"
	for _, p := range a.lists {
		if !strings.HasPrefix(p, ownerDir) {
			t.Errorf("listed %q, outside owner %s", p, ownerA)
		}
	}
	hours := map[string]bool{}
	for _, k := range a.gets {
		if !strings.HasPrefix(k, groupDir) {
			t.Errorf("read %q, outside the selected log group", k)
		}
		hours[strings.SplitN(strings.TrimPrefix(k, groupDir), "/", 3)[1]] = true
	}
	if len(a.gets) != 2 || len(hours) != 2 {
		t.Errorf("read %d objects of hours %v, want 2 (one NDJSON, one Parquet) of the selection's two hours", len(a.gets), hours)
	}

	// Again, through the CLI: nothing is sent, no archived object is read.
	a.gets = nil
	o2 := e.options(a, "firehose:"+siem, "logs:"+logsEU+":"+groups+"/{owner}/{logGroup}")
	rep, err = o2.Run(ctx)
	if err != nil || rep.Problem() != nil {
		t.Fatalf("second run: %v %v", err, rep.Problem())
	}
	for _, tr := range rep.Targets {
		if tr.Delivered != 0 || tr.Events != 0 || tr.SkippedObjects != 2 {
			t.Errorf("second run, %s: %+v, want nothing sent, 2 objects skipped", tr.Target, tr)
		}
	}
	if len(a.gets) != 0 {
		t.Errorf("second run read %v", a.gets)
	}
	exactlyOnce(t, "firehose after the second run", e.s3Messages(e.fhBucket, siem+"/"), want)
	exactlyOnce(t, "logs after the second run", e.logsMessages(groups+"/"), want)

	// A wider window later sends only what the first did not.
	o3 := e.options(e.s3, "firehose:"+siem)
	o3.Selection.Until = time.Time{}
	rep, err = o3.Run(ctx)
	if err != nil || rep.Problem() != nil {
		t.Fatalf("wider run: %v %v", err, rep.Problem())
	}
	var wider []string
	for _, s := range []string{"s1", "s2"} {
		for n := range perRecord {
			wider = append(wider, message(ownerA, "/aws/lambda/orders", s, 1, n), message(ownerA, "/aws/lambda/orders", s, 2, n))
		}
	}
	sort.Strings(wider)
	if tr := rep.Targets[0]; tr.Delivered != len(wider)-len(want) || tr.AlreadySent != len(want) {
		t.Errorf("wider run: %+v, want %d delivered and %d already sent", tr, len(wider)-len(want), len(want))
	}
	exactlyOnce(t, "firehose after a wider run", e.s3Messages(e.fhBucket, siem+"/"), wider)
}

// TestResendInterruptedAndResumed stops a resend to an S3 prefix after
// three batches of one record, as Ctrl-C would: the first object (hour 1,
// two records) is done, the second (hour 2, two records) half done. The
// next run skips the first, sends the second's other record, and every
// event lands once.
func TestResendInterruptedAndResumed(t *testing.T) {
	e := newEnv(t)
	e.archive()
	o := e.options(e.s3, "s3:replayed")
	o.BatchRecords, o.Parallel = 1, 1
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	o.AfterBatch = func(string, string, int) {
		if batches++; batches == 3 {
			cancel()
		}
	}
	rep, err := o.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Problem() == nil {
		t.Fatalf("want an interrupted run, got %+v", rep)
	}
	if tr := rep.Targets[0]; tr.Delivered != 2*perRecord+perRecord/2 {
		t.Fatalf("interrupted run: %+v, want %d delivered", tr, 2*perRecord+perRecord/2)
	}

	o = e.options(e.s3, "s3:replayed")
	rep, err = o.Run(context.Background())
	if err != nil || rep.Problem() != nil {
		t.Fatalf("resumed run: %v %v", err, rep.Problem())
	}
	if tr := rep.Targets[0]; tr.Delivered != perRecord/2 || tr.AlreadySent != perRecord/2 || tr.SkippedObjects != 1 {
		t.Errorf("resumed run: %+v, want %d delivered, %d already sent, 1 object skipped", tr, perRecord/2, perRecord/2)
	}
	exactlyOnce(t, "s3:replayed", e.s3Messages(e.data, "replayed/"), selected())
}

// TestResendDryRun counts what a resend would send and sends nothing.
func TestResendDryRun(t *testing.T) {
	e := newEnv(t)
	e.archive()
	siem := e.stream("siem")
	o := e.options(e.s3, "firehose:"+siem)
	o.DryRun = true
	var lines bytes.Buffer
	o.Objects = &lines
	rep, err := o.Run(context.Background())
	if err != nil || rep.Problem() != nil {
		t.Fatalf("%v %v", err, rep.Problem())
	}
	var size int64
	for _, m := range selected() {
		size += int64(len(m))
	}
	if tr := rep.Targets[0]; tr.Objects != 2 || tr.Events != len(selected()) || tr.Bytes != size || tr.Delivered != 0 {
		t.Errorf("dry run: %+v, want 2 objects, %d events, %d bytes, nothing delivered", tr, len(selected()), size)
	}
	if n := strings.Count(lines.String(), "\n"); n != 2 {
		t.Errorf("dry run listed %d objects:\n%s", n, lines.String())
	}
	if got := e.s3Messages(e.fhBucket, siem+"/"); len(got) != 0 {
		t.Errorf("dry run sent %d events", len(got))
	}
	keys, err := readback.Keys(context.Background(), e.s3, e.quarantine, DefaultProgressPrefix)
	if err != nil || len(keys) != 0 {
		t.Errorf("dry run wrote progress records %v (%v)", keys, err)
	}
}
