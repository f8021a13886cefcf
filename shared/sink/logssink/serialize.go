package logssink

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/logfan/logfan/shared/jsonstr"
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
// writes, strings escaped the same way (jsonstr.SDK).
func appendPutLogEvents(dst []byte, in *cloudwatchlogs.PutLogEventsInput) ([]byte, error) {
	size := 64 + len(*in.LogGroupName) + len(*in.LogStreamName)
	for i := range in.LogEvents {
		if in.LogEvents[i].Message == nil || in.LogEvents[i].Timestamp == nil {
			return nil, fmt.Errorf("log event %d lacks its message or timestamp", i)
		}
		// The JSON around a message takes up to 48 bytes (a 20-character
		// timestamp); escapes add an eighth, about what JSON-in-message
		// (CloudTrail) needs. An estimate one byte short makes append copy
		// the whole body into one twice its size.
		m := len(*in.LogEvents[i].Message)
		size += m + m/8 + 48
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
		dst = jsonstr.Append(dst, *in.LogEvents[i].Message, jsonstr.SDK)
		dst = append(dst, `,"timestamp":`...)
		dst = strconv.AppendInt(dst, *in.LogEvents[i].Timestamp, 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"logGroupName":`...)
	dst = jsonstr.Append(dst, *in.LogGroupName, jsonstr.SDK)
	dst = append(dst, `,"logStreamName":`...)
	dst = jsonstr.Append(dst, *in.LogStreamName, jsonstr.SDK)
	return append(dst, '}'), nil
}
