// Package invocation parses the Lambda event payloads a logfan consumer
// receives: a Kinesis batch, or a direct CloudWatch Logs subscription
// ({"awslogs":{"data":"..."}}). It decodes into lean structs, skipping the
// fields logfan does not use.
package invocation

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownEvent means the payload is neither a Kinesis batch nor an awslogs event.
var ErrUnknownEvent = errors.New("not a Kinesis or awslogs event")

// Invocation is one parsed Lambda event: either Records (Kinesis) or AWSLogsData is set.
type Invocation struct {
	// Records are the Kinesis records, in stream order.
	Records []Record
	// AWSLogsData is the gzip payload of a direct subscription event (already base64-decoded).
	AWSLogsData []byte
	// IsAWSLogs reports a direct subscription event.
	IsAWSLogs bool
}

// Record is one Kinesis record of a Lambda event.
type Record struct {
	// EventID is "<shardId>:<sequenceNumber>".
	EventID string
	// EventSourceARN is the stream's ARN.
	EventSourceARN string
	// SequenceNumber is the record's sequence number.
	SequenceNumber string
	// PartitionKey is the record's partition key.
	PartitionKey string
	// ApproximateArrivalTimestamp is seconds since the epoch, as Lambda sends it.
	ApproximateArrivalTimestamp float64
	// Data is the record's data, base64-decoded.
	Data []byte
}

// ShardID returns the shard the record came from, taken from EventID.
func (r *Record) ShardID() string {
	if i := strings.LastIndexByte(r.EventID, ':'); i > 0 {
		return r.EventID[:i]
	}
	return "unknown-shard"
}

type envelope struct {
	Records []struct {
		EventID        string `json:"eventID"`
		EventSourceARN string `json:"eventSourceARN"`
		Kinesis        struct {
			SequenceNumber string  `json:"sequenceNumber"`
			PartitionKey   string  `json:"partitionKey"`
			Arrival        float64 `json:"approximateArrivalTimestamp"`
			Data           []byte  `json:"data"`
		} `json:"kinesis"`
	} `json:"Records"`
	AWSLogs *struct {
		Data []byte `json:"data"`
	} `json:"awslogs"`
}

// Parse parses a Lambda event payload.
func Parse(payload []byte) (*Invocation, error) {
	var env envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, fmt.Errorf("parse Lambda event: %w", err)
	}
	if env.AWSLogs != nil {
		if len(env.AWSLogs.Data) == 0 {
			return nil, fmt.Errorf("awslogs event: %w: empty data", ErrUnknownEvent)
		}
		return &Invocation{AWSLogsData: env.AWSLogs.Data, IsAWSLogs: true}, nil
	}
	if env.Records == nil {
		return nil, ErrUnknownEvent
	}
	inv := &Invocation{Records: make([]Record, len(env.Records))}
	for i, r := range env.Records {
		if r.Kinesis.SequenceNumber == "" {
			return nil, fmt.Errorf("record %d (%s): no kinesis.sequenceNumber: %w", i, r.EventID, ErrUnknownEvent)
		}
		inv.Records[i] = Record{
			EventID: r.EventID, EventSourceARN: r.EventSourceARN,
			SequenceNumber: r.Kinesis.SequenceNumber, PartitionKey: r.Kinesis.PartitionKey,
			ApproximateArrivalTimestamp: r.Kinesis.Arrival, Data: r.Kinesis.Data,
		}
	}
	return inv, nil
}
