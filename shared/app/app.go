// Package app wires a consumer handler from configuration: the SDK clients
// (built once, at cold start), the quarantine and the sink. The Lambda
// functions and `logfan replay` share it, so a replay runs exactly the code
// a function runs.
package app

import (
	"context"

	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"io"
	"log/slog"

	"github.com/logfan/logfan/internal/tools/stdoutsink"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/sink"
)

// Deps are what a handler needs besides configuration.
type Deps struct {
	// Logger gets one line per batch.
	Logger *slog.Logger
	// Metrics receives EMF documents (stdout in Lambda).
	Metrics io.Writer
	// Stdout receives NDJSON records for the stdout sink.
	Stdout io.Writer
	// Quarantine overrides the S3 quarantine (replay to stdout keeps entries in memory).
	Quarantine quarantine.Quarantine
	// OnSummary receives each invocation's summary.
	OnSummary func(consumer.Summary)
	// HTTPClient, if set, carries the SDK clients' requests (fault-injection tests).
	HTTPClient aws.HTTPClient
}

// Builder builds one kind of sink and the quarantine it shares with the
// handler (d.Quarantine, when the caller supplies one).
type Builder func(ctx context.Context, cfg *config.Config, d Deps) (sink.Sink, quarantine.Quarantine, error)

// Builders for each sink. A function's main names only its own, so the
// linker leaves the other sinks' SDK clients out of its binary.
var (
	S3       Builder = newS3
	Firehose Builder = newFirehose
	Logs     Builder = newLogs
)

// BuilderFor returns the Builder for a sink name (replay, demo and redrive
// choose the sink at run time).
func BuilderFor(name string, stdout io.Writer) (Builder, error) {
	switch name {
	case config.SinkS3:
		return S3, nil
	case config.SinkFirehose:
		return Firehose, nil
	case config.SinkLogs:
		return Logs, nil
	case config.SinkStdout:
		return func(_ context.Context, _ *config.Config, d Deps) (sink.Sink, quarantine.Quarantine, error) {
			return stdoutsink.New(stdout), d.Quarantine, nil
		}, nil
	}
	return nil, fmt.Errorf("unknown sink %q", name)
}

// NewHandler builds the handler for cfg.Sink.
func NewHandler(ctx context.Context, cfg *config.Config, d Deps) (*consumer.Handler, error) {
	build, err := BuilderFor(cfg.Sink, d.Stdout)
	if err != nil {
		return nil, err
	}
	return NewHandlerWith(ctx, cfg, build, d)
}

// NewHandlerWith builds a handler around the sink build makes.
func NewHandlerWith(ctx context.Context, cfg *config.Config, build Builder, d Deps) (*consumer.Handler, error) {
	s, q, err := build(ctx, cfg, d)
	if err != nil {
		return nil, fmt.Errorf("build %s sink: %w", cfg.Sink, err)
	}
	if q == nil {
		q = &quarantine.Memory{}
	}
	return consumer.New(consumer.Options{
		Sink: s, Quarantine: q, MaxDecompressed: cfg.MaxDecompressed, DeliveryTimeout: cfg.DeliveryTimeout,
		Logger: d.Logger, Metrics: d.Metrics, OnSummary: d.OnSummary,
	}), nil
}
