// Package faults injects failures between an AWS SDK client and the service
// (or emulator) it talks to, for tests that prove nothing is lost when the
// service throttles, fails, or hangs.
package faults

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Injector decides, for each request, whether to fail it. It sees the
// request with its body already read into body (the request's Body is reset
// so it can still be forwarded). Returning nil resp and nil err forwards the
// request unchanged.
type Injector func(req *http.Request, body []byte, call int) (*http.Response, error)

// Transport is an http.RoundTripper that consults Inject before forwarding
// each request to Base.
type Transport struct {
	// Base forwards requests; http.DefaultTransport if nil.
	Base http.RoundTripper
	// Inject decides each request's fate.
	Inject Injector

	mu    sync.Mutex
	calls int
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	t.mu.Lock()
	t.calls++
	n := t.calls
	t.mu.Unlock()
	if t.Inject != nil {
		resp, err := t.Inject(req, body, n)
		if resp != nil || err != nil {
			if resp != nil && resp.Request == nil {
				resp.Request = req
			}
			return resp, err
		}
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// Calls returns how many requests the transport has seen.
func (t *Transport) Calls() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.calls
}

// Target returns the AWS JSON-protocol operation a request names
// (its X-Amz-Target header, e.g. "Firehose_20150804.PutRecordBatch"), or "".
func Target(req *http.Request) string { return req.Header.Get("X-Amz-Target") }

// IsOperation reports whether the request is the named JSON-protocol
// operation, e.g. IsOperation(req, "PutRecordBatch").
func IsOperation(req *http.Request, op string) bool {
	return strings.HasSuffix(Target(req), "."+op)
}

// JSONError builds an AWS JSON-protocol error response (Firehose, CloudWatch
// Logs, Kinesis) such as 400 ThrottlingException or 500 ServiceUnavailableException.
func JSONError(status int, code, message string) *http.Response {
	return response(status, "application/x-amz-json-1.1",
		fmt.Sprintf(`{"__type":%q,"message":%q}`, code, message))
}

// XMLError builds an S3-style XML error response such as 503 SlowDown or 500 InternalError.
func XMLError(status int, code, message string) *http.Response {
	return response(status, "application/xml",
		fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault</RequestId></Error>`, code, message))
}

func response(status int, contentType, body string) *http.Response {
	return &http.Response{
		StatusCode:    status,
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": []string{contentType}, "X-Amzn-Requestid": []string{"fault"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
	}
}

// Hang blocks until the request's context ends and returns its error: what a
// client sees when the service never answers before its deadline.
func Hang(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// ErrTimeout is a transport error that looks like a network timeout.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "faults: injected i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
