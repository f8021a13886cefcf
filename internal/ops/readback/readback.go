// Package readback reads logfan's NDJSON output records back from S3: the
// S3 sink's gzip objects and a Firehose destination's objects (plain by
// default, gzip when the stream compresses), and the logs sink's events
// from CloudWatch Logs (LogEvents). Tests, the demo's reconciliation and
// redrive tools use it to count what landed.
package readback

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"

	"github.com/logfan/logfan/shared/record"
)

// API is the S3 calls readback makes; *s3.Client implements it.
type API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Object is one object's key and the records it holds, in file order.
type Object struct {
	Key     string
	Records []record.Event
}

// Keys lists every object key under prefix, following pagination, sorted.
func Keys(ctx context.Context, client s3.ListObjectsV2APIClient, bucket, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Objects reads every object under prefix (sorted by key) and decodes its records.
func Objects(ctx context.Context, client API, bucket, prefix string) ([]Object, error) {
	keys, err := Keys(ctx, client, bucket, prefix)
	if err != nil {
		return nil, err
	}
	objs := make([]Object, 0, len(keys))
	for _, k := range keys {
		recs, err := Read(ctx, client, bucket, k)
		if err != nil {
			return nil, err
		}
		objs = append(objs, Object{Key: k, Records: recs})
	}
	return objs, nil
}

// Records reads every record under prefix, in key then file order, and the
// keys of the objects read.
func Records(ctx context.Context, client API, bucket, prefix string) ([]record.Event, []string, error) {
	objs, err := Objects(ctx, client, bucket, prefix)
	if err != nil {
		return nil, nil, err
	}
	var recs []record.Event
	keys := make([]string, len(objs))
	for i, o := range objs {
		recs = append(recs, o.Records...)
		keys[i] = o.Key
	}
	return recs, keys, nil
}

// Read fetches one object and decodes its records.
func Read(ctx context.Context, client API, bucket, key string) ([]record.Event, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, quiet)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	recs, err := Decode(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return recs, nil
}

// quiet stops the SDK logging, for every object, that an object written
// without a flexible checksum (moto, Firehose, older writers) was not checked;
// gzip's own CRC still guards compressed objects.
func quiet(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }

// Decode reads NDJSON records from r, gunzipping first when r starts with
// the gzip magic bytes (concatenated gzip members are read as one stream).
// Empty lines are skipped; the last line needs no newline.
func Decode(r io.Reader) ([]record.Event, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		// Close only repeats the error a read has already returned.
		defer func() { _ = zr.Close() }()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	var recs []record.Event
	var p fastjson.Parser
	var f fast
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it whole.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(bytes.TrimSpace(line)) > 0 {
			rec, ok := f.parse(line)
			var perr error
			if !ok {
				rec, perr = parse(&p, line)
			}
			if perr != nil {
				return recs, fmt.Errorf("line %d: %w", n, perr)
			}
			recs = append(recs, rec)
		}
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return recs, fmt.Errorf("line %d: %w", n, err)
		}
	}
}

// fast decodes the common line with one fastjson parse and no
// reflection, reusing the owner, log group and stream strings of the line
// before (an object's lines share them). It declines (ok false) what it
// does not handle exactly as parse does: a line with extractedFields
// (parse keeps its text byte for byte), a field of another JSON type, a
// missing id, timestamp or message; parse then decides, or says what is wrong.
type fast struct {
	p                    fastjson.Parser
	owner, group, stream string
}

var extractedKey = []byte(`"extractedFields"`)

