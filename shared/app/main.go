package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
)

// ShutdownFlushTimeout bounds the sender-health writes at shutdown: Lambda
// gives a process with an internal extension 500 ms after SIGTERM.
const ShutdownFlushTimeout = 400 * time.Millisecond

// Main is a consumer function's whole main: load the configuration, build
// clients and the handler once at cold start, and serve invocations. A bad
// configuration fails the cold start with one error listing every problem.
func Main(sink string, build Builder) {
	logger := lambdacontext.NewLogger()
	cfg, cfgErr := config.Load(sink, os.Getenv)
	awsCfg, awsErr := awsclient.FromEnvironment(os.Getenv)
	err := errors.Join(cfgErr, awsErr)
	if err == nil {
		var h *consumer.Handler
		if h, err = NewHandler(cfg, awsCfg, build, Deps{Logger: logger, Metrics: os.Stdout}); err == nil {
			var opts []lambda.Option
			if cfg.Health.Table != "" {
				// Lambda sends SIGTERM before it ends an instance (only
				// to a process that registered an extension, which this
				// option does): write the sender health still in memory.
				opts = append(opts, lambda.WithEnableSIGTERM(func() {
					ctx, cancel := context.WithTimeout(context.Background(), ShutdownFlushTimeout)
					defer cancel()
					if err := h.Shutdown(ctx); err != nil {
						logger.Warn("sender health at shutdown", "error", err.Error())
					}
					// Done: exit now rather than wait to be killed at the deadline.
					os.Exit(0)
				}))
			}
			lambda.StartWithOptions(h, opts...)
			return
		}
	}
	logger.Error("cold start failed", "sink", sink, "error", err.Error())
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
