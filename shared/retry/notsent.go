package retry

import (
	"context"
	"errors"
	"net"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// NotSentError is a call's error raised before its request reached the
// network: parameter validation, serialization, endpoint resolution (a
// region or bucket name that is no host name), signing. Repeating the call
// would fail the same way, so it is never retried.
type NotSentError struct{ Err error }

func (e *NotSentError) Error() string {
	return e.Err.Error() + " (raised before any request was sent: a configuration or input error, not retried)"
}

func (e *NotSentError) Unwrap() error { return e.Err }

// MarkNotSent is an SDK API option (aws.Config.APIOptions) that wraps every
// error raised before the request reaches the transport in a NotSentError,
// so that Retryable can tell "never sent" from "sent, no answer" (the
// network), which both come without an HTTP response.
func MarkNotSent(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("logfan.MarkNotSent",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			sent := new(bool)
			out, md, err := next.HandleInitialize(context.WithValue(ctx, sentKey{}, sent), in)
			if err != nil && !*sent && ctx.Err() == nil && !touchedNetwork(err) {
				err = &NotSentError{Err: err}
			}
			return out, md, err
		}), middleware.Before); err != nil {
		return err
	}
	// Last of the deserialize step: the request has passed every build,
	// endpoint and signing step and goes to the transport next.
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("logfan.RequestSent",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			if sent, ok := ctx.Value(sentKey{}).(*bool); ok {
				*sent = true
			}
			return next.HandleDeserialize(ctx, in)
		}), middleware.After)
}

type sentKey struct{}

// touchedNetwork reports an error that carries a response or a network
// failure although the operation's own request was not sent: fetching
// credentials (STS, SSO, the container endpoint) is a request of its own,
// and its failures stay with the usual classification.
func touchedNetwork(err error) bool {
	var already *NotSentError
	var hs interface{ HTTPStatusCode() int }
	var ne net.Error
	var send *smithyhttp.RequestSendError
	return errors.As(err, &already) || (errors.As(err, &hs) && hs.HTTPStatusCode() != 0) || errors.As(err, &ne) || errors.As(err, &send)
}
