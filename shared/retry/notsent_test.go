package retry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// transport answers every request with err and counts them.
type transport struct {
	calls atomic.Int32
	err   error
}

func (t *transport) Do(*http.Request) (*http.Response, error) {
	t.calls.Add(1)
	return nil, t.err
}

func client(region string, tr *transport) *firehose.Client {
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:  tr,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	cfg.APIOptions = append(cfg.APIOptions, MarkNotSent)
	return firehose.NewFromConfig(cfg)
}

func put(ctx context.Context, c *firehose.Client, stream *string) error {
	_, err := c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: stream, Records: []types.Record{{Data: []byte("x\n")}}})
	return err
}

// TestErrorsBeforeSendingAreNotRetried: a region that is no host name
// fails endpoint resolution, and a missing parameter fails validation,
// before any request is sent: repeating the call fails the same way, so
// the one retry policy gives up at once (the batch is quarantined or
// reported, instead of retrying until the shard gives up). Errors of a
// request that was sent and got no answer stay retryable.
func TestErrorsBeforeSendingAreNotRetried(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, region string
		stream       *string
	}{
		{"endpoint resolution", "not a region", aws.String("s")},
		{"parameter validation", "eu-west-1", nil},
	} {
		tr := &transport{err: errors.New("must not be called")}
		err := put(ctx, client(tt.region, tr), tt.stream)
		if err == nil {
			t.Fatalf("%s: no error", tt.name)
		}
		if n := tr.calls.Load(); n != 0 {
			t.Fatalf("%s: %d requests sent", tt.name, n)
		}
		if Retryable(ctx, err) {
			t.Errorf("%s: Retryable(%v) = true", tt.name, err)
		}
		calls := 0
		p := Policy{Sleep: func(context.Context, time.Duration) error { return nil }}
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, derr := p.Do(dctx, func(ctx context.Context) error { calls++; return put(ctx, client(tt.region, tr), tt.stream) }); derr == nil || calls != 1 {
			t.Errorf("%s: Do made %d calls (err %v), want 1", tt.name, calls, derr)
		}
	}
	var notSent *NotSentError
	err := put(ctx, client("not a region", &transport{}), aws.String("s"))
	if !errors.As(err, &notSent) || !strings.Contains(err.Error(), "before any request was sent") {
		t.Errorf("endpoint error %q does not say that nothing was sent", err)
	}

	// Sent, but no answer: the network. Retried, except a host that does not exist.
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, true},
		{&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true},
		{&net.DNSError{Err: "no such host", Name: "firehose.eu-wset-1.amazonaws.com", IsNotFound: true}, false},
	} {
		tr := &transport{err: tt.err}
		err := put(ctx, client("eu-west-1", tr), aws.String("s"))
		if tr.calls.Load() != 1 {
			t.Fatalf("%v: %d requests sent, want 1", tt.err, tr.calls.Load())
		}
		if errors.As(err, &notSent) {
			t.Errorf("%v: a sent request is marked not sent: %v", tt.err, err)
		}
		if got := Retryable(ctx, err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", err, got, tt.want)
		}
	}

	// An attempt that times out before its request goes out is retried.
	tctx, cancel := context.WithCancel(ctx)
	cancel()
	err = put(tctx, client("eu-west-1", &transport{}), aws.String("s"))
	if errors.As(err, &notSent) {
		t.Errorf("a cancelled attempt is marked not sent: %v", err)
	}
}
