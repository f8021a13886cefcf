// Package s3quarantine keeps quarantined records and events in S3, one JSON
// object per entry, under keys derived only from the entry's identity:
//
//	<prefix>/record/shard=<shard>/<sequenceNumber>.json
//	<prefix>/event/shard=<shard>/<sequenceNumber>/<sink>[/target=<target>]/<event index>.json
//
// (each part escaped with s3layout.Escape). An event is keyed by its position
// in the record, not by its ID, which a sender may repeat or leave empty:
// every undeliverable event is an object of its own. Putting the same entry
// again, as a retried batch does, overwrites the same object with the same
// bytes, so Put is idempotent. The body carries no timestamp for that reason;
// the object's LastModified says when it was quarantined. Decode reads a
// body back (internal/ops/quarantined lists and deletes entries).
package s3quarantine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/logfan/logfan/shared/s3layout"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
)

// PutObjectAPI is the S3 call Put makes; *s3.Client implements it.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// ContentType is the Content-Type of quarantine objects.
const ContentType = "application/json"

// Quarantine is a quarantine.Quarantine on S3.
type Quarantine struct {
	client   PutObjectAPI
	bucket   string
	prefix   string
	kmsKeyID string
}

var _ quarantine.Quarantine = (*Quarantine)(nil)

// New returns a Quarantine writing to cfg.Bucket under cfg.Prefix, with
// SSE-KMS under cfg.KMSKeyID when it is set (otherwise the bucket's default
// encryption applies, which the stack sets).
func New(client PutObjectAPI, cfg config.Quarantine) *Quarantine {
	return &Quarantine{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix, kmsKeyID: cfg.KMSKeyID}
}

// Put stores e, overwriting an earlier Put of the same entry. It makes one
// attempt (the consumer retries under the retry policy); an error means e
// is not stored.
func (q *Quarantine) Put(ctx context.Context, e quarantine.Entry) error {
	key, err := Key(q.prefix, e)
	if err != nil {
		return err
	}
	body, err := Encode(e)
	if err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(q.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(ContentType),
	}
	if q.kmsKeyID != "" {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(q.kmsKeyID)
		in.BucketKeyEnabled = aws.Bool(true)
	}
	if _, err := q.client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("quarantine %s to s3://%s/%s: %w", e.Kind, q.bucket, key, err)
	}
	return nil
}

// seg escapes one key segment; an empty value becomes "-" so keys never
// hold an empty path segment (no shard, sequence number or sink is "-").
func seg(s string) string {
	if s == "" {
		return "-"
	}
	return s3layout.Escape(s)
}

// Key returns the object key of e under prefix.
func Key(prefix string, e quarantine.Entry) (string, error) {
	var k string
	switch e.Kind {
	case quarantine.KindRecord:
		k = "record/shard=" + seg(e.Shard) + "/" + seg(e.SequenceNumber) + ".json"
	case quarantine.KindEvent:
		sinkSeg := seg(e.Sink)
		if e.Target != "" {
			// One entry per target an event could not reach.
			sinkSeg += "/target=" + seg(e.Target)
		}
		if e.Event < 0 {
			return "", fmt.Errorf("quarantine event entry of record %s with negative index %d", e.SequenceNumber, e.Event)
		}
		k = "event/shard=" + seg(e.Shard) + "/" + seg(e.SequenceNumber) + "/" + sinkSeg + "/" + strconv.Itoa(e.Event) + ".json"
	default:
		return "", fmt.Errorf("quarantine entry of unknown kind %q (want %q or %q)", e.Kind, quarantine.KindRecord, quarantine.KindEvent)
	}
	if prefix != "" {
		k = prefix + "/" + k
	}
	return k, nil
}

// envelope is the stored JSON. Data is base64 (encoding/json's []byte), so
// a record's raw gzip bytes and an event's NDJSON line come back exact.
type envelope struct {
	Kind           string `json:"kind"`
	Sink           string `json:"sink,omitempty"`
	Target         string `json:"target,omitempty"`
	Shard          string `json:"shard"`
	SequenceNumber string `json:"sequenceNumber"`
	EventID        string `json:"eventId,omitempty"`
	Event          int    `json:"event,omitempty"`
	Reason         string `json:"reason"`
	Data           []byte `json:"data"`
}

// Encode returns the JSON body stored for e.
func Encode(e quarantine.Entry) ([]byte, error) {
	b, err := json.Marshal(envelope{Kind: e.Kind, Sink: e.Sink, Target: e.Target, Shard: e.Shard, SequenceNumber: e.SequenceNumber, EventID: e.EventID, Event: e.Event, Reason: e.Reason, Data: e.Data})
	if err != nil {
		return nil, fmt.Errorf("encode quarantine entry: %w", err)
	}
	return b, nil
}

// Decode parses a body written by Encode.
func Decode(body []byte) (quarantine.Entry, error) {
	var v envelope
	if err := json.Unmarshal(body, &v); err != nil {
		return quarantine.Entry{}, fmt.Errorf("decode quarantine entry: %w", err)
	}
	if v.Kind != quarantine.KindRecord && v.Kind != quarantine.KindEvent {
		return quarantine.Entry{}, fmt.Errorf("decode quarantine entry: unknown kind %q", v.Kind)
	}
	return quarantine.Entry{Kind: v.Kind, Sink: v.Sink, Target: v.Target, Shard: v.Shard, SequenceNumber: v.SequenceNumber, EventID: v.EventID, Event: v.Event, Reason: v.Reason, Data: v.Data}, nil
}
