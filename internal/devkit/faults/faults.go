// Package faults injects failures between an AWS SDK client and the service
// (or emulator) it talks to, for tests that prove nothing is lost when the
// service throttles, fails, or hangs.
package faults

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"strconv"
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
	// injected counts the requests Inject failed; absorbed those of them
	// repeated later (requestKey: the same request, or the same DynamoDB
	// item written) and answered with success: the fault was absorbed by a
	// retry. pending holds the failed requests not yet repeated with
	// success, by that key.
	injected, absorbed int
	pending            map[string]int
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
	key := requestKey(req, body)
	if t.Inject != nil {
		resp, err := t.Inject(req, body, n)
		if resp != nil || err != nil {
			if resp != nil && resp.Request == nil {
				resp.Request = req
			}
			t.mu.Lock()
			t.injected++
			if t.pending == nil {
				t.pending = map[string]int{}
			}
			t.pending[key]++
			t.mu.Unlock()
			return resp, err
		}
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err == nil && succeeded(resp) {
		t.mu.Lock()
		if p := t.pending[key]; p > 0 {
			t.absorbed += p
			delete(t.pending, key)
		}
		t.mu.Unlock()
	}
	return resp, err
}

// succeeded reports whether the service did what resp answers: a 2xx, or a
// create that found its resource already there (ResourceAlreadyExists: a
// concurrent handler made it, and the caller takes the state it asked for).
func succeeded(resp *http.Response) bool {
	if resp.StatusCode < 300 {
		return true
	}
	if resp.StatusCode != http.StatusBadRequest || resp.Body == nil {
		return false
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return err == nil && bytes.Contains(body, []byte("ResourceAlreadyExistsException"))
}

// requestKey identifies a request across its retries: the SDK re-signs a
// retry (new date and signature headers) but sends the same method, URL,
// operation and body. A DynamoDB write that names an item (UpdateItem,
// DeleteItem, GetItem) is identified by its table and key instead: the
// sender-health recorder writes a failed update again merged with what came
// since, so the retry's body differs while it writes the same item.
func requestKey(req *http.Request, body []byte) string {
	target := Target(req)
	ident := ""
	if strings.HasPrefix(target, "DynamoDB_") {
		var item struct {
			TableName string
			Key       map[string]json.RawMessage
		}
		if json.Unmarshal(body, &item) == nil && len(item.Key) > 0 {
			key, _ := json.Marshal(item.Key) // sorted: the SDK writes a map in any order
			ident = item.TableName + " " + string(key)
		}
	}
	if ident == "" {
		h := sha256.Sum256(body)
		ident = hex.EncodeToString(h[:])
	}
	return req.Method + " " + req.URL.String() + " " + target + " " + ident
}

// Faults returns how many requests Inject failed and how many of those were
// absorbed: repeated later and answered with success by the service.
func (t *Transport) Faults() (injected, absorbed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.injected, t.absorbed
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
// Logs, Kinesis, DynamoDB) such as 400 ThrottlingException or 500
// ServiceUnavailableException. It carries the body's CRC32 in X-Amz-Crc32,
// as DynamoDB's responses do: the DynamoDB client checks it, and without it
// logs "response did not match expected checksum" for every injected fault.
func JSONError(status int, code, message string) *http.Response {
	body := fmt.Sprintf(`{"__type":%q,"message":%q}`, code, message)
	resp := response(status, "application/x-amz-json-1.1", body)
	resp.Header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
	return resp
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
