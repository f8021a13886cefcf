// Package app wires a consumer handler from configuration: the SDK clients
// (built once, at cold start), the quarantine and the sink. The Lambda
// functions and `logfan replay` share it, so a replay runs exactly the code
// a function runs.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

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
}

// NewHandler builds the handler for cfg.Sink.
func NewHandler(ctx context.Context, cfg *config.Config, d Deps) (*consumer.Handler, error) {
	q := d.Quarantine
	var s sink.Sink
	var err error
	switch cfg.Sink {
	case config.SinkStdout:
		s = newStdout(d.Stdout)
	case config.SinkS3:
		s, q, err = newS3(ctx, cfg, q)
	case config.SinkFirehose:
		s, q, err = newFirehose(ctx, cfg, q)
	case config.SinkLogs:
		s, q, err = newLogs(ctx, cfg, q)
	default:
		err = fmt.Errorf("unknown sink %q", cfg.Sink)
	}
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
