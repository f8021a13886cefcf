package subscription

import (
	"bytes"
	"compress/gzip"
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
func AppendJSON(dst []byte, m *Message) ([]byte, error) {
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
