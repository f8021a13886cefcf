package logssink

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// Build builds the CloudWatch Logs sink from the SDK and logfan
// configuration (an app.Builder). The target log groups live in another
// region; the quarantine stays in the function's own.
func Build(awsCfg aws.Config, cfg *config.Config, policy retry.Policy) (sink.Sink, error) {
	client := cloudwatchlogs.NewFromConfig(awsCfg, func(o *cloudwatchlogs.Options) { o.Region = cfg.Logs.Region })
	return New(client, cfg.Logs, WithRetry(policy)), nil
}
