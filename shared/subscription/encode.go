package subscription

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/logfan/logfan/shared/jsonstr"
)

// Encode returns the data CloudWatch Logs writes into a Kinesis record (or
// into awslogs.data) for m: its JSON (AppendJSON), gzip-compressed
// (Compress). It is the inverse of Decoder.Decode, for sample events, tests,
// the demo, replay and redrive.
func Encode(m *Message) ([]byte, error) {
	j, err := AppendJSON(nil, m)
	if err != nil {
		return nil, err
	}
	return Compress(j), nil
}

// AppendJSON appends m to dst as the JSON text of a subscription payload:
// the fields in CloudWatch Logs' order (policyLevel and each event's
// extractedFields only when set, subscriptionFilters and logEvents as
// arrays even when empty), no whitespace. Strings are escaped as logfan's
// output records escape them (jsonstr.Exact): bytes that are not UTF-8 are
// copied, so that decoding the result gives back m exactly. extractedFields
// must be a JSON object; it is written as Decode writes it (compacted).
//
// The events' sources (Account and Region, or EventSources) are written
// where Decode reads them: an event's extractedFields already give its
// own, and what the events without them must inherit goes at the
// payload's top level as "@aws.account" and "@aws.region". A source that
// cannot be written so (one its event's extractedFields contradict, or two
// that events without extractedFields would both inherit) is an error. A
// Message built with no sources gets what its extractedFields say.
// HubAccount is not written: Attribute sets it again from Owner.
func AppendJSON(dst []byte, m *Message) ([]byte, error) {
	top, err := topSources(m)
	if err != nil {
		return nil, fmt.Errorf("encode subscription message: %w", err)
	}
	if m.HubAccount != "" {
		// The payload CloudWatch Logs sent named the hub as its owner.
		hub := *m
		hub.Owner = m.HubAccount
		m = &hub
	}
	dst = append(dst, `{"messageType":`...)
	dst = jsonstr.Append(dst, m.MessageType, jsonstr.Exact)
	dst = append(dst, `,"owner":`...)
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
	dst = append(dst, ']')
	if m.PolicyLevel != "" {
		dst = append(dst, `,"policyLevel":`...)
		dst = jsonstr.Append(dst, m.PolicyLevel, jsonstr.Exact)
	}
	if top.Account != "" {
		dst = append(dst, `,"@aws.account":`...)
		dst = jsonstr.Append(dst, top.Account, jsonstr.Exact)
	}
	if top.Region != "" {
		dst = append(dst, `,"@aws.region":`...)
		dst = jsonstr.Append(dst, top.Region, jsonstr.Exact)
	}
	dst = append(dst, `,"logEvents":[`...)
	for i := range m.LogEvents {
		ev := &m.LogEvents[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = jsonstr.Append(dst, ev.ID, jsonstr.Exact)
		dst = append(dst, `,"timestamp":`...)
		dst = strconv.AppendInt(dst, ev.Timestamp, 10)
		dst = append(dst, `,"message":`...)
		dst = jsonstr.Append(dst, ev.Message, jsonstr.Exact)
		if len(ev.ExtractedFields) > 0 {
			if err := checkObject(ev.ExtractedFields); err != nil {
				return nil, fmt.Errorf("encode subscription message: logEvents[%d].extractedFields: %w", i, err)
			}
			dst = append(dst, `,"extractedFields":`...)
			dst = appendCompact(dst, ev.ExtractedFields)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...), nil
}

// topSources returns the top-level system fields that make Decode give
// m's sources back (see AppendJSON).
func topSources(m *Message) (Source, error) {
	if m.Account == "" && m.Region == "" && m.EventSources == nil {
		return Source{}, nil
	}
	if m.EventSources != nil && len(m.EventSources) != len(m.LogEvents) {
		return Source{}, fmt.Errorf("%d EventSources for %d events", len(m.EventSources), len(m.LogEvents))
	}
	var top [2]string
	var set [2]bool
	for i := range m.LogEvents {
		want, carried := m.SourceOf(i), extractedSource(m.LogEvents[i].ExtractedFields)
		for k, f := range [2][2]string{{want.Account, carried.Account}, {want.Region, carried.Region}} {
			name := [2]string{"@aws.account", "@aws.region"}[k]
			switch w, c := f[0], f[1]; {
			case c != "" && w != "" && c != w:
				return Source{}, fmt.Errorf("logEvents[%d]: extractedFields say %s %q, its source is %q", i, name, c, w)
			case c != "":
			case set[k] && top[k] != w:
				return Source{}, fmt.Errorf("logEvents[%d]: %s %q and %q would both come from the payload's top level", i, name, top[k], w)
			default:
				top[k], set[k] = w, true
			}
		}
	}
	return Source{Account: top[0], Region: top[1]}, nil
}

// extractedSource returns the plausible system fields of an event's
// extractedFields, as Decode reads them (the last member of a name wins;
// only a string counts).
func extractedSource(raw json.RawMessage) Source {
	if len(raw) == 0 {
		return Source{}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return Source{}
	}
	var s [2]string
	for k, name := range [2]string{"@aws.account", "@aws.region"} {
		var v string
		if json.Unmarshal(fields[name], &v) == nil {
			s[k] = v
		}
	}
	return Source{Account: validAccount(s[0]), Region: validRegion(s[1])}
}

// checkObject reports whether b is one JSON object, using the decoder's own
// scanner (which, like Decode, lets bytes that are not UTF-8 through).
func checkObject(b []byte) error {
	p := parser{b: b}
	p.skipWS()
	if c := p.peek(); c != '{' {
		return fmt.Errorf("want a JSON object, got %s", kindOf(c))
	}
	if err := p.skipValue(); err != nil {
		return err
	}
	return p.end()
}

// Compress gzips b at the best compression, with no name or modification
// time in the header, so that the same b always gives the same bytes.
func Compress(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level cannot fail
	_, _ = zw.Write(b)                                       // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	return buf.Bytes()
}
