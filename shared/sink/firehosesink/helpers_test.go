package firehosesink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// destPrefix is the S3 prefix of the test streams' destination.
const destPrefix = "firehose/"

var nameSeq atomic.Int64

// destination is a Firehose stream on moto with an S3 destination bucket.
type destination struct {
	stream, bucket string
	s3             *s3.Client
}

// newDestination creates a bucket and a DirectPut stream delivering to it,
// named uniquely for the test.
func newDestination(t *testing.T) *destination {
	t.Helper()
	emutest.Require(t, srv)
	ctx := context.Background()
	cfg := awsConfig(t)
	n := nameSeq.Add(1)
	d := &destination{stream: fmt.Sprintf("logfan-fh-%03d", n), bucket: fmt.Sprintf("logfan-fh-dest-%03d", n), s3: awsclient.S3(cfg)}
	emutest.Buckets(t, d.s3, d.bucket)
	fh := firehose.NewFromConfig(cfg)
	_, err := fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(d.stream),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + d.bucket),
			RoleARN:   aws.String("arn:aws:iam::123456789012:role/logfan-firehose"),
			Prefix:    aws.String(destPrefix),
		},
	})
	if err != nil {
		t.Fatalf("create delivery stream %s: %v", d.stream, err)
	}
	return d
}

func awsConfig(t *testing.T) aws.Config {
	t.Helper()
	return emutest.Config(t, srv, emulator.Region)
}

// client returns a Firehose client for moto whose requests pass through a
// faults.Transport with rec's injector. As in production (app.NewHandler),
// the SDK does not retry: the sink's retry policy does.
func (d *destination) client(t *testing.T, rec *recorder) *firehose.Client {
	t.Helper()
	return firehose.NewFromConfig(awsConfig(t), func(o *firehose.Options) {
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = &http.Client{Transport: &faults.Transport{Inject: rec.inject}}
	})
}

// landed reads the destination back: every NDJSON line, parsed, checking
// that each object is whole lines (what record concatenation relies on).
func (d *destination) landed(t *testing.T) []record.Event {
	t.Helper()
	ctx := context.Background()
	keys, err := readback.Keys(ctx, d.s3, d.bucket, destPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []record.Event
	for _, k := range keys {
		o, err := d.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(k)}, func(o *s3.Options) {
			o.DisableLogOutputChecksumValidationSkipped = true
		})
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		body, err := io.ReadAll(o.Body)
		o.Body.Close()
		if err != nil {
			t.Fatalf("read %s: %v", k, err)
		}
		if len(body) == 0 || body[len(body)-1] != '\n' {
			t.Errorf("object %s (%d bytes) does not end in a newline", k, len(body))
		}
		recs, err := readback.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("decode %s: %v", k, err)
		}
		if lines := bytes.Count(body, []byte("\n")); lines != len(recs) {
			t.Errorf("object %s: %d lines but %d records", k, lines, len(recs))
		}
		out = append(out, recs...)
	}
	return out
}

// expectation indexes a batch's events by ID.
type expectation struct {
	want  map[string]record.Event
	recOf map[string]int // event ID -> Batch.Records index
	total int
}

func expect(t *testing.T, b *sink.Batch) *expectation {
	t.Helper()
	e := &expectation{want: map[string]record.Event{}, recOf: map[string]int{}}
	for i, r := range b.Records {
		for k := range r.Message.LogEvents {
			ev := &r.Message.LogEvents[k]
			if _, dup := e.want[ev.ID]; dup {
				t.Fatalf("test batch reuses event ID %s", ev.ID)
			}
			e.want[ev.ID] = record.From(r.Message, ev)
			e.recOf[ev.ID] = i
			e.total++
		}
	}
	return e
}

// count checks every landed record is an expected event with identical
// content, and returns how many times each event landed.
func (e *expectation) count(t *testing.T, got []record.Event) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, g := range got {
		w, ok := e.want[g.ID]
		if !ok {
			t.Errorf("unexpected event %q landed", g.ID)
			continue
		}
		if !reflect.DeepEqual(normalize(g), normalize(w)) {
			t.Errorf("event %s landed changed:\n got %+v\nwant %+v", g.ID, g, w)
		}
		n[g.ID]++
	}
	return n
}

