package poller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/ops/onfailure"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/shared/invocation"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// stream is a moto stream with known contents.
type stream struct {
	client *kinesis.Client
	arn    string
	// order lists each shard's record data in stream order.
	order map[string][]string
	// seq maps a record's data to its sequence number.
	seq map[string]string
}

var streamCount atomic.Int32

func newStream(t *testing.T, shards int) *stream {
	t.Helper()
	ctx := context.Background()
	cfg := emutest.Config(t, srv, emulator.Region)
	s := &stream{client: kinesis.NewFromConfig(cfg), order: map[string][]string{}, seq: map[string]string{}}
	name := fmt.Sprintf("poller-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), streamCount.Add(1))
	if _, err := s.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	out, err := s.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	s.arn = aws.ToString(out.StreamDescriptionSummary.StreamARN)
	return s
}

// put writes records "<prefix>-0000".. in calls of up to 500, with
// partition keys spreading them over the shards.
func (s *stream) put(t *testing.T, prefix string, from, n int) {
	t.Helper()
	for start := from; start < from+n; start += 500 {
		var entries []types.PutRecordsRequestEntry
		var datas []string
		for i := start; i < min(start+500, from+n); i++ {
			d := fmt.Sprintf("%s-%04d", prefix, i)
			datas = append(datas, d)
			entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(d), PartitionKey: aws.String(fmt.Sprintf("pk%d", i))})
		}
		out, err := s.client.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamARN: aws.String(s.arn), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("put records: %v (%d failed)", err, aws.ToInt32(out.FailedRecordCount))
		}
		for i, r := range out.Records {
			shard := aws.ToString(r.ShardId)
			s.order[shard] = append(s.order[shard], datas[i])
			s.seq[datas[i]] = aws.ToString(r.SequenceNumber)
		}
	}
}

// call is one invocation as the fake handler saw it.
type call struct {
	shard string
	datas []string
}

// fake is a handler that records what it is given and answers what fail says.
type fake struct {
	mu    sync.Mutex
	calls []call
	// fail, if set, returns the response (or error) for an invocation; nil response means success.
	fail func(c call, recs []invocation.KinesisRecord) ([]byte, error)
}

func (f *fake) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	inv, err := invocation.Parse(payload)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("no deadline: the poller must set the function timeout")
	}
	c := call{shard: inv.Records[0].ShardID()}
	for _, r := range inv.Records {
		c.datas = append(c.datas, string(r.Data))
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if f.fail != nil {
		if resp, err := f.fail(c, inv.Records); resp != nil || err != nil {
			return resp, err
		}
	}
	return json.Marshal(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}})
}

// counts returns how many times each record was delivered.
func (f *fake) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := map[string]int{}
	for _, c := range f.calls {
		for _, d := range c.datas {
			n[d]++
		}
	}
	return n
}

func failures(seqs ...string) []byte {
	r := events.KinesisEventResponse{}
	for _, s := range seqs {
		r.BatchItemFailures = append(r.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: s})
	}
	b, _ := json.Marshal(r)
	return b
}

func fastOptions(s *stream) Options {
	return Options{StreamARN: s.arn, BatchSize: 100, RetryDelay: time.Millisecond, PollInterval: 10 * time.Millisecond, Timeout: 10 * time.Second}
}

