// Package subscription decodes CloudWatch Logs subscription payloads: the
// gzip-compressed JSON that CloudWatch Logs writes into each Kinesis record (or
// into the awslogs.data field of a direct Lambda subscription).
//
// How unusual input is treated (each choice is pinned by a test):
//
//   - Strings are unescaped per RFC 8259 (\u0000, \/ and surrogate pairs
//     included). Bytes that are not valid UTF-8 are passed through exactly;
//     the decoder never replaces raw bytes with U+FFFD. The one exception is
//     a \u escape of a lone UTF-16 surrogate (e.g. "\ud800" not followed by
//     a low surrogate), which names no character and has no UTF-8 encoding:
//     it decodes to U+FFFD, as encoding/json does, so output stays valid
//     UTF-8 and matches what other JSON readers produce.
//   - Event ids may be strings or numbers (moto sends numbers); a number is
//     exposed as its exact JSON text, so ids beyond 2^53 keep every digit.
//   - Timestamps must be JSON numbers. Integers are taken exactly, negative
//     ones included (plausibility is the sinks' business: PutLogEvents
//     rejects old events individually). A number with a fraction or exponent
//     is truncated toward zero; one outside int64 is ErrShape.
//   - A DATA_MESSAGE must carry messageType, owner, logGroup, logStream,
//     subscriptionFilters and logEvents; a missing one (or null) is ErrShape.
//     A CONTROL_MESSAGE needs only messageType and is returned without
//     events. Fields that are present are type-checked for both types, and
//     so are a control message's events. JSON null counts as absent, which
//     is an error only where the field is required. Unknown fields are
//     validated as JSON and ignored; a repeated field's last value wins.
//   - Raw control characters inside strings, invalid escapes, trailing data
//     after the JSON object, and nesting deeper than 10,000 are ErrNotJSON.
//     Concatenated gzip members (RFC 1952) are accepted; other bytes after
//     the last member are ErrCorruptGzip.
//   - The system fields a subscription filter's emitSystemFields adds
//     ("@aws.account", "@aws.region") are read from each event's
//     extractedFields (members of the object's top level) and, for events
//     whose extractedFields lack one, from members of the same names at
//     the payload's top level; they become Message.Account and Region (or
//     EventSources when events differ). A value that is not a string, not
//     a 12-digit account ID or not shaped like a region name is ignored;
//     it stays in extractedFields as it was. Which placement AWS documents
//     and which is assumed is in docs/design.md ("Where each event came from").
//   - extractedFields is kept as JSON, compacted: the whitespace between its
//     tokens is dropped and U+2028 and U+2029 in its strings are escaped, so
//     one event is one NDJSON line downstream however the sender laid the
//     object out. Its strings are otherwise copied as they were sent.
//
// See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Subscriptions.html
package subscription

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Message types CloudWatch Logs puts in messageType.
const (
	// DataMessage carries log events.
	DataMessage = "DATA_MESSAGE"
	// ControlMessage is the health check sent when a subscription is created; it carries no log data.
	ControlMessage = "CONTROL_MESSAGE"
)

// DefaultMaxDecompressed is the default cap on a payload's decompressed size,
// the defence against gzip bombs: a 1 MiB Kinesis record (10 MiB if raised)
// of real log JSON inflates well below it.
const DefaultMaxDecompressed = 64 << 20

// Message is one decoded subscription payload.
type Message struct {
	// MessageType is DataMessage or ControlMessage.
	MessageType string
	// Owner is the sender's AWS account ID ("CloudwatchLogs" on control messages).
	Owner string
	// LogGroup is the source log group's name.
	LogGroup string
	// LogStream is the source log stream's name.
	LogStream string
	// SubscriptionFilters names the filters (or account policy) that matched.
	SubscriptionFilters []string
	// PolicyLevel is set ("ACCOUNT_LEVEL_POLICY") when an account-level subscription policy sent the payload.
	PolicyLevel string
	// LogEvents are the log events, in the order CloudWatch Logs sent them.
	LogEvents []LogEvent

	// Account and Region are where the events were logged, as the
	// subscription's system fields say (emitSystemFields "@aws.account" and
	// "@aws.region"): from each event's extractedFields, else from the
	// payload's top level (see the package documentation). "" when the
	// payload does not say, or when the events do not all agree (then
	// EventSources has each event's). A value that is not a 12-digit
	// account ID or does not look like a region name counts as absent.
	Account string `json:",omitempty"`
	Region  string `json:",omitempty"`
	// EventSources is nil when every event has Account and Region;
	// otherwise it holds each event's (Split separates them).
	EventSources []Source `json:",omitempty"`
	// HubAccount is set by Attribute when Owner was replaced by the source
	// account the payload names: it is the account whose log group carried
	// the events (a hub of centralized logs), kept so nothing is lost.
	HubAccount string `json:",omitempty"`
}

// Source is where one event was logged: the "@aws.account" and
// "@aws.region" system fields ("" where absent).
type Source struct {
	Account string `json:",omitempty"`
	Region  string `json:",omitempty"`
}

// IsControl reports whether m is a CONTROL_MESSAGE, which carries no log data.
func (m *Message) IsControl() bool { return m.MessageType == ControlMessage }

// LogEvent is one log event of a Message.
type LogEvent struct {
	// ID is the event ID; some emulators send it as a number, which is exposed here as its decimal text.
	ID string
	// Timestamp is the event time in milliseconds since the Unix epoch.
	Timestamp int64
	// Message is the log line, byte-exact as it was JSON-unescaped (invalid UTF-8 is kept, not replaced).
	Message string
	// ExtractedFields is the JSON object of fields a filter pattern extracted,
	// or nil when absent. Decode writes it compacted (no whitespace between
	// tokens) with U+2028 and U+2029 escaped, so it fits on one output line.
	ExtractedFields json.RawMessage
}

// Sentinel kinds of decode failure; test with errors.Is.
var (
	// ErrNotGzip means the data does not start with a gzip header.
	ErrNotGzip = errors.New("not gzip")
	// ErrCorruptGzip means the gzip stream is damaged (bad deflate data or checksum).
	ErrCorruptGzip = errors.New("corrupt gzip")
	// ErrTruncated means the gzip stream ends early.
	ErrTruncated = errors.New("truncated gzip")
	// ErrTooLarge means the decompressed payload exceeds the configured cap.
	ErrTooLarge = errors.New("decompressed size over cap")
	// ErrNotJSON means the decompressed payload is not valid JSON.
	ErrNotJSON = errors.New("not JSON")
	// ErrShape means the payload is JSON but not a subscription message (a missing or mistyped field).
	ErrShape = errors.New("JSON of the wrong shape")
	// ErrUnknownType means messageType is neither DATA_MESSAGE nor CONTROL_MESSAGE.
	ErrUnknownType = errors.New("unknown messageType")
)

// DecodeError is the error every decode failure returns: Kind is one of the
// sentinel errors above and Detail says what exactly was wrong.
type DecodeError struct {
	Kind   error
	Detail string
	Err    error // underlying cause, if any
}

// Error implements error.
func (e *DecodeError) Error() string {
	s := e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *DecodeError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func decodeErr(kind error, cause error, format string, args ...any) *DecodeError {
	return &DecodeError{Kind: kind, Detail: fmt.Sprintf(format, args...), Err: cause}
}
