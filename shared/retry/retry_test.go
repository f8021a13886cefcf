package retry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func httpErr(status int, code string) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "injected"},
	}
}

func TestRetryable(t *testing.T) {
	attemptCtx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-attemptCtx.Done()
	tests := []struct {
		err  error
		want bool
	}{
		// Throttling and server faults, as S3, Firehose and CloudWatch Logs name them.
		{httpErr(503, "SlowDown"), true},
		{httpErr(500, "InternalError"), true},
		{httpErr(400, "ThrottlingException"), true},
		{httpErr(400, "LimitExceededException"), true},
		{httpErr(503, "ServiceUnavailableException"), true},
		{httpErr(500, "InternalFailure"), true},
		{httpErr(400, "RequestTimeout"), true},
		{httpErr(400, "RequestTimeTooSkewed"), true},
		{httpErr(429, "TooManyRequests"), true},
		{httpErr(400, "KMS.ThrottlingException"), true},
		{httpErr(400, "RateExceeded"), true},
		{httpErr(400, "OperationAbortedException"), true},
		// Client errors do not heal within an invocation.
		{httpErr(403, "AccessDenied"), false},
		{httpErr(404, "NoSuchBucket"), false},
		{httpErr(400, "ResourceNotFoundException"), false},
		{httpErr(400, "InvalidArgumentException"), false},
		{httpErr(400, "KMS.NotFoundException"), false},
		{httpErr(501, "NotImplemented"), false},
		{fmt.Errorf("wrapped: %w", httpErr(403, "AccessDenied")), false},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, false},
		{&smithy.InvalidParamsError{Context: "PutObjectInput"}, false},
		{fmt.Errorf("op: %w", smithy.InvalidParamsError{Context: "PutObjectInput"}), false}, // as the SDK's validators return it
		{&smithy.SerializationError{Err: errors.New("bad")}, false},
		{Permanent(httpErr(503, "SlowDown")), false},
		// The network, and one attempt's own timeout.
		{errors.New("dial tcp: connection refused"), true},
		{&net.OpError{Op: "dial", Err: errors.New("connection reset by peer")}, true},
		{fmt.Errorf("put: %w", attemptCtx.Err()), true},
		{nil, false},
	}
	for _, tt := range tests {
		if got := Retryable(context.Background(), tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if Retryable(done, httpErr(503, "SlowDown")) {
		t.Error("Retryable after ctx ended = true")
	}
}

func TestDo(t *testing.T) {
	var slept []time.Duration
	p := Policy{BackoffBase: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond,
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	calls := 0
	retries, err := p.Do(context.Background(), func(context.Context) error {
		calls++
		if calls < 5 {
			return httpErr(503, "SlowDown")
		}
		return nil
	})
	if err != nil || retries != 4 || calls != 5 || len(slept) != 4 {
		t.Fatalf("Do = %d, %v after %d calls, %d sleeps", retries, err, calls, len(slept))
	}
	for i, d := range slept {
		if ceil := min(40*time.Millisecond, 10*time.Millisecond<<i); d <= 0 || d > ceil+1 {
			t.Errorf("wait %d = %v, want in (0, %v]", i, d, ceil)
		}
	}
	calls = 0
	if retries, err := p.Do(context.Background(), func(context.Context) error { calls++; return httpErr(403, "AccessDenied") }); retries != 0 || calls != 1 || err == nil {
		t.Errorf("permanent error: %d retries, %d calls, %v", retries, calls, err)
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	p := Policy{AttemptTimeout: 20 * time.Millisecond, BackoffBase: time.Millisecond}
	calls := 0
	_, err := p.Do(context.Background(), func(ctx context.Context) error {
		calls++
		if calls == 1 {
			<-ctx.Done() // a hung connection
			return fmt.Errorf("hung: %w", ctx.Err())
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("err %v after %d calls, want success on the second", err, calls)
	}
}

// TestWaitStopsBeforeTheDeadline: a backoff drawn past ctx's deadline
// returns DeadlineExceeded at once; one drawn before it sleeps. The draw is
// full jitter (0 to an hour here, against a minute left), so the test
// draws many times and checks each outcome against the delay drawn: a
// single draw sleeps in one case of sixty.
func TestWaitStopsBeforeTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var slept time.Duration
	p := Policy{BackoffBase: time.Hour, BackoffMax: time.Hour, Sleep: func(_ context.Context, d time.Duration) error { slept = d; return nil }}
	dl, _ := ctx.Deadline()
	stopped := 0
	for range 600 {
		slept = 0
		left := time.Until(dl)
		err := p.Wait(ctx, 3)
		switch {
		case errors.Is(err, context.DeadlineExceeded) && slept == 0:
			stopped++
		case err == nil && slept > 0 && slept < left:
			// a delay within the time left: sleeping it is right
		default:
			t.Fatalf("Wait = %v after sleeping %v with %v left", err, slept, left)
		}
	}
	if stopped < 500 {
		t.Errorf("Wait stopped %d times of 600, want most (a delay of up to an hour against a minute left)", stopped)
	}
}
