package firehosesink

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// Build builds the Firehose sink from the SDK and logfan configuration (an app.Builder).
func Build(awsCfg aws.Config, cfg *config.Config, policy retry.Policy) (sink.Sink, error) {
	return New(firehose.NewFromConfig(awsCfg), cfg.Firehose, WithRetry(policy)), nil
}
