package firehosesink

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/logfan/logfan/shared/jsonstr"
)

// fastPut is a per-call client option that swaps the SDK's generic,
// schema-driven JSON serializer for PutRecordBatch with
// appendPutRecordBatch: one exactly sized buffer with each record's base64
// written straight into it, instead of a base64 copy per record appended to
// a growing buffer that is copied once more at the end (together most of
// the SDK's CPU and memory for this call, whose body is nearly all base64).
// Everything else stays the SDK's: endpoint, headers, signing, retries,
// response parsing. It only applies while the client speaks awsJson1_1
// (which it does for Firehose today); otherwise the SDK serializes as usual.
func fastPut(o *firehose.Options) { fastPutInto(nil)(o) }

// fastPutInto is fastPut writing the body into *buf (grown as needed and
// left there for the next call) instead of a new buffer per call. Reusing
// it once PutRecordBatch has returned is safe: the SDK closes the request
// body before the call returns, and its body wrapper refuses reads after
// Close (smithy-go transport/http ClientHandler.Handle), even by a
// transport still writing in another goroutine.
func fastPutInto(buf *[]byte) func(*firehose.Options) {
	return func(o *firehose.Options) {
		if o.Protocol != nil && o.Protocol.ID() == awsJSON11 {
			o.Protocol = fastPutProtocol{o.Protocol, buf}
		}
	}
}

var awsJSON11 = smithy.ShapeID{Namespace: "aws.protocols", Name: "awsJson1_1"}

// fastPutProtocol wraps the client's protocol; only PutRecordBatch request
// bodies are written differently.
type fastPutProtocol struct {
	smithyhttp.ClientProtocol
	buf *[]byte // where to write the body; nil: a new buffer per call
}

// SerializeRequest implements smithyhttp.ClientProtocol.
func (p fastPutProtocol) SerializeRequest(ctx context.Context, schema *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
	put, ok := in.(*firehose.PutRecordBatchInput)
	if !ok || put.DeliveryStreamName == nil || len(put.Records) == 0 || !allData(put) {
		return p.ClientProtocol.SerializeRequest(ctx, schema, in, req)
	}
	// Let the SDK set method, path and headers (X-Amz-Target, Content-Type)
	// from an input without records, then replace only the body. The SDK's
	// body for that shell must be exactly the head we would write; if a
	// future SDK writes anything else, it serializes the whole call itself.
	shell := *put
	shell.Records = nil
	if err := p.ClientProtocol.SerializeRequest(ctx, schema, &shell, req); err != nil {
		return err
	}
	if !shellMatches(req, *put.DeliveryStreamName) {
		return p.ClientProtocol.SerializeRequest(ctx, schema, in, req)
	}
	var body []byte
	if p.buf != nil {
		body = appendPutRecordBatch(slices.Grow((*p.buf)[:0], putRecordBatchSize(put)), put)
		*p.buf = body
	} else {
		body = appendPutRecordBatch(nil, put)
	}
	sreq, err := req.SetStream(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("set PutRecordBatch body: %w", err)
	}
	*req = *sreq
	return nil
}

// allData reports whether every record has data. The SDK writes a nil
// Data as null (and its validation refuses it first) and leaves out nil
// Records; the fast path leaves such inputs, never the sink's, to the SDK.
func allData(in *firehose.PutRecordBatchInput) bool {
	for i := range in.Records {
		if in.Records[i].Data == nil {
			return false
		}
	}
	return true
}

// shellMatches reports whether the SDK wrote, for an input without records,
// the JSON object appendPutRecordBatch opens its body with.
func shellMatches(req *smithyhttp.Request, stream string) bool {
	r, ok := req.GetStream().(io.ReadSeeker)
	if !ok {
		return false
	}
	got, err := io.ReadAll(r)
	if _, serr := r.Seek(0, io.SeekStart); err != nil || serr != nil {
		return false
	}
	want := append(appendHead(nil, stream), '}')
	return bytes.Equal(got, want)
}

// appendHead appends the body's opening, up to the stream name's end.
func appendHead(dst []byte, stream string) []byte {
	dst = append(dst, `{"DeliveryStreamName":`...)
	return jsonstr.Append(dst, stream, jsonstr.SDK)
}

// putRecordBatchSize is the exact length of the body appendPutRecordBatch
// writes for in (at least one record), when the stream name needs no
// escaping (a lower bound otherwise).
func putRecordBatchSize(in *firehose.PutRecordBatchInput) int {
	n := len(`{"DeliveryStreamName":"","Records":[]}`) + len(*in.DeliveryStreamName) - len(",")
	for i := range in.Records {
		n += len(`{"Data":""},`) + base64.StdEncoding.EncodedLen(len(in.Records[i].Data))
	}
	return n
}

// appendPutRecordBatch appends the awsJson1_1 body of a PutRecordBatch
// request carrying in's stream name and records: the same JSON document the
// SDK writes (members in schema order, data in standard base64), built in
// one allocation when dst is nil.
func appendPutRecordBatch(dst []byte, in *firehose.PutRecordBatchInput) []byte {
	if dst == nil {
		dst = make([]byte, 0, putRecordBatchSize(in))
	}
	dst = appendHead(dst, *in.DeliveryStreamName)
	dst = append(dst, `,"Records":[`...)
	for i := range in.Records {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"Data":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, in.Records[i].Data)
		dst = append(dst, `"}`...)
	}
	return append(dst, `]}`...)
}