// exactlyOnce asserts every expected event landed exactly once.
func (e *expectation) exactlyOnce(t *testing.T, got []record.Event) {
	t.Helper()
	n := e.count(t, got)
	missing, dups := 0, 0
	for id := range e.want {
		switch c := n[id]; {
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	if missing > 0 || dups > 0 {
		t.Errorf("%d of %d events missing, %d duplicates", missing, e.total, dups)
	}
}

// firstNotLanded is the lowest Batch.Records index with an event that did
// not land: what FailedAt must be, computed from the destination alone.
func (e *expectation) firstNotLanded(n map[string]int, nRecords int) int {
	first := nRecords
	for id, r := range e.recOf {
		if n[id] == 0 && r < first {
			first = r
		}
	}
	if first == nRecords {
		return -1
	}
	return first
}

// normalize makes empty and nil slices compare equal.
func normalize(r record.Event) record.Event {
	if len(r.SubscriptionFilters) == 0 {
		r.SubscriptionFilters = nil
	}
	if len(r.ExtractedFields) == 0 {
		r.ExtractedFields = nil
	}
	return r
}

// genBatch builds a batch of nRecords generated messages of nEvents each,
// cycling through the eventgen kinds, plus (withOdd) the testdata fixture
// decoded by the real decoder and an event with invalid UTF-8.
func genBatch(t testing.TB, seed uint64, nRecords, nEvents, size int, withOdd bool) *sink.Batch {
	t.Helper()
	g := eventgen.New(seed)
	kinds := []string{eventgen.KindApp, eventgen.KindCloudTrail, eventgen.KindVPCFlow, eventgen.KindRandom}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &sink.Batch{ShardID: "shardId-000000000001"}
	for i := 0; i < nRecords; i++ {
		src := eventgen.Source{
			Owner:     fmt.Sprintf("%012d", 111111111111*(1+i%3)),
			LogGroup:  fmt.Sprintf("/aws/app/svc-%d", i%3),
			LogStream: fmt.Sprintf("stream-%d", i%5),
			Kind:      kinds[i%len(kinds)],
		}
		m := g.Message(src, nEvents, start.Add(time.Duration(i)*time.Minute), time.Millisecond, size)
		b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: seqNo(i), Message: m})
	}
	if withOdd {
		raw, err := os.ReadFile("testdata/odd_events.json")
		if err != nil {
			t.Fatal(err)
		}
		m, err := subscription.NewDecoder(0).Decode(subscription.Compress(raw))
		if err != nil {
			t.Fatalf("decode testdata/odd_events.json: %v", err)
		}
		m.LogEvents = append(m.LogEvents, subscription.LogEvent{
			ID: "38000000000000000000000000000000000000000000000000000099", Timestamp: 1767225600099,
			Message: "invalid UTF-8 lands as U+FFFD: \xff\xfe \xc3( end",
		})
		// In the middle, so its events pack together with generated ones.
		mid := len(b.Records) / 2
		b.Records = append(b.Records[:mid], append([]sink.DecodedRecord{{Message: m}}, b.Records[mid:]...)...)
		for i := range b.Records {
			b.Records[i].SequenceNumber = seqNo(i)
		}
	}
	return b
}

func seqNo(i int) string { return fmt.Sprintf("4965%052d", i) }

func suffix(b *sink.Batch, from int) *sink.Batch {
	return &sink.Batch{ShardID: b.ShardID, Records: b.Records[from:]}
}

// recorder sits in the faults.Transport: it keeps every PutRecordBatch
// request's records (as sent by the SDK) and what was finally forwarded to
// moto, and applies a fault plan.
type recorder struct {
	mu    sync.Mutex
	plan  func(call int, records [][]byte) fault
	calls [][][]byte // records of each PutRecordBatch request the SDK sent
	// dropped[i] are the indexes of calls[i] answered as failed without reaching moto.
	dropped [][]int
}

// fault is what happens to one PutRecordBatch request.
type fault struct {
	resp *http.Response // a whole-call error response
	err  error          // a transport error
	hang bool           // block until the request's context ends
	drop []int          // entries to fail (partial failure); the rest reach moto
}

type putRecordBatchBody struct {
	DeliveryStreamName string
	Records            []struct{ Data []byte }
}

func (r *recorder) setPlan(p func(call int, records [][]byte) fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plan = p
}