func (f *fast) parse(line []byte) (r record.Event, ok bool) {
	if bytes.Contains(line, extractedKey) {
		return r, false
	}
	v, err := f.p.ParseBytes(line)
	if err != nil {
		return r, false
	}
	o, err := v.Object()
	if err != nil {
		return r, false
	}
	ok = true
	var haveID, haveTS, haveMsg bool
	str := func(v *fastjson.Value, keep *string) string {
		b, err := v.StringBytes()
		if err != nil {
			ok = false
			return ""
		}
		if keep != nil && string(b) == *keep {
			return *keep
		}
		s := string(b)
		if keep != nil {
			*keep = s
		}
		return s
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "owner":
			r.Owner = str(v, &f.owner)
		case "logGroup":
			r.LogGroup = str(v, &f.group)
		case "logStream":
			r.LogStream = str(v, &f.stream)
		case "id":
			r.ID, haveID = str(v, nil), true
		case "message":
			r.Message, haveMsg = str(v, nil), true
		case "policyLevel":
			r.PolicyLevel = str(v, nil)
		case "timestamp":
			if v.Type() != fastjson.TypeNumber {
				ok = false
				return
			}
			n, err := v.Int64()
			if err != nil {
				ok = false
			}
			r.Timestamp, haveTS = n, true
		case "subscriptionFilters":
			a, err := v.Array()
			if err != nil {
				ok = false
				return
			}
			r.SubscriptionFilters = make([]string, len(a))
			for i, x := range a {
				r.SubscriptionFilters[i] = str(x, nil)
			}
		}
	})
	return r, ok && haveID && haveTS && haveMsg
}

// ParseLine decodes one NDJSON line of the record schema.
func ParseLine(line []byte) (record.Event, error) {
	var p fastjson.Parser
	return parse(&p, line)
}

// wire keeps every string raw, so parse can unescape it byte-exact: logfan
// writes only valid UTF-8 (record.AppendJSON), but objects written before
// it did may hold invalid bytes, which encoding/json would turn into U+FFFD.
type wire struct {
	Owner               json.RawMessage   `json:"owner"`
	LogGroup            json.RawMessage   `json:"logGroup"`
	LogStream           json.RawMessage   `json:"logStream"`
	SubscriptionFilters []json.RawMessage `json:"subscriptionFilters"`
	ID                  json.RawMessage   `json:"id"`
	Timestamp           *int64            `json:"timestamp"`
	Message             json.RawMessage   `json:"message"`
	ExtractedFields     json.RawMessage   `json:"extractedFields"`
	PolicyLevel         json.RawMessage   `json:"policyLevel"`
	Region              json.RawMessage   `json:"region"`
	HubAccount          json.RawMessage   `json:"hubAccount"`
}

func parse(p *fastjson.Parser, line []byte) (record.Event, error) {
	var w wire
	if err := json.Unmarshal(line, &w); err != nil {
		return record.Event{}, fmt.Errorf("decode record: %w", err)
	}
	if w.Timestamp == nil || w.ID == nil || w.Message == nil {
		return record.Event{}, errors.New("decode record: id, timestamp or message missing")
	}
	var r record.Event
	var err error
	for _, f := range []struct {
		dst  *string
		raw  json.RawMessage
		name string
	}{
		{&r.Owner, w.Owner, "owner"}, {&r.LogGroup, w.LogGroup, "logGroup"}, {&r.LogStream, w.LogStream, "logStream"},
		{&r.ID, w.ID, "id"}, {&r.Message, w.Message, "message"}, {&r.PolicyLevel, w.PolicyLevel, "policyLevel"},
		{&r.Region, w.Region, "region"}, {&r.HubAccount, w.HubAccount, "hubAccount"},
	} {
		if *f.dst, err = unquote(p, f.raw); err != nil {
			return record.Event{}, fmt.Errorf("decode record: %s: %w", f.name, err)
		}
	}
	if w.SubscriptionFilters != nil {
		r.SubscriptionFilters = make([]string, len(w.SubscriptionFilters))
		for i, raw := range w.SubscriptionFilters {
			if r.SubscriptionFilters[i], err = unquote(p, raw); err != nil {
				return record.Event{}, fmt.Errorf("decode record: subscriptionFilters[%d]: %w", i, err)
			}
		}
	}
	r.Timestamp = *w.Timestamp
	if len(w.ExtractedFields) > 0 && !bytes.Equal(w.ExtractedFields, []byte("null")) {
		r.ExtractedFields = w.ExtractedFields
	}
	return r, nil
}

// unquote decodes a raw JSON string byte-exact (absent or null gives "").
func unquote(p *fastjson.Parser, raw json.RawMessage) (string, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	v, err := p.ParseBytes(raw)
	if err != nil {
		return "", err
	}
	b, err := v.StringBytes()
	if err != nil {
		return "", err
	}
	return string(b), nil
}
