package invocation

import (
	"encoding/base64"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// EventSource is what a Lambda Kinesis event says about where its records
// come from and which role reads them.
type EventSource struct {
	// StreamARN is the stream (eventSourceARN); its region is each record's awsRegion.
	StreamARN string
	// ShardID is the shard the records come from (eventID is "<ShardID>:<sequence number>").
	ShardID string
	// RoleARN is the function's execution role (invokeIdentityArn).
	RoleARN string
}

// StreamRecord is one record as the stream holds it (what GetRecords
// returns), to be put in a Lambda Kinesis event.
type StreamRecord struct {
	// SequenceNumber is the record's sequence number.
	SequenceNumber string
	// PartitionKey is the record's partition key.
	PartitionKey string
	// Arrival is the approximate arrival time; Lambda sends it in seconds with millisecond precision.
	Arrival time.Time
	// Data is the record's data (base64-encoded in the event).
	Data []byte
	// Encrypted reports a record the stream encrypted with KMS (encryptionType "KMS").
	Encrypted bool
}

// KinesisEventRecord returns r as Lambda writes it into a Kinesis event,
// every field Lambda sets included; Parse reads back the ones logfan uses.
func KinesisEventRecord(src EventSource, r StreamRecord) events.KinesisEventRecord {
	region := ""
	if a, err := arn.Parse(src.StreamARN); err == nil {
		region = a.Region
	}
	enc := ""
	if r.Encrypted {
		enc = "KMS"
	}
	return events.KinesisEventRecord{
		AwsRegion:         region,
		EventID:           src.ShardID + ":" + r.SequenceNumber,
		EventName:         "aws:kinesis:record",
		EventSource:       "aws:kinesis",
		EventSourceArn:    src.StreamARN,
		EventVersion:      "1.0",
		InvokeIdentityArn: src.RoleARN,
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: r.Arrival.Truncate(time.Millisecond)},
			Data:                        r.Data,
			EncryptionType:              enc,
			PartitionKey:                r.PartitionKey,
			SequenceNumber:              r.SequenceNumber,
			KinesisSchemaVersion:        "1.0",
		},
	}
}

// KinesisEvent returns the Lambda Kinesis event delivering recs from src,
// in order; marshalled with encoding/json it is what Parse reads. An empty
// batch has "Records":[], not null.
func KinesisEvent(src EventSource, recs []StreamRecord) events.KinesisEvent {
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, len(recs))}
	for i, r := range recs {
		ev.Records[i] = KinesisEventRecord(src, r)
	}
	return ev
}

// AWSLogsEvent returns the Lambda event of a direct CloudWatch Logs
// subscription delivering payload (a subscription.Encode result); Parse
// reads it back as AWSLogsData.
func AWSLogsEvent(payload []byte) events.CloudwatchLogsEvent {
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(payload)}}
}
