// Package faults injects failures between an AWS SDK client and the service
// (or emulator) it talks to, for tests that prove nothing is lost when the
// service throttles, fails, or hangs.
package faults

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
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

// Chaos fails a share of requests the way AWS does under stress: throttling
// (55%), 5xx (37%) and hung connections (8%), at random from a seeded
// source so that a run can be repeated. It is safe for concurrent use.
type Chaos struct {
	// NoHang turns the hung connections into immediate timeouts (ErrTimeout),
	// for runs that cannot wait out an attempt timeout.
	NoHang bool

	mu       sync.Mutex
	rng      *rand.Rand
	rate     float64
	injected map[string]int
}

// NewChaos returns a Chaos failing a share rate (0 to 1) of requests.
func NewChaos(seed1, seed2 uint64, rate float64) *Chaos {
	return &Chaos{rng: rand.New(rand.NewPCG(seed1, seed2)), rate: rate, injected: map[string]int{}}
}

// SetRate changes the share of requests failed.
func (c *Chaos) SetRate(r float64) {
	c.mu.Lock()
	c.rate = r
	c.mu.Unlock()
}

// Injected counts the faults injected so far by kind (throttle, 5xx, hang).
func (c *Chaos) Injected() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.injected)
}

// Inject is an Injector.
func (c *Chaos) Inject(req *http.Request, _ []byte, _ int) (*http.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rng.Float64() >= c.rate {
		return nil, nil
	}
	jsonAPI := Target(req) != "" // Firehose, Logs and DynamoDB speak JSON; S3 speaks XML.
	switch p := c.rng.Float64(); {
	case p < 0.55:
		c.injected["throttle"]++
		if jsonAPI {
			return JSONError(400, "ThrottlingException", "Rate exceeded"), nil
		}
		return XMLError(503, "SlowDown", "Please reduce your request rate."), nil
	case p < 0.92:
		c.injected["5xx"]++
		if jsonAPI {
			return JSONError(500, "ServiceUnavailableException", "injected"), nil
		}
		return XMLError(500, "InternalError", "injected"), nil
	default:
		c.injected["hang"]++
		if c.NoHang {
			return nil, ErrTimeout
		}
		c.mu.Unlock()
		defer c.mu.Lock()
		return Hang(req)
	}
}
