package app

import (
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
)

// Main is a consumer function's whole main: load the configuration, build
// clients and the handler once at cold start, and serve invocations. A bad
// configuration fails the cold start with one error listing every problem.
func Main(sink string, build Builder) {
	logger := lambdacontext.NewLogger()
	cfg, cfgErr := config.Load(sink, os.Getenv)
	awsCfg, awsErr := awsclient.FromEnvironment(os.Getenv)
	err := errors.Join(cfgErr, awsErr)
	if err == nil {
		var h lambda.Handler
		if h, err = NewHandler(cfg, awsCfg, build, Deps{Logger: logger, Metrics: os.Stdout}); err == nil {
			lambda.Start(h)
			return
		}
	}
	logger.Error("cold start failed", "sink", sink, "error", err.Error())
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
