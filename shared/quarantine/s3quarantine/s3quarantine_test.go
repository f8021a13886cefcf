package s3quarantine

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
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
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

func TestKey(t *testing.T) {
	tests := []struct {
		prefix string
		e      quarantine.Entry
		want   string
	}{
		{"quarantine", quarantine.Entry{Kind: quarantine.KindRecord, Shard: "shardId-000000000001", SequenceNumber: "4959"},
			"quarantine/record/shard=shardId-000000000001/4959.json"},
		{"q/x", quarantine.Entry{Kind: quarantine.KindEvent, Sink: "logs", Shard: "shardId-1", SequenceNumber: "4959", EventID: "3700"},
			"q/x/event/shard=shardId-1/4959/logs/3700.json"},
		{"", quarantine.Entry{Kind: quarantine.KindEvent, Sink: "s3", Shard: "a/b", SequenceNumber: "1", EventID: ""},
			"event/shard=a%2Fb/1/s3/-.json"},
	}
	for _, tt := range tests {
		got, err := Key(tt.prefix, tt.e)
		if err != nil || got != tt.want {
			t.Errorf("Key(%q, %+v) = %q, %v; want %q", tt.prefix, tt.e, got, err, tt.want)
		}
	}
	if _, err := Key("q", quarantine.Entry{Kind: "other"}); err == nil {
		t.Error("unknown kind: no error")
	}
	// Reason and Data do not change the key: a retried Put overwrites.
	a, b := entries()[2], entries()[2]
	b.Reason, b.Data = "another reason", []byte("x")
	ka, _ := Key("q", a)
	kb, _ := Key("q", b)
	if ka != kb {
		t.Errorf("keys differ: %q %q", ka, kb)
	}
}

func TestEncodeDecode(t *testing.T) {
	for _, e := range entries() {
		body, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := Encode(e)
		if !bytes.Equal(body, again) {
			t.Errorf("Encode is not deterministic")
		}
		got, err := Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
		}
	}
	for _, bad := range []string{"", "{", `{"kind":"other"}`, `{"kind":"record","data":"!!"}`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q): no error", bad)
		}
	}
}

// fakePut records the last PutObject input.
type fakePut struct{ in *s3.PutObjectInput }

func (f *fakePut) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.in = in
	return &s3.PutObjectOutput{}, nil
}

func TestPutInput(t *testing.T) {
	f := &fakePut{}
	q := New(f, config.Quarantine{Bucket: "qb", Prefix: "quarantine"}, WithKMSKey("alias/logfan"))
	if err := q.Put(context.Background(), entries()[0]); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.in.Bucket) != "qb" || aws.ToString(f.in.ContentType) != ContentType ||
		f.in.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(f.in.SSEKMSKeyId) != "alias/logfan" {
		t.Fatalf("input = %+v", f.in)
	}
	if err := q.Put(context.Background(), quarantine.Entry{Kind: "bogus"}); err == nil {
		t.Fatal("unknown kind: no error")
	}
}

func TestMoto(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	cfg, err := awsclient.Load(ctx, emulator.Region)
	if err != nil {
		t.Fatal(err)
	}
	c := awsclient.S3(cfg)
	bucket := "s3quarantine-moto"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	q := New(c, config.Quarantine{Bucket: bucket, Prefix: "quarantine"})
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
		k, _ := Key("quarantine", e)
		if !reflect.DeepEqual(got[k], e) {
			t.Errorf("%s:\n got %+v\nwant %+v", k, got[k], e)
		}
		obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if enc, _ := Encode(e); !bytes.Equal(body, enc) || aws.ToString(obj.ContentType) != ContentType {
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
