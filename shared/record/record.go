// Package record defines logfan's output record: one JSON object per log
// event, carrying the event and the subscription context it came with. The
// S3 and Firehose sinks write it as NDJSON; replay prints it.
package record

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/logfan/logfan/shared/jsonstr"
	"github.com/logfan/logfan/shared/subscription"
)

// Event is one log event as logfan writes it (one NDJSON line, one Parquet
// row): the output schema, for readers (tests, reconciliation, redrive).
type Event struct {
	Owner               string          `json:"owner"`
	LogGroup            string          `json:"logGroup"`
	LogStream           string          `json:"logStream"`
	SubscriptionFilters []string        `json:"subscriptionFilters"`
	ID                  string          `json:"id"`
	Timestamp           int64           `json:"timestamp"`
	Message             string          `json:"message"`
	ExtractedFields     json.RawMessage `json:"extractedFields,omitempty"`
	PolicyLevel         string          `json:"policyLevel,omitempty"`
	// Region is the region the event was logged in, when the payload says
	// (subscription.Message.Region): absent, never guessed, otherwise.
	Region string `json:"region,omitempty"`
	// HubAccount is the account whose log group carried the event when
	// Owner is the source account that log group's payload named
	// (subscription.Attribute): a hub of centralized logs.
	HubAccount string `json:"hubAccount,omitempty"`
}

// Context returns the subscription message e came in, without events:
// encoded with e's event (subscription.Encode), decoded and attributed
// again (subscription.Attribute with the hub's account), it gives e back.
// The hub is then the payload's owner, and the source its account.
func (e *Event) Context() *subscription.Message {
	m := &subscription.Message{
		MessageType: subscription.DataMessage, Owner: e.Owner, LogGroup: e.LogGroup, LogStream: e.LogStream,
		SubscriptionFilters: e.SubscriptionFilters, PolicyLevel: e.PolicyLevel, Region: e.Region, HubAccount: e.HubAccount,
	}
	if e.HubAccount != "" {
		m.Account = e.Owner
	}
	return m
}

// LogEvent returns e's log event.
func (e *Event) LogEvent() subscription.LogEvent {
	return subscription.LogEvent{ID: e.ID, Timestamp: e.Timestamp, Message: e.Message, ExtractedFields: e.ExtractedFields}
}

// From builds the Event of event ev of message m as a reader gets it back
// from AppendJSON: strings with invalid UTF-8 repaired (jsonstr.Repair).
// Valid strings are shared, not copied. m must have no EventSources
// (subscription.Split): a record's region is its message's.
func From(m *subscription.Message, ev *subscription.LogEvent) Event {
	r := jsonstr.Repair
	filters := m.SubscriptionFilters
	for _, f := range m.SubscriptionFilters {
		if !utf8.ValidString(f) {
			filters = make([]string, len(m.SubscriptionFilters))
			for i, f := range m.SubscriptionFilters {
				filters[i] = r(f)
			}
			break
		}
	}
	return Event{
		Owner: r(m.Owner), LogGroup: r(m.LogGroup), LogStream: r(m.LogStream),
		SubscriptionFilters: filters,
		ID:                  r(ev.ID), Timestamp: ev.Timestamp, Message: r(ev.Message),
		ExtractedFields: ev.ExtractedFields, PolicyLevel: r(m.PolicyLevel),
		Region: m.Region, HubAccount: m.HubAccount, // validated by the decoder: ASCII
	}
}

// AppendJSON appends the JSON object of event ev of message m to dst, with no
// trailing newline. It writes the same fields as Event in the same order,
// without reflection or allocation. Strings are escaped as AppendString
// does: each byte that is not valid UTF-8 is written as U+FFFD (as
// encoding/json and the Logs sink's SDK do), so every line is valid JSON
// for strict readers (RFC 8259 requires UTF-8; Athena's JSON SerDes, DuckDB).
// The original bytes of such a message are not kept: CloudWatch Logs itself
// documents events as UTF-8, and the Logs sink already stored the repaired
// text.
func AppendJSON(dst []byte, m *subscription.Message, ev *subscription.LogEvent) []byte {
	return appendJSON(dst, m, ev, jsonstr.Valid)
}

// AppendJSONExact is AppendJSON with strings copied byte-exact (jsonstr.Exact),
// for quarantine entries: an event refused for its invalid UTF-8 keeps its
// original bytes, so a redrive re-sends what came in. The line is JSON only
// if the event's strings were valid UTF-8.
func AppendJSONExact(dst []byte, m *subscription.Message, ev *subscription.LogEvent) []byte {
	return appendJSON(dst, m, ev, jsonstr.Exact)
}

// appendJSON writes the record with strings escaped under o.
func appendJSON(dst []byte, m *subscription.Message, ev *subscription.LogEvent, o jsonstr.Options) []byte {
	dst = append(dst, `{"owner":`...)
	dst = jsonstr.Append(dst, m.Owner, o)
	dst = append(dst, `,"logGroup":`...)
	dst = jsonstr.Append(dst, m.LogGroup, o)
	dst = append(dst, `,"logStream":`...)
	dst = jsonstr.Append(dst, m.LogStream, o)
	dst = append(dst, `,"subscriptionFilters":[`...)
	for i, f := range m.SubscriptionFilters {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonstr.Append(dst, f, o)
	}
	dst = append(dst, `],"id":`...)
	dst = jsonstr.Append(dst, ev.ID, o)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, ev.Timestamp, 10)
	dst = append(dst, `,"message":`...)
	dst = jsonstr.Append(dst, ev.Message, o)
	if len(ev.ExtractedFields) > 0 {
		dst = append(dst, `,"extractedFields":`...)
		dst = append(dst, ev.ExtractedFields...)
	}
	if m.PolicyLevel != "" {
		dst = append(dst, `,"policyLevel":`...)
		dst = jsonstr.Append(dst, m.PolicyLevel, o)
	}
	if m.Region != "" {
		dst = append(dst, `,"region":`...)
		dst = jsonstr.Append(dst, m.Region, o)
	}
	if m.HubAccount != "" {
		dst = append(dst, `,"hubAccount":`...)
		dst = jsonstr.Append(dst, m.HubAccount, o)
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
