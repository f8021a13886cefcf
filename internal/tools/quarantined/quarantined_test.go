package quarantined

import (
	"bytes"
	"context"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/tools/sdkconfig"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// entries returns a poison record (raw, not-quite-gzip bytes), a valid
// gzip payload and an event line with invalid UTF-8.
func entries() []quarantine.Entry {
	m := eventgen.New(7).Message(eventgen.Source{Owner: "111111111111", LogGroup: "/aws/x", LogStream: "s"}, 3, time.Unix(1767225600, 0), time.Second, 0)
	return []quarantine.Entry{
		{Kind: quarantine.KindRecord, Shard: "shardId-000000000001", SequenceNumber: "49590000000000000000000000000000000000000000000000000001",
			Reason: "corrupt gzip: flate: corrupt input", Data: []byte{0x1f, 0x8b, 0x08, 0, 0xff, 0xfe, '\n', 0}},
		{Kind: quarantine.KindRecord, Shard: "shardId-000000000001", SequenceNumber: "49590000000000000000000000000000000000000000000000000002",
			Reason: "decompressed size over cap", Data: eventgen.MustPayload(m)},
		{Kind: quarantine.KindEvent, Sink: "firehose", Shard: "shardId-000000000002", SequenceNumber: "49590000000000000000000000000000000000000000000000000003",
			EventID: "37000000000000000000000000000000000000000000000000000001", Reason: "event over 1,000 KiB",
			Data: []byte("{\"owner\":\"1\",\"message\":\"bad \xff utf8 \\n\"}\n")},
	}
}

func TestMoto(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	cfg, err := sdkconfig.Load(ctx, emulator.Region)
	if err != nil {
		t.Fatal(err)
	}
	c := awsclient.S3(cfg)
	bucket := "s3quarantine-moto"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	q := s3quarantine.New(c, config.Quarantine{Bucket: bucket, Prefix: "quarantine"})
	want := entries()
	// Put everything twice, as a retried batch would.
	for round := 0; round < 2; round++ {
		for _, e := range want {
			if err := q.Put(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	items, err := List(ctx, c, bucket, "quarantine/")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(want) {
		t.Fatalf("%d objects after putting %d entries twice", len(items), len(want))
	}
	got := map[string]quarantine.Entry{}
	for _, it := range items {
		got[it.Key] = it.Entry
	}
	for _, e := range want {
		k, _ := s3quarantine.Key("quarantine", e)
		if !reflect.DeepEqual(got[k], e) {
			t.Errorf("%s:\n got %+v\nwant %+v", k, got[k], e)
		}
		obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if enc, _ := s3quarantine.Encode(e); !bytes.Equal(body, enc) || aws.ToString(obj.ContentType) != s3quarantine.ContentType {
			t.Errorf("%s: stored body or content type differs", k)
		}
	}

	records, err := List(ctx, c, bucket, "quarantine/record/")
	if err != nil || len(records) != 2 {
		t.Fatalf("records only: %d, %v", len(records), err)
	}
	if err := Delete(ctx, c, bucket, items[0].Key); err != nil {
		t.Fatal(err)
	}
	left, err := List(ctx, c, bucket, "quarantine/")
	if err != nil || len(left) != len(want)-1 || strings.Compare(left[0].Key, items[0].Key) == 0 {
		t.Fatalf("after delete: %d items, %v", len(left), err)
	}
}
