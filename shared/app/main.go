package app

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
)

// Main is a consumer function's whole main: load the configuration, build
// clients and the handler once at cold start, and serve invocations. A bad
// configuration fails the cold start with one error listing every problem.
func Main(sink string, build Builder) {
	logger := lambdacontext.NewLogger()
	cfg, err := config.Load(sink, os.Getenv)
	if err == nil {
		var awsCfg aws.Config
		awsCfg, err = awsclient.FromEnvironment(os.Getenv)
		if err == nil {
			var h lambda.Handler
			h, err = NewHandler(cfg, awsCfg, build, Deps{Logger: logger, Metrics: os.Stdout})
			if err == nil {
				lambda.Start(h)
				return
			}
		}
	}
	logger.Error("cold start failed", "sink", sink, "error", err.Error())
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
