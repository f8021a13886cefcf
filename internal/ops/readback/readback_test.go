package readback

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/klauspost/compress/gzip"

	"github.com/valyala/fastjson"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/shared/awsclient"

	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/subscription"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// sample has the shapes a reader must get back: escapes, invalid UTF-8
// (as U+FFFD), U+2028, extracted fields, a policy level, no filters.
func sample() []*subscription.Message {
	return []*subscription.Message{
		{
			MessageType: subscription.DataMessage, Owner: "111111111111", LogGroup: "/aws/lambda/fn", LogStream: "2026/01/01/[$LATEST]abc",
			SubscriptionFilters: []string{"logfan", "other"},
			LogEvents: []subscription.LogEvent{
				{ID: "1", Timestamp: 1767225600000, Message: "plain"},
				{ID: "2", Timestamp: 1767225600001, Message: "tab\tquote\"back\\slash\nnl \u2028 ctl\x01 bad\xff\xfe utf8 ü"},
				{ID: "3", Timestamp: 1767225600002, Message: `{"json":"in message"}`, ExtractedFields: json.RawMessage(`{"a": "1","b":"x\u00e9"}`)},
			},
		},
		{
			MessageType: subscription.DataMessage, Owner: "222222222222", LogGroup: "g", LogStream: "s", PolicyLevel: "ACCOUNT_LEVEL_POLICY",
			SubscriptionFilters: []string{},
			LogEvents:           []subscription.LogEvent{{ID: "4", Timestamp: -5, Message: ""}},
		},
	}
}

func ndjson(msgs []*subscription.Message) ([]byte, []record.Event) {
	var b []byte
	var want []record.Event
	for _, m := range msgs {
		for i := range m.LogEvents {
			b = record.AppendLine(b, m, &m.LogEvents[i])
			want = append(want, record.From(m, &m.LogEvents[i]))
		}
	}
	return b, want
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecode(t *testing.T) {
	plain, want := ndjson(sample())
	half := bytes.IndexByte(plain, '\n') + 1
	tests := []struct {
		name string
		data []byte
	}{
		{"plain", plain},
		{"gzip", gz(t, plain)},
		{"two gzip members", append(gz(t, plain[:half]), gz(t, plain[half:])...)},
		{"no final newline", bytes.TrimSuffix(plain, []byte("\n"))},
		{"blank lines", append([]byte("\n"), bytes.ReplaceAll(plain, []byte("\n"), []byte("\n\n"))...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("records differ:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, data := range map[string]string{
		"not json":          "hello\n",
		"missing timestamp": `{"owner":"1","id":"x","message":"m"}` + "\n",
		"bad string":        `{"owner":1,"id":"x","timestamp":1,"message":"m"}` + "\n",
		"corrupt gzip":      "\x1f\x8b\x08\x00garbage",
	} {
		if _, err := Decode(strings.NewReader(data)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// pager is a one-method ListObjectsV2 fake serving keys two per page.
type pager struct {
	keys  []string
	calls int
}

func (p *pager) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	p.calls++
	start := 0
	if in.ContinuationToken != nil {
		if _, err := fmt.Sscan(*in.ContinuationToken, &start); err != nil {
			return nil, err
		}
	}
	end := min(start+2, len(p.keys))
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(end < len(p.keys))}
	for _, k := range p.keys[start:end] {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k)})
	}
	if end < len(p.keys) {
		out.NextContinuationToken = aws.String(fmt.Sprint(end))
	}
	return out, nil
}

func TestKeysPaginates(t *testing.T) {
	p := &pager{keys: []string{"e", "d", "c", "b", "a"}}
	keys, err := Keys(context.Background(), p, "b", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c", "d", "e"}; !reflect.DeepEqual(keys, want) || p.calls != 3 {
		t.Fatalf("keys = %v in %d calls, want %v in 3", keys, p.calls, want)
	}
}

func TestRecordsFromMoto(t *testing.T) {
	cfg := emutest.Config(t, srv, emulator.Region)
	ctx := context.Background()
	client := awsclient.S3(cfg)
	bucket := "readback-" + strings.ToLower(t.Name())
	emutest.Buckets(t, client, bucket)
	plain, want := ndjson(sample())
	objects := map[string][]byte{
		"out/a.ndjson.gz": gz(t, plain),
		"out/b.json":      plain, // Firehose's default: uncompressed
		"other/c.json":    []byte("not read\n"),
	}
	for k, body := range objects {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	got, keys, err := Records(ctx, client, bucket, "out/")
	if err != nil {
		t.Fatal(err)
	}
	if wantKeys := []string{"out/a.ndjson.gz", "out/b.json"}; !reflect.DeepEqual(keys, wantKeys) {
		t.Fatalf("keys = %v, want %v", keys, wantKeys)
	}
	if !reflect.DeepEqual(got, append(append([]record.Event{}, want...), want...)) {
		t.Fatalf("records differ: got %d records", len(got))
	}
}

// TestFastParseAgrees: the fast path reads every line as parse does, and
// declines what it does not handle; lines longer than the read buffer too.
func TestFastParseAgrees(t *testing.T) {
	lines := []string{
		`{"owner":"111111111111","logGroup":"/g","logStream":"s","subscriptionFilters":["logfan"],"id":"1","timestamp":5,"message":"m \"q\" \u00e9 \ud83d\ude00"}`,
		`{"owner":"111111111111","logGroup":"/g","logStream":"s","subscriptionFilters":[],"id":"2","timestamp":-5,"message":"bad ` + "\xff" + ` utf8","policyLevel":"ACCOUNT_LEVEL_POLICY"}`,
		`{"owner":"111111111111","logGroup":"/g","logStream":"s","subscriptionFilters":null,"id":"3","timestamp":6,"message":"null filters"}`,
		`{"owner":"111111111111","logGroup":"/g","logStream":"s","id":"4","timestamp":7,"message":"x","extractedFields":{"@aws.region": "eu-west-1"}}`,
		`{"owner":"111111111111","id":"5","timestamp":8,"message":"` + strings.Repeat("long ", 40000) + `"}`,
		`{"owner":"111111111111","id":null,"timestamp":9,"message":"null id"}`,
		`{"owner":"222222222222","logGroup":"/h","id":"6","timestamp":10,"message":"m","owner":"333333333333"}`,
	}
	var want []record.Event
	var p fastjson.Parser
	for _, l := range lines {
		r, err := parse(&p, []byte(l))
		if err != nil {
			t.Fatalf("%.60s: %v", l, err)
		}
		want = append(want, r)
	}
	got, err := Decode(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range want {
			if i >= len(got) || !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("line %d: fast %+.120v, parse %+.120v", i, got[i], want[i])
			}
		}
	}
	var f fast
	if _, ok := f.parse([]byte(lines[3])); ok {
		t.Error("the fast path took a line with extractedFields")
	}
	if _, ok := f.parse([]byte(`{"owner":"1","id":"x","message":"m"}`)); ok {
		t.Error("the fast path took a line without timestamp")
	}
}
