package s3quarantine

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
)

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
			EventID: "37000000000000000000000000000000000000000000000000000001", Event: 7, Reason: "event over 1,000 KiB",
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
		{"q/x", quarantine.Entry{Kind: quarantine.KindEvent, Sink: "logs", Shard: "shardId-1", SequenceNumber: "4959", EventID: "3700", Event: 12},
			"q/x/event/shard=shardId-1/4959/logs/12.json"},
		{"", quarantine.Entry{Kind: quarantine.KindEvent, Sink: "s3", Shard: "a/b", SequenceNumber: "1", EventID: ""},
			"event/shard=a%2Fb/1/s3/0.json"},
		{"q", quarantine.Entry{Kind: quarantine.KindEvent, Sink: "logs", Target: "logs:eu-west-1", Shard: "shardId-1", SequenceNumber: "4959", Event: 3},
			"q/event/shard=shardId-1/4959/logs/target=logs%3Aeu-west-1/3.json"},
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
	if _, err := Key("q", quarantine.Entry{Kind: quarantine.KindEvent, Event: -1}); err == nil {
		t.Error("negative event index: no error")
	}
	// Events are keyed by position: undeliverable events of one record
	// with the same ID, or none, are distinct objects.
	keys := map[string]bool{}
	for i, id := range []string{"dup", "dup", "", "", "3700"} {
		k, err := Key("q", quarantine.Entry{Kind: quarantine.KindEvent, Sink: "logs", Shard: "shardId-1", SequenceNumber: "4959", EventID: id, Event: i})
		if err != nil || keys[k] {
			t.Errorf("event %d (ID %q): key %q, %v: not a key of its own", i, id, k, err)
		}
		keys[k] = true
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

func TestPutInput(t *testing.T) {
	f := &fakeaws.S3{}
	q := New(f, config.Quarantine{Bucket: "qb", Prefix: "quarantine", KMSKeyID: "alias/logfan"})
	if err := q.Put(context.Background(), entries()[0]); err != nil {
		t.Fatal(err)
	}
	keys := f.Keys()
	if len(keys) != 1 {
		t.Fatalf("objects %v, want one", keys)
	}
	in, _ := f.Input(keys[0])
	if aws.ToString(in.Bucket) != "qb" || aws.ToString(in.ContentType) != ContentType ||
		in.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(in.SSEKMSKeyId) != "alias/logfan" {
		t.Fatalf("input = %+v", in)
	}
	if err := q.Put(context.Background(), quarantine.Entry{Kind: "bogus"}); err == nil {
		t.Fatal("unknown kind: no error")
	}
}
