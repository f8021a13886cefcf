// Package record defines logfan's output record: one JSON object per log
// event, carrying the event and the subscription context it came with. The
// S3 and Firehose sinks write it as NDJSON; replay prints it.
package record

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

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
// without reflection or allocation. Invalid UTF-8 in strings is copied
// byte-exact rather than replaced, so a message survives the round trip.
func AppendJSON(dst []byte, m *subscription.Message, ev *subscription.LogEvent) []byte {
	dst = append(dst, `{"owner":`...)
	dst = AppendString(dst, m.Owner)
	dst = append(dst, `,"logGroup":`...)
	dst = AppendString(dst, m.LogGroup)
	dst = append(dst, `,"logStream":`...)
	dst = AppendString(dst, m.LogStream)
	dst = append(dst, `,"subscriptionFilters":[`...)
	for i, f := range m.SubscriptionFilters {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, f)
	}
	dst = append(dst, `],"id":`...)
	dst = AppendString(dst, ev.ID)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, ev.Timestamp, 10)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, ev.Message)
	if len(ev.ExtractedFields) > 0 {
		dst = append(dst, `,"extractedFields":`...)
		dst = append(dst, ev.ExtractedFields...)
	}
	if m.PolicyLevel != "" {
		dst = append(dst, `,"policyLevel":`...)
		dst = AppendString(dst, m.PolicyLevel)
	}
	return append(dst, '}')
}

// AppendLine appends AppendJSON's object and a newline: one NDJSON line.
func AppendLine(dst []byte, m *subscription.Message, ev *subscription.LogEvent) []byte {
	return append(AppendJSON(dst, m, ev), '\n')
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string. Control characters, quote and
// backslash are escaped; U+2028 and U+2029 are escaped so the output is also
// valid JavaScript; bytes that are not valid UTF-8 are copied as they are.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
