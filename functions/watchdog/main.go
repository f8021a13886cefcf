// Command watchdog is logfan's sender-health watchdog: scheduled every 5
// minutes, it reads the sender-health table and reports silent, late,
// never-seen and unexpected senders and silent log groups as EMF metrics
// and one log line. Its logic lives in shared/health.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
)

func main() {
	logger := lambdacontext.NewLogger()
	settings, err := health.LoadSettings(os.Getenv)
	awsCfg, awsErr := awsclient.FromEnvironment(os.Getenv)
	table := strings.TrimSpace(os.Getenv(config.EnvHealthTable))
	var tableErr error
	if table == "" {
		tableErr = fmt.Errorf("%s is not set: the stack sets it to the sender-health table", config.EnvHealthTable)
	}
	if err = errors.Join(err, awsErr, tableErr); err != nil {
		logger.Error("cold start failed", "error", err.Error())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := &health.Watchdog{
		Reader: dynamohealth.New(dynamodb.NewFromConfig(awsCfg), table), Settings: settings,
		Logger: logger, Metrics: os.Stdout,
	}
	// The schedule's payload carries nothing the watchdog needs.
	lambda.Start(func(ctx context.Context) error {
		_, err := w.Run(ctx)
		return err
	})
}