func run(t *testing.T, s *stream, h Invoker, o Options) Stats {
	t.Helper()
	p, err := New(s.client, h, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := p.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return st
}

// wantCounts asserts each record of the stream was delivered once, except
// those in twice, delivered exactly twice.
func wantCounts(t *testing.T, s *stream, got map[string]int, twice []string) {
	t.Helper()
	want := map[string]int{}
	for d := range s.seq {
		want[d] = 1
	}
	for _, d := range twice {
		want[d] = 2
	}
	for d, n := range want {
		if got[d] != n {
			t.Errorf("record %s delivered %d times, want %d", d, got[d], n)
		}
	}
	for d := range got {
		if _, ok := want[d]; !ok {
			t.Errorf("record %s delivered but never written", d)
		}
	}
}

func TestPartialFailureRetriesFromLowestReportedRecord(t *testing.T) {
	emutest.Require(t, srv)
	s := newStream(t, 1)
	s.put(t, "r", 0, 250)
	var failed atomic.Bool
	f := &fake{fail: func(c call, recs []invocation.KinesisRecord) ([]byte, error) {
		for _, r := range recs {
			// Report two failures; Lambda retries from the lower one.
			if string(r.Data) == "r-0130" && failed.CompareAndSwap(false, true) {
				return failures(s.seq["r-0140"], s.seq["r-0130"]), nil
			}
		}
		return nil, nil
	}}
	st := run(t, s, lambda.NewHandler(f), fastOptions(s))

	// The failing batch was r-0100..r-0199: its suffix from r-0130 is retried, nothing else.
	var twice []string
	for i := 130; i < 200; i++ {
		twice = append(twice, fmt.Sprintf("r-%04d", i))
	}
	wantCounts(t, s, f.counts(), twice)
	// The retry re-reads the stream from exactly the failed record.
	for i, c := range f.calls {
		if c.datas[0] == "r-0100" {
			if next := f.calls[i+1].datas[0]; next != "r-0130" {
				t.Fatalf("retry started at %s, want r-0130", next)
			}
		}
	}
	if st.Retries != 1 || st.Records != 250 || st.Discarded != 0 || !st.Shards[0].Done {
		t.Fatalf("stats %+v", st)
	}
}

func TestFunctionErrorRetriesWholeBatch(t *testing.T) {
	emutest.Require(t, srv)
	s := newStream(t, 1)
	s.put(t, "e", 0, 150)
	var failed atomic.Bool
	f := &fake{fail: func(c call, _ []invocation.KinesisRecord) ([]byte, error) {
		if c.datas[0] == "e-0000" && failed.CompareAndSwap(false, true) {
			return nil, errors.New("boom")
		}
		return nil, nil
	}}
	run(t, s, lambda.NewHandler(f), fastOptions(s))
	var twice []string
	for i := 0; i < 100; i++ {
		twice = append(twice, fmt.Sprintf("e-%04d", i))
	}
	wantCounts(t, s, f.counts(), twice)
}

func TestRetriesExhaustedGoToOnFailureAndShardMovesOn(t *testing.T) {
	emutest.Require(t, srv)
	s := newStream(t, 1)
	s.put(t, "x", 0, 300)
	f := &fake{fail: func(_ call, recs []invocation.KinesisRecord) ([]byte, error) {
		for _, r := range recs {
			if string(r.Data) == "x-0120" { // a record that always fails
				return failures(r.SequenceNumber), nil
			}
		}
		return nil, nil
	}}
	var got []onfailure.Discarded
	o := fastOptions(s)
	o.MaxRetryAttempts = 2
	o.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:logfan-s3"
	o.OnFailure = func(_ context.Context, d onfailure.Discarded) error { got = append(got, d); return nil }
	st := run(t, s, lambda.NewHandler(f), o)

	// Invocations at x-0120: the first (batch x-0100..x-0199) and two retries
	// (x-0120..x-0219); then the last batch is discarded whole.
	if len(got) != 1 {
		t.Fatalf("%d discarded batches, want 1", len(got))
	}
	d := got[0]
	if d.InvokeCount != 3 || d.Condition != onfailure.ConditionRetriesExhausted || d.FunctionError != "" || d.FunctionARN != o.FunctionARN || d.ShardID == "" {
		t.Fatalf("discarded %+v", d)
	}
	inv, err := invocation.Parse(d.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Records) != 100 || string(inv.Records[0].Data) != "x-0120" || string(inv.Records[99].Data) != "x-0219" || len(d.Records) != 100 {
		t.Fatalf("discarded payload holds %d records from %s", len(inv.Records), inv.Records[0].Data)
	}
	// Nothing vanished: every record was delivered or discarded, and the shard moved on past the batch.
	counts := f.counts()
	for d, seq := range s.seq {
		if counts[d] == 0 {
			t.Errorf("record %s (%s) never offered", d, seq)
		}
	}
	if counts["x-0220"] != 1 || counts["x-0299"] != 1 || counts["x-0120"] != 3 {
		t.Fatalf("counts: x-0220=%d x-0299=%d x-0120=%d", counts["x-0220"], counts["x-0299"], counts["x-0120"])
	}
	if st.Discarded != 100 || st.Records != 300 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetriesExhaustedWithoutDestinationIsAnError(t *testing.T) {
	emutest.Require(t, srv)
	s := newStream(t, 1)
	s.put(t, "y", 0, 10)
	f := &fake{fail: func(call, []invocation.KinesisRecord) ([]byte, error) { return nil, errors.New("always") }}
	o := fastOptions(s)
	o.MaxRetryAttempts = 1
	p, err := New(s.client, lambda.NewHandler(f), o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no on-failure destination") {
		t.Fatalf("Run error = %v, want one naming the missing destination", err)
	}
}

func TestSeparateMappingsEachSeeEveryRecordInShardOrder(t *testing.T) {
	emutest.Require(t, srv)
	s := newStream(t, 3)
	s.put(t, "m", 0, 700)
	fakes := []*fake{{}, {}, {}}
	var wg sync.WaitGroup
	for i, f := range fakes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := fastOptions(s)
			o.Name = fmt.Sprint("mapping", i)
			o.BatchSize = 37 * (i + 1)
			run(t, s, lambda.NewHandler(f), o)
		}()
	}
	wg.Wait()
	if len(s.order) != 3 {
		t.Fatalf("records landed on %d shards, want 3", len(s.order))
	}
	for i, f := range fakes {
		wantCounts(t, s, f.counts(), nil)
		perShard := map[string][]string{}
		for _, c := range f.calls {
			if len(c.datas) > 37*(i+1) {
				t.Fatalf("mapping %d got a batch of %d", i, len(c.datas))
			}
			perShard[c.shard] = append(perShard[c.shard], c.datas...)
		}
		for shard, want := range s.order {
			if strings.Join(perShard[shard], ",") != strings.Join(want, ",") {
				t.Fatalf("mapping %d, %s: records out of order", i, shard)
			}
		}
	}
}

