package retry_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/logfan/logfan/shared/retry"
)

// apiError is what the SDK returns for a service's error response.
func apiError(status int, code string) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "from the service"},
	}
}

// A call throttled twice succeeds on its third attempt: Do repeats it,
// waiting a jittered, doubling backoff in between (the clock is replaced
// here so that the example does not sleep).
func ExamplePolicy_Do() {
	p := retry.Default()
	p.Sleep = func(context.Context, time.Duration) error { return nil }

	calls := 0
	retries, err := p.Do(context.Background(), func(context.Context) error {
		calls++
		if calls < 3 {
			return apiError(503, "SlowDown")
		}
		return nil
	})
	fmt.Println("retries:", retries, "err:", err)

	// A client error does not heal by repeating: Do returns it at once.
	retries, err = p.Do(context.Background(), func(context.Context) error {
		return apiError(403, "AccessDenied")
	})
	fmt.Println("retries:", retries, "retryable:", retry.Retryable(context.Background(), err))
	// Output:
	// retries: 2 err: <nil>
	// retries: 0 retryable: false
}

// Retryable is the one classification every sink uses: throttling, server
// faults and the network are worth repeating; client errors and errors a
// caller marks Permanent are not.
func ExampleRetryable() {
	ctx := context.Background()
	for _, err := range []error{
		apiError(400, "ThrottlingException"),
		apiError(500, "InternalError"),
		apiError(404, "NoSuchBucket"),
		retry.Permanent(apiError(503, "SlowDown")),
	} {
		fmt.Println(retry.Retryable(ctx, err))
	}
	// Output:
	// true
	// true
	// false
	// false
}
