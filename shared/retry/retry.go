// Package retry is logfan's one retry policy for calls to AWS: which errors
// are worth repeating, how long one attempt may take, and how long to wait
// between attempts. Every sink and the quarantine use it; the SDK clients the
// functions build do not retry on their own (app sets aws.NopRetryer), so
// there is one loop, one classification and one backoff.
//
// Retrying stops when the caller's context ends: the consumer bounds that
// context so that a batch that still fails is reported back to Lambda (batch
// item failures) before the function's deadline, and nothing is lost.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// Defaults of a Policy.
const (
	// DefaultBackoffBase is the ceiling of the first wait (full jitter, doubling).
	DefaultBackoffBase = 100 * time.Millisecond
	// DefaultBackoffMax caps the wait between two attempts.
	DefaultBackoffMax = 5 * time.Second
	// DefaultAttemptTimeout bounds one call, so a connection that hangs is
	// abandoned and retried instead of eating the invocation. The largest
	// request logfan sends (a 4 MiB PutRecordBatch or an S3 object of a few
	// MB) takes well under a second from Lambda.
	DefaultAttemptTimeout = 30 * time.Second
)

// Policy says how calls are retried. The zero value uses the defaults.
type Policy struct {
	// BackoffBase is the ceiling of the first wait; it doubles per attempt.
	BackoffBase time.Duration
	// BackoffMax caps the wait.
	BackoffMax time.Duration
	// AttemptTimeout bounds one call; negative means only the context bounds it.
	AttemptTimeout time.Duration
	// Sleep waits d or until ctx ends (tests replace the clock); nil sleeps for real.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Default returns the policy with every default.
func Default() Policy {
	return Policy{BackoffBase: DefaultBackoffBase, BackoffMax: DefaultBackoffMax, AttemptTimeout: DefaultAttemptTimeout}
}

// Attempt runs one call bounded by the attempt timeout.
func (p Policy) Attempt(ctx context.Context, call func(context.Context) error) error {
	timeout := p.AttemptTimeout
	if timeout == 0 {
		timeout = DefaultAttemptTimeout
	}
	if timeout < 0 {
		return call(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return call(actx)
}

// Wait sleeps before retry number n+1 (n counts from 0): a full-jitter
// exponential backoff. It returns ctx's error if ctx ends first, and
// context.DeadlineExceeded at once if ctx would end before the wait does.
func (p Policy) Wait(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	base, ceil := p.BackoffBase, p.BackoffMax
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if ceil <= 0 {
		ceil = DefaultBackoffMax
	}
	if n < 30 {
		ceil = min(ceil, base<<n)
	}
	d := rand.N(max(ceil, 1)) + 1
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		// No retry could start before ctx ends: stop now rather than sleep
		// through the time left.
		return context.DeadlineExceeded
	}
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Sleep waits d, or returns ctx's error as soon as ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Do calls op until it succeeds, fails with an error that is not Retryable,
// or ctx ends, waiting between attempts. It returns how many times op was
// repeated and op's last error (with the context's, when that stopped it).
func (p Policy) Do(ctx context.Context, op func(context.Context) error) (retries int, err error) {
	for n := 0; ; n++ {
		err = p.Attempt(ctx, op)
		if err == nil || !Retryable(ctx, err) {
			return n, err
		}
		if werr := p.Wait(ctx, n); werr != nil {
			return n, fmt.Errorf("%w (gave up: %w)", err, werr)
		}
	}
}

// Permanent marks err as not worth repeating whatever it wraps (a caller
// that knows better than the classification, e.g. work no longer needed).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// sdkRetryables is the SDK's own classification (connection errors, 500,
// 502, 503, 504, request timeouts and every throttling code it knows).
var sdkRetryables = awsretry.IsErrorRetryables(awsretry.DefaultRetryables)

// moreCodes are transient error codes the SDK's default lists leave out but
// the services logfan calls return: server faults named per service,
// S3's clock-skew and token-refresh codes, KMS throttling behind SSE-KMS,
// and the legacy CloudWatch Logs sequence-token race.
var moreCodes = map[string]bool{
	"ServiceUnavailableException":   true, // Firehose, CloudWatch Logs
	"ServiceUnavailable":            true,
	"InternalFailure":               true,
	"InternalError":                 true, // S3
	"InternalServerError":           true,
	"InternalServerException":       true,
	"OperationAborted":              true, // S3: a conflicting operation on the bucket
	"OperationAbortedException":     true, // CloudWatch Logs
	"RequestTimeTooSkewed":          true,
	"ExpiredToken":                  true,
	"TokenRefreshRequired":          true,
	"KMS.ThrottlingException":       true,
	"InvalidSequenceTokenException": true,
	// CloudWatch Logs read APIs (FilterLogEvents, GetLogEvents) over their
	// 5 requests per second per account and region, which backfill reads with.
	"RateExceeded": true,
}

// Retryable reports whether a failed call may succeed if repeated within
// the same invocation. It is false once ctx has ended. It is true for:
// the attempt's own timeout; what the SDK classifies as retryable or
// throttling; the codes in moreCodes; server faults, 408 and 429; and
// errors without any HTTP response (the network). It is false for
// everything else: client errors (AccessDenied, NoSuchBucket,
// ResourceNotFound, a bad KMS key, validation), a request the SDK could not
// build or send (NotSentError: parameters, endpoint resolution; see
// MarkNotSent), a host name that does not exist, and errors marked
// Permanent. Callers handle the codes that mean something to them
// (ResourceNotFoundException for the Logs sink) first.
func Retryable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var perm *permanentError
	var invalid *smithy.InvalidParamsError
	// The SDK's generated validators return InvalidParamsError by value.
	var invalidValue smithy.InvalidParamsError
	var ser *smithy.SerializationError
	var notSent *NotSentError
	if errors.As(err, &perm) || errors.As(err, &invalid) || errors.As(err, &invalidValue) || errors.As(err, &ser) || errors.As(err, &notSent) {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false // no such host: a name that does not exist, as the SDK's own classification says
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true // the attempt timed out while ctx goes on
	}
	if sdkRetryables.IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if moreCodes[ae.ErrorCode()] || ae.ErrorFault() == smithy.FaultServer {
			return true
		}
	}
	var hs interface{ HTTPStatusCode() int }
	if !errors.As(err, &hs) || hs.HTTPStatusCode() == 0 {
		return ae == nil // no response at all: the network
	}
	switch st := hs.HTTPStatusCode(); {
	case st == 408, st == 429, st >= 500 && st != 501:
		return true
	}
	return false
}
