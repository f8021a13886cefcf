// Package fakeaws answers AWS calls without a network, for the tests and
// benchmarks of more than one package: Transport answers the calls
// logfan's sinks make with canned successes, below the SDK client, so
// benchmarks measure the client's own CPU and memory beside logfan's; S3 is
// an in-memory bucket in place of the client, for tests that read back what
// was written.
package fakeaws

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Transport is an http.RoundTripper that accepts every request.
type Transport struct {
	calls atomic.Int64
	bytes atomic.Int64
}

// Calls returns the number of requests answered.
func (t *Transport) Calls() int64 { return t.calls.Load() }

// Bytes returns the request body bytes received.
func (t *Transport) Bytes() int64 { return t.bytes.Load() }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Stream the body as a real transport does: buffering it whole would
	// add the fake's own garbage to the memory it is used to measure.
	var records counter
	if req.Body != nil {
		n, err := io.Copy(&records, req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		t.bytes.Add(n)
	}
	t.calls.Add(1)
	target := req.Header.Get("X-Amz-Target")
	switch {
	case strings.HasSuffix(target, ".PutRecordBatch"):
		n := records.n
		var b strings.Builder
		b.WriteString(`{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"RecordId":"r%d"}`, i)
		}
		b.WriteString(`]}`)
		return respond(req, 200, "application/x-amz-json-1.1", b.String()), nil
	case strings.HasSuffix(target, ".PutLogEvents"):
		return respond(req, 200, "application/x-amz-json-1.1", `{"nextSequenceToken":"1"}`), nil
	case target != "":
		return respond(req, 200, "application/x-amz-json-1.1", `{}`), nil
	default: // S3 REST: PutObject and friends.
		r := respond(req, 200, "application/xml", "")
		r.Header.Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
		return r, nil
	}
}

// dataKey opens each record of a PutRecordBatch body; base64 data never
// holds a quote, so counting it counts the records exactly.
const dataKey = `"Data"`

// counter counts dataKey in a stream, across write boundaries.
type counter struct {
	n    int
	tail []byte
}

func (c *counter) Write(p []byte) (int, error) {
	// Count the keys that straddle the previous write (the tail, shorter
	// than a key, joined to p's first bytes), then those inside p, without
	// copying p: a copy would be the fake's own garbage in the memory
	// measured through it.
	var joint [2*len(dataKey) - 2]byte
	j := append(append(joint[:0], c.tail...), p[:min(len(p), len(dataKey)-1)]...)
	c.n += bytes.Count(j, []byte(dataKey)) + bytes.Count(p, []byte(dataKey))
	if len(p) >= len(dataKey)-1 {
		c.tail = append(c.tail[:0], p[len(p)-(len(dataKey)-1):]...)
	} else {
		all := append(append(joint[:0], c.tail...), p...)
		c.tail = append(c.tail[:0], all[max(0, len(all)-(len(dataKey)-1)):]...)
	}
	return len(p), nil
}

func respond(req *http.Request, status int, contentType, body string) *http.Response {
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": []string{contentType}, "X-Amzn-Requestid": []string{"fakeaws"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// Config is an SDK configuration for region whose requests go to tr, with
// static credentials, so that clients built on it serialize and sign every
// request as in production and nothing leaves the process (no network, no
// credentials chain).
func Config(region string, tr http.RoundTripper) aws.Config {
	return aws.Config{
		Region: region,
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDFAKE", SecretAccessKey: "secret", Source: "fakeaws"}, nil
		})),
		HTTPClient: &http.Client{Transport: tr},
	}
}