func (r *recorder) inject(req *http.Request, body []byte, _ int) (*http.Response, error) {
	if !faults.IsOperation(req, "PutRecordBatch") {
		return nil, nil
	}
	var in putRecordBatchBody
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("test recorder: parse PutRecordBatch body: %w", err)
	}
	records := make([][]byte, len(in.Records))
	for i, rec := range in.Records {
		records[i] = rec.Data
	}
	r.mu.Lock()
	r.calls = append(r.calls, records)
	call := len(r.calls)
	plan := r.plan
	r.mu.Unlock()
	var f fault
	if plan != nil {
		f = plan(call, records)
	}
	r.mu.Lock()
	r.dropped = append(r.dropped, f.drop)
	r.mu.Unlock()
	switch {
	case f.hang:
		return faults.Hang(req)
	case f.resp != nil || f.err != nil:
		return f.resp, f.err
	case len(f.drop) > 0:
		return forwardPartial(req, in, f.drop)
	}
	return nil, nil
}

// forwardPartial sends moto only the entries not in drop, and answers as
// Firehose does on a partial failure: one response per request entry, in
// order, with ErrorCode for the dropped ones and moto's RecordId for the
// rest, so what moto stored is exactly what the response claims.
func forwardPartial(req *http.Request, in putRecordBatchBody, drop []int) (*http.Response, error) {
	isDropped := map[int]bool{}
	for _, i := range drop {
		isDropped[i] = true
	}
	kept := putRecordBatchBody{DeliveryStreamName: in.DeliveryStreamName}
	for i, rec := range in.Records {
		if !isDropped[i] {
			kept.Records = append(kept.Records, rec)
		}
	}
	var ids []string
	if len(kept.Records) > 0 {
		body, err := json.Marshal(kept)
		if err != nil {
			return nil, err
		}
		fwd := req.Clone(req.Context())
		fwd.Body = io.NopCloser(bytes.NewReader(body))
		fwd.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		fwd.ContentLength = int64(len(body))
		fwd.Header.Set("Content-Length", strconv.Itoa(len(body)))
		resp, err := http.DefaultTransport.RoundTrip(fwd)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out struct {
			FailedPutCount   int
			RequestResponses []struct{ RecordId string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("test recorder: moto answered HTTP %d: %v", resp.StatusCode, err)
		}
		if out.FailedPutCount != 0 || len(out.RequestResponses) != len(kept.Records) {
			return nil, fmt.Errorf("test recorder: moto answered %d responses, %d failed, for %d records", len(out.RequestResponses), out.FailedPutCount, len(kept.Records))
		}
		for _, e := range out.RequestResponses {
			ids = append(ids, e.RecordId)
		}
	}
	type entry struct {
		RecordId     string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedPutCount   int
		Encrypted        bool
		RequestResponses []entry
	}{FailedPutCount: len(in.Records) - len(kept.Records)}
	for i := range in.Records {
		if isDropped[i] {
			out.RequestResponses = append(out.RequestResponses, entry{ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."})
			continue
		}
		out.RequestResponses = append(out.RequestResponses, entry{RecordId: ids[0]})
		ids = ids[1:]
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": []string{"application/x-amz-json-1.1"}, "X-Amzn-Requestid": []string{"partial"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// checkLimits asserts every PutRecordBatch request stayed within the limits.
func (r *recorder) checkLimits(t *testing.T, lim Limits) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, c := range r.calls {
		total := 0
		for _, d := range c {
			total += len(d)
			if len(d) > lim.RecordBytes || len(d) == 0 {
				t.Errorf("call %d: a %d-byte record (limit %d)", i+1, len(d), lim.RecordBytes)
			}
		}
		if len(c) > lim.Records || total > lim.CallBytes || len(c) == 0 {
			t.Errorf("call %d: %d records, %d bytes (limits %d, %d)", i+1, len(c), total, lim.Records, lim.CallBytes)
		}
	}
}

func (r *recorder) numCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// containsID reports whether a record's NDJSON holds event id.
func containsID(data []byte, id string) bool {
	return bytes.Contains(data, []byte(`"id":"`+id+`"`))
}

func lineLen(m *subscription.Message, ev *subscription.LogEvent) int {
	return len(record.AppendLine(nil, m, ev))
}
