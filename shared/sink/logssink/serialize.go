package logssink

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// fastPut is a per-call client option that swaps the SDK's generic,
// schema-driven JSON serializer for PutLogEvents with appendPutLogEvents:
// one pre-sized buffer and a tight escaping loop instead of a growing
// buffer and per-field interface calls, which is most of the SDK's CPU for
// this call (the body is nearly all message bytes). Everything else stays
// the SDK's: endpoint, headers, signing, retries, response parsing. It only
// applies while the client speaks awsJson1_1 (which it does for CloudWatch
// Logs today); otherwise the SDK serializes as usual.
func fastPut(o *cloudwatchlogs.Options) {
	if o.Protocol != nil && o.Protocol.ID() == awsJSON11 {
		o.Protocol = fastPutProtocol{o.Protocol}
	}
}

var awsJSON11 = smithy.ShapeID{Namespace: "aws.protocols", Name: "awsJson1_1"}

// fastPutProtocol wraps the client's protocol; only PutLogEvents request
// bodies are written differently.
type fastPutProtocol struct {
	smithyhttp.ClientProtocol
}

// SerializeRequest implements smithyhttp.ClientProtocol.
func (p fastPutProtocol) SerializeRequest(ctx context.Context, schema *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
	put, ok := in.(*cloudwatchlogs.PutLogEventsInput)
	if !ok || put.SequenceToken != nil || put.Entity != nil || put.LogGroupName == nil || put.LogStreamName == nil {
		return p.ClientProtocol.SerializeRequest(ctx, schema, in, req)
	}
	// Let the SDK set method, path and headers (X-Amz-Target, Content-Type)
	// from an input without events, then replace only the body.
	shell := *put
	shell.LogEvents = nil
	if err := p.ClientProtocol.SerializeRequest(ctx, schema, &shell, req); err != nil {
		return err
	}
	body, err := appendPutLogEvents(nil, put)
	if err != nil {
		return err
	}
	sreq, err := req.SetStream(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("set PutLogEvents body: %w", err)
	}
	*req = *sreq
	return nil
}

// appendPutLogEvents appends the awsJson1_1 body of a PutLogEvents request
// carrying in's group, stream and events: the same JSON document the SDK
// writes, strings escaped the same way.
func appendPutLogEvents(dst []byte, in *cloudwatchlogs.PutLogEventsInput) ([]byte, error) {
	size := 64 + len(*in.LogGroupName) + len(*in.LogStreamName)
	for i := range in.LogEvents {
		if in.LogEvents[i].Message == nil || in.LogEvents[i].Timestamp == nil {
			return nil, fmt.Errorf("log event %d lacks its message or timestamp", i)
		}
		size += len(*in.LogEvents[i].Message) + 40
	}
	if dst == nil {
		dst = make([]byte, 0, size)
	}
	dst = append(dst, `{"logEvents":[`...)
	for i := range in.LogEvents {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"message":`...)
		dst = appendJSONString(dst, *in.LogEvents[i].Message)
		dst = append(dst, `,"timestamp":`...)
		dst = strconv.AppendInt(dst, *in.LogEvents[i].Timestamp, 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"logGroupName":`...)
	dst = appendJSONString(dst, *in.LogGroupName)
	dst = append(dst, `,"logStreamName":`...)
	dst = appendJSONString(dst, *in.LogStreamName)
	return append(dst, '}'), nil
}

const hexDigits = "0123456789abcdef"

// Word-at-a-time byte tests (the classic "bit twiddling hacks"): each
// returns a nonzero word when some byte of w matches; a match may be a false
// positive only next to a true one, which just ends the fast path early.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// hasLess reports bytes < n (for n <= 128).
func hasLess(w uint64, n byte) uint64 { return (w - lowBits*uint64(n)) &^ w & highBits }

// hasByte reports bytes equal to b.
func hasByte(w uint64, b byte) uint64 {
	x := w ^ (lowBits * uint64(b))
	return (x - lowBits) &^ x & highBits
}

// appendJSONString appends s as a JSON string escaped exactly as the SDK's
// awsJson serializer (smithy-go ShapeSerializer.appendEscapedString) does:
// quote, backslash, control characters and DEL escaped (\n, \r, \t by
// name), U+2028 and U+2029 escaped, and each byte that is not valid UTF-8
// written as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	// Skip 8 bytes at a time while none needs escaping or is non-ASCII:
	// log lines are mostly plain ASCII.
	i := 0
	for i+8 <= len(s) {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&highBits|hasLess(w, 0x20)|hasByte(w, '"')|hasByte(w, '\\')|hasByte(w, 0x7F) != 0 {
			break
		}
		i += 8
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7F {
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
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
