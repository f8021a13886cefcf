package s3sink

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/sink"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

const prefix = "logs"

// s3Client returns a client for moto; with inject, its requests pass
// through a faults.Transport. As in production (app.NewHandler), the SDK
// does not retry: the sink's retry policy does.
func s3Client(t *testing.T, inject faults.Injector) *s3.Client {
	t.Helper()
	return s3.NewFromConfig(emutest.Config(t, srv, emulator.Region), func(o *s3.Options) {
		o.UsePathStyle = true
		o.Retryer = aws.NopRetryer{}
		if inject != nil {
			o.HTTPClient = &http.Client{Transport: &faults.Transport{Inject: inject}}
		}
	})
}

// newBucket creates a bucket named for the test.
func newBucket(t *testing.T, c *s3.Client) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 55 {
		name = name[:55]
	}
	name = "s3sink-" + strings.Trim(name, "-")
	emutest.Buckets(t, c, name)
	return name
}

// genBatch makes records of events from three owners and two log groups
// each, starting at 23:58 UTC so the batch spans midnight and three hours.
func genBatch(seed uint64, records, events int) *sink.Batch {
	g := eventgen.New(seed)
	start := time.Date(2025, 12, 31, 23, 58, 0, 0, time.UTC)
	b := &sink.Batch{ShardID: "shardId-000000000003"}
	kinds := []string{eventgen.KindApp, eventgen.KindCloudTrail, eventgen.KindVPCFlow}
	for i := 0; i < records; i++ {
		src := eventgen.Source{
			Owner:     fmt.Sprintf("%012d", 111111111111*(1+i%3)),
			LogGroup:  fmt.Sprintf("/aws/app/service-%d", i%2),
			LogStream: fmt.Sprintf("stream-%d", i%5),
			Kind:      kinds[i%3],
		}
		m := g.Message(src, events, start.Add(time.Duration(i)*20*time.Second), 150*time.Millisecond, 0)
		b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: fmt.Sprintf("4961%052d", 1000+i), Message: m})
	}
	return b
}

