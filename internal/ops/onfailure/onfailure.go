// Package onfailure reads and writes the invocation records Lambda sends
// to an event source mapping's on-failure destination when a Kinesis batch
// runs out of retries. An S3 destination alone receives the whole
// invocation payload (the records' data, not just their sequence range),
// which is what makes a later redrive possible.
//
// https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
package onfailure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"github.com/logfan/logfan/internal/ops/naming"
)

// Version is the invocation record format version Lambda writes.
const Version = "1.0"

// KeyPrefix is where Lambda writes on-failure objects in the bucket:
// aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>.
const KeyPrefix = naming.OnFailureKeyPrefix

// ConditionRetriesExhausted is the on-failure record's condition when retries ran out.
const ConditionRetriesExhausted = "RetryAttemptsExhausted"

// Discarded is a Kinesis batch whose retries ran out: what Lambda sends to an
// on-failure destination (the S3 kind receives the whole invocation payload).
type Discarded struct {
	// StreamARN and ShardID locate the records.
	StreamARN, ShardID string
	// FunctionARN is the function that failed.
	FunctionARN string
	// RequestID is the last attempt's request ID.
	RequestID string
	// Condition is ConditionRetriesExhausted.
	Condition string
	// InvokeCount is how many times the first record was offered.
	InvokeCount int
	// FunctionError is "Unhandled" when the function returned an error, "" when it reported batchItemFailures.
	FunctionError string
	// Reason says why the last attempt failed.
	Reason string
	// Records are the discarded records, in stream order.
	Records []types.Record
	// Payload is the Lambda Kinesis event holding exactly Records.
	Payload []byte
	// Time is when the batch was given up.
	Time time.Time
}

// timeLayout is Lambda's timestamp format in the record (ISO 8601, milliseconds, Z).
const timeLayout = "2006-01-02T15:04:05.000Z"

// InvocationRecord is what Lambda writes to the on-failure destination for a
// Kinesis batch it gave up on: the request, the response and the batch.
type InvocationRecord struct {
	RequestContext   RequestContext  `json:"requestContext"`
	ResponseContext  ResponseContext `json:"responseContext"`
	Version          string          `json:"version"`
	Timestamp        string          `json:"timestamp"`
	KinesisBatchInfo *BatchInfo      `json:"KinesisBatchInfo"`
	// Payload is the invocation's event JSON (S3 destinations only).
	Payload Payload `json:"payload,omitempty"`
}

// RequestContext describes the failed invocation.
type RequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// ResponseContext is what the function answered last.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

// BatchInfo locates the discarded records in the stream.
type BatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// Payload is the invocation's event JSON. Lambda stores it as a JSON
// string holding the event; a record whose payload is the event object
// itself is read as well.
type Payload []byte

// MarshalJSON writes the event as an escaped JSON string, as Lambda does.
func (p Payload) MarshalJSON() ([]byte, error) {
	if len(p) == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(string(p))
}

// UnmarshalJSON accepts the event as a JSON string or as an object.
func (p *Payload) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*p = nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("payload: %w", err)
		}
		*p = Payload(s)
	default:
		*p = append((*p)[:0], b...)
	}
	return nil
}

// ErrNotKinesis means the object is an invocation record of another event source (or none).
var ErrNotKinesis = errors.New("not a Kinesis on-failure invocation record")

// Parse decodes an on-failure object.
func Parse(b []byte) (*InvocationRecord, error) {
	var r InvocationRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse on-failure record: %w", err)
	}
	if r.KinesisBatchInfo == nil || r.KinesisBatchInfo.ShardID == "" {
		return nil, ErrNotKinesis
	}
	return &r, nil
}

// FromDiscarded builds the record Lambda would send for a batch an event
// source mapping (the emulator's poller) gave up on.
func FromDiscarded(d Discarded) InvocationRecord {
	first, last := d.Records[0], d.Records[len(d.Records)-1]
	arrival := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(timeLayout)
	}
	return InvocationRecord{
		RequestContext: RequestContext{RequestID: d.RequestID, FunctionARN: d.FunctionARN, Condition: d.Condition, ApproximateInvokeCount: d.InvokeCount},
		ResponseContext: ResponseContext{
			StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: d.FunctionError,
		},
		Version:   Version,
		Timestamp: d.Time.UTC().Format(timeLayout),
		KinesisBatchInfo: &BatchInfo{
			ShardID:                         d.ShardID,
			StartSequenceNumber:             aws.ToString(first.SequenceNumber),
			EndSequenceNumber:               aws.ToString(last.SequenceNumber),
			ApproximateArrivalOfFirstRecord: arrival(first.ApproximateArrivalTimestamp),
			ApproximateArrivalOfLastRecord:  arrival(last.ApproximateArrivalTimestamp),
			BatchSize:                       len(d.Records),
			StreamARN:                       d.StreamARN,
		},
		Payload: Payload(d.Payload),
	}
}

// Key is the object key Lambda uses for a record of mapping esmUUID, written at t.
func Key(esmUUID, shardID string, t time.Time, random string) string {
	t = t.UTC()
	return KeyPrefix + esmUUID + "/" + shardID + "/" + t.Format("2006/01/02") + "/" + t.Format("2006-01-02T15.04.05") + "-" + random
}

// PutAPI is the S3 call a Destination makes.
type PutAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Destination writes records into an S3 bucket the way Lambda's S3
// on-failure destination does; its Put is a poller.Options.OnFailure.
type Destination struct {
	Client PutAPI
	Bucket string
	// MappingUUID stands for the event source mapping's UUID in keys.
	MappingUUID string
}

// Put writes the record for d.
func (dst *Destination) Put(ctx context.Context, d Discarded) error {
	rec := FromDiscarded(d)
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode on-failure record: %w", err)
	}
	key := Key(dst.MappingUUID, d.ShardID, d.Time, uuid.NewString())
	if _, err := dst.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(dst.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	}); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", dst.Bucket, key, err)
	}
	return nil
}
