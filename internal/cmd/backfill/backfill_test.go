package backfill

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/subscription"
)

// TestEncodeLimits: records stay under Kinesis' 1 MiB and 10,000 events,
// decode to the events given, in order; an event that cannot fit is named.
func TestEncodeLimits(t *testing.T) {
	m := &subscription.Message{MessageType: subscription.DataMessage, Owner: "111111111111", LogGroup: "/g", LogStream: "s", SubscriptionFilters: []string{"logfan"}}
	for i := range 12000 {
		m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: string(rune('a'+i%26)) + "x", Timestamp: int64(i), Message: strings.Repeat("m", 100)})
	}
	// A 1 MiB event of random bytes: gzip cannot bring its payload under the record limit.
	big := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: "big", Timestamp: 12000, Message: string(big)})
	recs, tooLarge, err := encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(tooLarge) != 1 || tooLarge[0] != "big" {
		t.Errorf("too large: %v, want [big]", tooLarge)
	}
	dec := subscription.NewDecoder(0)
	n := 0
	for _, r := range recs {
		if r.size() > MaxRecordBytes {
			t.Errorf("record of %d bytes", r.size())
		}
		got, err := dec.Decode(r.data)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.LogEvents) > maxRecordEvents || got.Owner != m.Owner || got.LogStream != "s" || got.SubscriptionFilters[0] != "logfan" {
			t.Errorf("record: %d events, %+v", len(got.LogEvents), got.SubscriptionFilters)
		}
		for _, e := range got.LogEvents {
			if e.Timestamp != int64(n) {
				t.Fatalf("event %d out of order (timestamp %d)", n, e.Timestamp)
			}
			n++
		}
	}
	if n != 12000 {
		t.Errorf("%d events in the records, want 12000", n)
	}
	if k := partitionKey("/g", strings.Repeat("s", 300)); len(k) > maxPartitionKey {
		t.Errorf("partition key of %d characters", len(k))
	}
}

// fakeKinesis fails the first attempt of every other record (throttled),
// as PutRecords does in part.
type fakeKinesis struct {
	calls int
	put   int
}

func (f *fakeKinesis) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.calls++
	out := &kinesis.PutRecordsOutput{}
	for i := range in.Records {
		e := kintypes.PutRecordsResultEntry{SequenceNumber: aws.String("1")}
		if f.calls == 1 && i%2 == 1 {
			e = kintypes.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("slow down")}
		} else {
			f.put++
		}
		out.Records = append(out.Records, e)
	}
	return out, nil
}

// fakeLogs serves one log group: throttled on the first FilterLogEvents, then three pages.
type fakeLogs struct {
	filterCalls int
	events      []cwltypes.FilteredLogEvent
}

func (f *fakeLogs) DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	return &cloudwatchlogs.DescribeLogGroupsOutput{LogGroups: []cwltypes.LogGroup{{LogGroupName: aws.String("/g"), Arn: aws.String("arn:aws:logs:us-east-1:111111111111:log-group:/g:*"), CreationTime: aws.Int64(1000)}}}, nil
}

func (f *fakeLogs) DescribeSubscriptionFilters(context.Context, *cloudwatchlogs.DescribeSubscriptionFiltersInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeSubscriptionFiltersOutput, error) {
	return &cloudwatchlogs.DescribeSubscriptionFiltersOutput{SubscriptionFilters: []cwltypes.SubscriptionFilter{
		{FilterName: aws.String("other"), DestinationArn: aws.String("arn:aws:lambda:us-east-1:111111111111:function:x")},
		{FilterName: aws.String("logfan"), DestinationArn: aws.String("arn:aws:logs:us-east-1:999999999999:destination:logfan-destination"), CreationTime: aws.Int64(5000)},
	}}, nil
}

func (f *fakeLogs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	f.filterCalls++
	if f.filterCalls == 1 {
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	}
	from := 0
	if in.NextToken != nil {
		from = int(aws.ToString(in.NextToken)[0] - '0')
	}
	out := &cloudwatchlogs.FilterLogEventsOutput{}
	for i := from; i < len(f.events) && i < from+2; i++ {
		out.Events = append(out.Events, f.events[i])
	}
	if from+2 < len(f.events) {
		out.NextToken = aws.String(string(rune('0' + from + 2)))
	}
	return out, nil
}

// TestThrottlingAndPartialPuts: a throttled read is retried, the records
// PutRecords refused are put again, and the ingestion cut is applied.
func TestThrottlingAndPartialPuts(t *testing.T) {
	ev := func(id string, ts, ingested int64) cwltypes.FilteredLogEvent {
		return cwltypes.FilteredLogEvent{EventId: aws.String(id), Timestamp: aws.Int64(ts), IngestionTime: aws.Int64(ingested), LogStreamName: aws.String("s" + id), Message: aws.String("m" + id)}
	}
	logs := &fakeLogs{events: []cwltypes.FilteredLogEvent{ev("1", 100, 200), ev("2", 100, 200), ev("3", 300, 400), ev("4", 400, 6000), ev("5", 4900, 4950)}}
	kin := &fakeKinesis{}
	rep, err := Options{Logs: logs, Kinesis: kin, StreamARN: "arn:aws:kinesis:us-east-1:999999999999:stream/s", Groups: []string{"/g"},
		Checkpoint: filepath.Join(t.TempDir(), "cp.json"), MaxRPS: 1000,
		Retry: retry.Policy{BackoffBase: time.Millisecond, BackoffMax: time.Millisecond}}.Run(context.Background())
	if err != nil || rep.Problem() != nil {
		t.Fatalf("%v %v", err, rep.Problem())
	}
	g := rep.Groups[0]
	if g.Read != 5 || g.Live != 1 || g.Put != 4 || kin.put != 4 || g.Filter != "logfan" || g.Owner != "111111111111" {
		t.Errorf("report %+v, %d put; want 5 read, 1 left to the subscription, 4 put", g, kin.put)
	}
	if logs.filterCalls != 4 {
		t.Errorf("%d FilterLogEvents calls, want 4 (one throttled, three pages)", logs.filterCalls)
	}
	if want := time.UnixMilli(1000 - maxEventAge.Milliseconds()).UTC(); !g.Since.Equal(want) || !g.Until.Equal(time.UnixMilli(5000+futureAllowance.Milliseconds()).UTC()) {
		t.Errorf("window %s to %s", g.Since, g.Until)
	}
}

// TestCheckpointMismatch: a checkpoint is only used for the window and stream it was written for.
func TestCheckpointMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.json")
	cp, err := loadCheckpoint(path, "arn:a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.state("/g", 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	if err := cp.save(); err != nil {
		t.Fatal(err)
	}
	if _, err := loadCheckpoint(path, "arn:b"); !errors.Is(err, ErrCheckpointMismatch) {
		t.Errorf("another stream: %v", err)
	}
	cp, err = loadCheckpoint(path, "arn:a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.state("/g", 1, 5, 3); !errors.Is(err, ErrCheckpointMismatch) || !strings.Contains(err.Error(), "another -checkpoint") {
		t.Errorf("another window: %v", err)
	}
}
