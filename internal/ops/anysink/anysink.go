// Package anysink builds a consumer handler for a sink chosen at run time
// (replay, demo, redrive), including the stdout sink no function deploys.
// Functions name their own sink's builder instead, so they link one sink.
package anysink

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/ops/stdoutsink"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/sink/firehosesink"
	"github.com/logfan/logfan/shared/sink/logssink"
	"github.com/logfan/logfan/shared/sink/s3sink"
	"github.com/logfan/logfan/shared/sink/s3sink/s3parquet"
)

// Builder returns the builder of the named sink; the stdout sink writes NDJSON to stdout.
func Builder(name string, stdout io.Writer) (app.Builder, error) {
	switch name {
	case config.SinkS3:
		return s3Builder, nil
	case config.SinkFirehose:
		return firehosesink.Build, nil
	case config.SinkLogs:
		return logssink.Build, nil
	case config.SinkStdout:
		return func(aws.Config, *config.Config, retry.Policy) (sink.Sink, error) { return stdoutsink.New(stdout), nil }, nil
	}
	return nil, fmt.Errorf("unknown sink %q: want %s, %s, %s or %s", name, config.SinkS3, config.SinkFirehose, config.SinkLogs, config.SinkStdout)
}

// NewHandler builds the handler for cfg.Sink, the way a function's cold
// start does, with the SDK's full default configuration chain.
func NewHandler(ctx context.Context, cfg *config.Config, d app.Deps, stdout io.Writer) (*consumer.Handler, error) {
	build, err := Builder(cfg.Sink, stdout)
	if err != nil {
		return nil, err
	}
	awsCfg, err := sdkconfig.Load(ctx, "")
	if err != nil {
		return nil, err
	}
	return app.NewHandler(cfg, awsCfg, build, d)
}

// NewHandlerWith builds the handler for cfg.Sink with awsCfg (a deployed
// stack's region, as `logfan redrive -region` reads it).
func NewHandlerWith(cfg *config.Config, awsCfg aws.Config, d app.Deps, stdout io.Writer) (*consumer.Handler, error) {
	build, err := Builder(cfg.Sink, stdout)
	if err != nil {
		return nil, err
	}
	return app.NewHandler(cfg, awsCfg, build, d)
}

// s3Builder builds the S3 sink in the configured format, as the stack
// deploys the s3 or the s3parquet function.
func s3Builder(awsCfg aws.Config, cfg *config.Config, policy retry.Policy) (sink.Sink, error) {
	if cfg.S3.Format == s3layout.FormatParquet {
		return s3parquet.Build(awsCfg, cfg, policy)
	}
	return s3sink.Build(awsCfg, cfg, policy)
}