// sorted returns records ordered by event ID, with nil and empty filter lists made equal.
func sorted(recs []record.Event) []record.Event {
	out := append([]record.Event(nil), recs...)
	for i := range out {
		if len(out[i].SubscriptionFilters) == 0 {
			out[i].SubscriptionFilters = nil
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// checkLanded reads the bucket back and checks every event of b is there
// with identical content, each object holds only its partition's events,
// and any duplicate belongs to a record at or after dupFrom. It returns the
// number of duplicates and the object keys.
func checkLanded(t *testing.T, c *s3.Client, bucket string, b *sink.Batch, dupFrom int) (int, []string) {
	t.Helper()
	ctx := context.Background()
	objs, err := readback.Objects(ctx, c, bucket, prefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	recOf := map[string]int{}
	wantByID := map[string]record.Event{}
	for ri, r := range b.Records {
		for i := range r.Message.LogEvents {
			ev := &r.Message.LogEvents[i]
			recOf[ev.ID] = ri
			wantByID[ev.ID] = record.From(r.Message, ev)
		}
	}
	seen := map[string]int{}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
		p, err := s3layout.ParsePath(o.Key, prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range o.Records {
			if r.Owner != p.Owner || r.LogGroup != p.LogGroup || s3layout.HourOf(r.Timestamp) != p.Hour {
				t.Errorf("%s holds an event of %s %s at %d", o.Key, r.Owner, r.LogGroup, r.Timestamp)
			}
			w, ok := wantByID[r.ID]
			if !ok {
				t.Fatalf("%s holds unknown event %s", o.Key, r.ID)
			}
			if !reflect.DeepEqual(sorted([]record.Event{r}), sorted([]record.Event{w})) {
				t.Fatalf("event %s differs:\n got %+v\nwant %+v", r.ID, r, w)
			}
			seen[r.ID]++
		}
	}
	dups := 0
	for id := range wantByID {
		switch n := seen[id]; {
		case n == 0:
			t.Errorf("event %s (record %d) lost", id, recOf[id])
		case n > 1:
			dups += n - 1
			if recOf[id] < dupFrom {
				t.Errorf("event %s of record %d duplicated, below %d", id, recOf[id], dupFrom)
			}
		}
	}
	return dups, keys
}

func TestDeliverReadBack(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	c := s3Client(t, nil)
	bucket := newBucket(t, c)
	b := genBatch(1, 12, 250)
	// A small object bound makes several parts per partition.
	s := New(c, config.S3{Bucket: bucket, Prefix: prefix, MaxObjectBytes: 1 << 20}, WithMaxObjectBytes(64<<10))

	res := s.Deliver(ctx, b)
	if res.FailedAt != -1 || res.Err != nil || res.Delivered != b.Events() || res.Bytes != linesLen(b) {
		t.Fatalf("result = %+v, want all %d events (%d bytes)", res, b.Events(), linesLen(b))
	}
	dups, keys := checkLanded(t, c, bucket, b, len(b.Records))
	if dups != 0 {
		t.Fatalf("%d duplicates", dups)
	}
	days := map[string]bool{}
	perDir := map[string]int{}
	parts := 0
	for _, k := range keys {
		days[k[strings.Index(k, "/dt=")+4:][:10]] = true
		if perDir[path.Dir(k)]++; perDir[path.Dir(k)] == 2 {
			parts++
		}
	}
	if len(days) != 2 || parts == 0 {
		t.Fatalf("want objects on two days and some partitions in several parts: %d days, %d second parts", len(days), parts)
	}

	// Re-invoking the same batch overwrites: same key set, no new object.
	res = s.Deliver(ctx, b)
	if res.FailedAt != -1 || res.Delivered != b.Events() {
		t.Fatalf("second delivery: %+v", res)
	}
	dups, keys2 := checkLanded(t, c, bucket, b, len(b.Records))
	if dups != 0 || !reflect.DeepEqual(keys, keys2) {
		t.Fatalf("re-delivery changed the bucket: %d objects -> %d, %d duplicates", len(keys), len(keys2), dups)
	}
}

func TestSSEKMS(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	c := s3Client(t, nil)
	bucket := newBucket(t, c)
	const key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	s := New(c, config.S3{Bucket: bucket, Prefix: prefix, KMSKeyID: key})
	if res := s.Deliver(ctx, genBatch(2, 1, 5)); res.FailedAt != -1 {
		t.Fatal(res.Err)
	}
	keys, err := readback.Keys(ctx, c, bucket, prefix+"/")
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v: %v", keys, err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[0])})
	if err != nil {
		t.Fatal(err)
	}
	if head.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(head.SSEKMSKeyId) != key {
		t.Fatalf("object encryption %q key %q", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
	}
	if aws.ToString(head.ContentType) != ContentType || head.ContentEncoding != nil {
		t.Fatalf("content type %q encoding %v", aws.ToString(head.ContentType), head.ContentEncoding)
	}
}

// isPut reports whether req is a PutObject of a key containing match.
func isPut(req *http.Request, match string) bool {
	return req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/"+prefix+"/") && strings.Contains(req.URL.Path, match)
}

// TestFaults injects S3 failures between the SDK and moto. Each Deliver
// either lands everything or reports the right FailedAt; re-delivering the
// suffix with faults off completes, and no event is lost overall.
func TestFaults(t *testing.T) {
	emutest.Require(t, srv)
	b := genBatch(3, 10, 120)
	// The lowest record with an event of each group.
	first := map[string]int{}
	for ri, r := range b.Records {
		if _, ok := first[r.Message.LogGroup]; !ok {
			first[r.Message.LogGroup] = ri
		}
	}
	tests := []struct {
		name     string
		inject   func(n *atomic.Int64) faults.Injector
		deadline time.Duration
		// wantFailedAt is -1 when everything must land.
		wantFailedAt int
	}{
		{"503 SlowDown on the first 6 PUTs", func(n *atomic.Int64) faults.Injector {
			return func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
				if isPut(req, "") && n.Add(1) <= 6 {
					return faults.XMLError(503, "SlowDown", "Please reduce your request rate."), nil
				}
				return nil, nil
			}
		}, 10 * time.Second, -1},
		{"transport timeouts on the first 4 PUTs", func(n *atomic.Int64) faults.Injector {
			return func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
				if isPut(req, "") && n.Add(1) <= 4 {
					return nil, faults.ErrTimeout
				}
				return nil, nil
			}
		}, 10 * time.Second, -1},
		{"500 InternalError on every PUT of service-1", func(*atomic.Int64) faults.Injector {
			return func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
				if isPut(req, "service-1/dt=") {
					return faults.XMLError(500, "InternalError", "We encountered an internal error."), nil
				}
				return nil, nil
			}
		}, 1500 * time.Millisecond, first["/aws/app/service-1"]},
		{"service-1 hangs until the deadline", func(*atomic.Int64) faults.Injector {
			return func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
				if isPut(req, "service-1/dt=") {
					return faults.Hang(req)
				}
				return nil, nil
			}
		}, 1500 * time.Millisecond, first["/aws/app/service-1"]},
		{"403 AccessDenied on owner 222222222222, not retried", func(*atomic.Int64) faults.Injector {
			return func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
				if isPut(req, "owner=222222222222/") {
					return faults.XMLError(403, "AccessDenied", "Access Denied"), nil
				}
				return nil, nil
			}
		}, 10 * time.Second, 1},
		{"every PUT hangs", func(*atomic.Int64) faults.Injector {
			return func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
				if isPut(req, "") {
					return faults.Hang(req)
				}
				return nil, nil
			}
		}, time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clean := s3Client(t, nil)
			bucket := newBucket(t, clean)
			var n atomic.Int64
			cfg := config.S3{Bucket: bucket, Prefix: prefix}
			faulty := New(s3Client(t, tt.inject(&n)), cfg, WithRetry(retry.Policy{BackoffBase: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond}))

			ctx, cancel := context.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			start := time.Now()
			res := faulty.Deliver(ctx, b)
			if took := time.Since(start); took > tt.deadline+2*time.Second {
				t.Errorf("Deliver took %v with a %v deadline", took, tt.deadline)
			}
			if res.FailedAt != tt.wantFailedAt {
				t.Fatalf("FailedAt = %d, want %d (err %v)", res.FailedAt, tt.wantFailedAt, res.Err)
			}
			delivered := res.Delivered
			if tt.wantFailedAt < 0 {
				if res.Err != nil || delivered != b.Events() {
					t.Fatalf("result = %+v", res)
				}
				if res.Retries == 0 {
					t.Error("Retries = 0 after injected failures")
				}
				if dups, _ := checkLanded(t, clean, bucket, b, len(b.Records)); dups != 0 {
					t.Fatalf("%d duplicates", dups)
				}
				return
			}
			if res.Err == nil {
				t.Fatal("FailedAt set without Err")
			}
			wantDelivered := 0
			for _, r := range b.Records[:res.FailedAt] {
				wantDelivered += len(r.Message.LogEvents)
			}
			if delivered != wantDelivered {
				t.Fatalf("Delivered = %d, want %d (events below FailedAt)", delivered, wantDelivered)
			}

			// Lambda retries from FailedAt: deliver the suffix with faults off.
			suffix := &sink.Batch{ShardID: b.ShardID, Records: b.Records[res.FailedAt:]}
			res2 := New(clean, cfg).Deliver(context.Background(), suffix)
			if res2.FailedAt != -1 || res2.Delivered != suffix.Events() {
				t.Fatalf("suffix delivery: %+v", res2)
			}
			if lost := b.Events() - delivered - res2.Delivered; lost != 0 {
				t.Fatalf("%d events lost", lost)
			}
			dups, _ := checkLanded(t, clean, bucket, b, res.FailedAt)
			t.Logf("FailedAt %d, delivered %d + %d, %d duplicates (events after FailedAt that had landed in other partitions)",
				res.FailedAt, delivered, res2.Delivered, dups)
		})
	}
}
