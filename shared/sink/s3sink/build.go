package s3sink

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// Build builds the S3 sink from the SDK and logfan configuration (an app.Builder).
func Build(awsCfg aws.Config, cfg *config.Config, policy retry.Policy) sink.Sink {
	return New(awsclient.S3(awsCfg), cfg.S3, WithRetry(policy))
}