func TestKeepsPollingUntilWritersAreDone(t *testing.T) {
	emutest.Require(t, srv)
	s := newStream(t, 2)
	var done atomic.Bool
	f := &fake{}
	o := fastOptions(s)
	o.StopWhenIdle = done.Load
	var progress atomic.Int32
	o.OnProgress = func(Stats) { progress.Add(1) }
	p, err := New(s.client, lambda.NewHandler(f), o)
	if err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); result <- err }()
	for i := 0; i < 5; i++ {
		time.Sleep(100 * time.Millisecond) // the shards go idle between writes
		s.put(t, "w", i*40, 40)
	}
	done.Store(true)
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	wantCounts(t, s, f.counts(), nil)
	if progress.Load() == 0 {
		t.Fatal("OnProgress never called")
	}
}

func TestBatchWindowGathersWhatArrives(t *testing.T) {
	emutest.Require(t, srv)
	// GIVEN writers putting records in five bursts within half a second,
	// and a mapping with a batching window far longer than that
	s := newStream(t, 2)
	var done atomic.Bool
	f := &fake{}
	o := fastOptions(s)
	o.StopWhenIdle = done.Load
	o.BatchWindow = 3 * time.Second
	p, err := New(s.client, lambda.NewHandler(f), o)
	if err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() { _, err := p.Run(context.Background()); result <- err }()
	for i := 0; i < 5; i++ {
		s.put(t, "w", i*10, 10)
		time.Sleep(100 * time.Millisecond)
	}
	done.Store(true)
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	// THEN every record is delivered once, in one invocation per shard: the
	// window held the first burst's batch until the others had arrived
	wantCounts(t, s, f.counts(), nil)
	perShard := map[string]int{}
	for _, c := range f.calls {
		perShard[c.shard]++
	}
	for shard, n := range perShard {
		if n != 1 {
			t.Errorf("%s: %d invocations, want 1", shard, n)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for _, o := range []Options{{}, {StreamARN: "a", BatchSize: MaxBatchSize + 1}, {StreamARN: "a", BatchSize: -1}} {
		if _, err := New(nil, nil, o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// overlapDetector fails the test if it is ever invoked concurrently.
type overlapDetector struct {
	fake
	inFlight, overlaps atomic.Int32
}

func (o *overlapDetector) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if o.inFlight.Add(1) > 1 {
		o.overlaps.Add(1)
	}
	defer o.inFlight.Add(-1)
	time.Sleep(2 * time.Millisecond) // widen the window an overlap needs
	return o.fake.Invoke(ctx, payload)
}

func TestOneHandlerIsNeverCalledConcurrently(t *testing.T) {
	emutest.Require(t, srv)
	s := newStream(t, 4)
	s.put(t, "c", 0, 400)
	h := &overlapDetector{}
	o := fastOptions(s)
	o.BatchSize = 10
	run(t, s, h, o)
	wantCounts(t, s, h.counts(), nil)
	if n := h.overlaps.Load(); n > 0 {
		t.Fatalf("handler invoked concurrently %d times; the Lambda runtime never does that", n)
	}
}

func TestPerShardHandlers(t *testing.T) {
	emutest.Require(t, srv)
	s := newStream(t, 3)
	s.put(t, "p", 0, 300)
	var mu sync.Mutex
	handlers := map[string]*fake{}
	p, err := NewPerShard(s.client, func(shard string) (Invoker, error) {
		mu.Lock()
		defer mu.Unlock()
		if handlers[shard] != nil {
			t.Errorf("second handler for %s", shard)
		}
		handlers[shard] = &fake{}
		return handlers[shard], nil
	}, fastOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(handlers) != 3 {
		t.Fatalf("%d handlers, want one per shard", len(handlers))
	}
	for shard, h := range handlers {
		for _, c := range h.calls {
			if c.shard != shard {
				t.Fatalf("handler of %s got a batch of %s", shard, c.shard)
			}
		}
		var got []string
		for _, c := range h.calls {
			got = append(got, c.datas...)
		}
		if strings.Join(got, ",") != strings.Join(s.order[shard], ",") {
			t.Fatalf("%s: got %d records, want %d in order", shard, len(got), len(s.order[shard]))
		}
	}
}

func TestBisectIsolatesTheFailingRecord(t *testing.T) {
	emutest.Require(t, srv)
	s := newStream(t, 1)
	s.put(t, "b", 0, 64)
	// A handler that crashes on any batch holding b-0037.
	f := &fake{fail: func(c call, _ []invocation.KinesisRecord) ([]byte, error) {
		for _, d := range c.datas {
			if d == "b-0037" {
				return nil, errors.New("crash")
			}
		}
		return nil, nil
	}}
	var got []onfailure.Discarded
	o := fastOptions(s)
	o.BatchSize, o.MaxRetryAttempts, o.BisectOnFunctionError = 64, 2, true
	o.OnFailure = func(_ context.Context, d onfailure.Discarded) error { got = append(got, d); return nil }
	st := run(t, s, lambda.NewHandler(f), o)
	// THEN only b-0037 is given up, after its own 1 + 2 attempts, and every other record is delivered
	if len(got) != 1 || len(got[0].Records) != 1 || string(got[0].Records[0].Data) != "b-0037" || got[0].InvokeCount != 3 || got[0].FunctionError != "Unhandled" {
		t.Fatalf("discarded %+v", got)
	}
	delivered := map[string]bool{}
	for _, c := range f.calls {
		if !slices.Contains(c.datas, "b-0037") {
			for _, d := range c.datas {
				delivered[d] = true
			}
		}
	}
	if len(delivered) != 63 || st.Discarded != 1 {
		t.Fatalf("%d records delivered, %d discarded", len(delivered), st.Discarded)
	}
	// AND, as Lambda does, the halves left by the splits follow at their own
	// sizes: b-0038..39, b-0040..47, b-0048..63
	var after []string
	for i, c := range f.calls {
		if len(c.datas) == 1 && c.datas[0] == "b-0037" {
			after = nil
			for _, c := range f.calls[i+1:] {
				after = append(after, fmt.Sprintf("%s+%d", c.datas[0], len(c.datas)))
			}
		}
	}
	if got, want := strings.Join(after, " "), "b-0038+2 b-0040+8 b-0048+16"; got != want {
		t.Fatalf("batches after the isolated record: %s, want %s", got, want)
	}
}
