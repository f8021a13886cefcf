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
// does: invalid UTF-8 is copied byte-exact rather than replaced, so a
// message survives the round trip.
func AppendJSON(dst []byte, m *subscription.Message, ev *subscription.LogEvent) []byte {
	dst = append(dst, `{"owner":`...)
	dst = jsonstr.Append(dst, m.Owner, jsonstr.Exact)
	dst = append(dst, `,"logGroup":`...)
	dst = jsonstr.Append(dst, m.LogGroup, jsonstr.Exact)
	dst = append(dst, `,"logStream":`...)
	dst = jsonstr.Append(dst, m.LogStream, jsonstr.Exact)
	dst = append(dst, `,"subscriptionFilters":[`...)
	for i, f := range m.SubscriptionFilters {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonstr.Append(dst, f, jsonstr.Exact)
	}
	dst = append(dst, `],"id":`...)
	dst = jsonstr.Append(dst, ev.ID, jsonstr.Exact)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, ev.Timestamp, 10)
	dst = append(dst, `,"message":`...)
	dst = jsonstr.Append(dst, ev.Message, jsonstr.Exact)
	if len(ev.ExtractedFields) > 0 {
		dst = append(dst, `,"extractedFields":`...)
		dst = append(dst, ev.ExtractedFields...)
	}
	if m.PolicyLevel != "" {
		dst = append(dst, `,"policyLevel":`...)
		dst = jsonstr.Append(dst, m.PolicyLevel, jsonstr.Exact)
	}
	return append(dst, '}')
}

// AppendLine appends AppendJSON's object and a newline: one NDJSON line.
func AppendLine(dst []byte, m *subscription.Message, ev *subscription.LogEvent) []byte {
	return append(AppendJSON(dst, m, ev), '\n')
}

// AppendString appends s as a JSON string under jsonstr.Exact: control
// characters, quote and backslash are escaped; U+2028 and U+2029 are escaped
// so the output is also valid JavaScript; bytes that are not valid UTF-8
// are copied as they are.
func AppendString(dst []byte, s string) []byte {
	return jsonstr.Append(dst, s, jsonstr.Exact)
}
