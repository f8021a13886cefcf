// Package record defines logfan's output record: one JSON object per log
// event, carrying the event and the subscription context it came with. The
// S3 and Firehose sinks write it as NDJSON; replay prints it.
package record

import (
	"encoding/json"
	"strconv"

	"github.com/logfan/logfan/shared/jsonstr"
	"github.com/logfan/logfan/shared/subscription"
)

// Record is the output schema, for readers (tests, reconciliation, redrive).
type Record struct {
	Owner               string          `json:"owner"`
	LogGroup            string          `json:"logGroup"`
	LogStream           string          `json:"logStream"`
	SubscriptionFilters []string        `json:"subscriptionFilters"`
	ID                  string          `json:"id"`
	Timestamp           int64           `json:"timestamp"`
	Message             string          `json:"message"`
	ExtractedFields     json.RawMessage `json:"extractedFields,omitempty"`
	PolicyLevel         string          `json:"policyLevel,omitempty"`
}

// From builds the Record of event ev of message m.
func From(m *subscription.Message, ev *subscription.LogEvent) Record {
	return Record{
		Owner: m.Owner, LogGroup: m.LogGroup, LogStream: m.LogStream,
		SubscriptionFilters: m.SubscriptionFilters,
		ID:                  ev.ID, Timestamp: ev.Timestamp, Message: ev.Message,
		ExtractedFields: ev.ExtractedFields, PolicyLevel: m.PolicyLevel,
	}
}

// AppendJSON appends the JSON object of event ev of message m to dst, with no
// trailing newline. It writes the same fields as Record in the same order,
// without reflection or allocation. Strings are escaped as AppendString
// does: each byte that is not valid UTF-8 is written as U+FFFD (as
// encoding/json and the Logs sink's SDK do), so every line is valid JSON
// for strict readers (RFC 8259 requires UTF-8; Athena's JSON SerDes, DuckDB).
// The original bytes of such a message are not kept: CloudWatch Logs itself
// documents events as UTF-8, and the Logs sink already stored the repaired
// text.
func AppendJSON(dst []byte, m *subscription.Message, ev *subscription.LogEvent) []byte {
	dst = append(dst, `{"owner":`...)
	dst = jsonstr.Append(dst, m.Owner, jsonstr.Valid)
	dst = append(dst, `,"logGroup":`...)
	dst = jsonstr.Append(dst, m.LogGroup, jsonstr.Valid)
	dst = append(dst, `,"logStream":`...)
	dst = jsonstr.Append(dst, m.LogStream, jsonstr.Valid)
	dst = append(dst, `,"subscriptionFilters":[`...)
	for i, f := range m.SubscriptionFilters {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonstr.Append(dst, f, jsonstr.Valid)
	}
	dst = append(dst, `],"id":`...)
	dst = jsonstr.Append(dst, ev.ID, jsonstr.Valid)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, ev.Timestamp, 10)
	dst = append(dst, `,"message":`...)
	dst = jsonstr.Append(dst, ev.Message, jsonstr.Valid)
	if len(ev.ExtractedFields) > 0 {
		dst = append(dst, `,"extractedFields":`...)
		dst = append(dst, ev.ExtractedFields...)
	}
	if m.PolicyLevel != "" {
		dst = append(dst, `,"policyLevel":`...)
		dst = jsonstr.Append(dst, m.PolicyLevel, jsonstr.Valid)
	}
	return append(dst, '}')
}

// AppendLine appends AppendJSON's object and a newline: one NDJSON line.
func AppendLine(dst []byte, m *subscription.Message, ev *subscription.LogEvent) []byte {
	return append(AppendJSON(dst, m, ev), '\n')
}

// AppendString appends s as a JSON string under jsonstr.Valid: control
// characters, quote and backslash are escaped; U+2028 and U+2029 are escaped
// so the output is also valid JavaScript; bytes that are not valid UTF-8
// are copied as they are.
func AppendString(dst []byte, s string) []byte {
	return jsonstr.Append(dst, s, jsonstr.Valid)
}
