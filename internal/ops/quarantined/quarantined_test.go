package quarantined

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// entries are what the consumer quarantines: undecodable records (raw
// bytes, kept exact) and undeliverable events (their JSON line).
func entries() []quarantine.Entry {
	var es []quarantine.Entry
	for i, data := range [][]byte{{0x1f, 0x8b, 0x08, 0, 0xff, 0xfe, '\n', 0}, []byte("not gzip")} {
		es = append(es, quarantine.Entry{Kind: quarantine.KindRecord, Shard: "shardId-000000000001",
			SequenceNumber: fmt.Sprintf("4959%052d", i), Reason: "undecodable", Data: data})
	}
	return append(es, quarantine.Entry{Kind: quarantine.KindEvent, Sink: "logs", Shard: "shardId-000000000002",
		SequenceNumber: "4959" + strings.Repeat("7", 52), EventID: "3700", Reason: "tooOld", Data: []byte(`{"id":"3700","message":"\u2028 \xff"}`)})
}

func TestListAndDelete(t *testing.T) {
	cfg := emutest.Config(t, srv, emulator.Region)
	ctx := context.Background()
	c := awsclient.S3(cfg)
	bucket := "s3quarantine-moto"
	emutest.Buckets(t, c, bucket)
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
