package s3sink

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/sink"
)

// Build builds the gzip NDJSON S3 sink from the SDK and logfan configuration
// (an app.Builder). Parquet output is the s3parquet function's (package
// s3parquet), so this binary does not link a Parquet library.
func Build(awsCfg aws.Config, cfg *config.Config, policy retry.Policy) (sink.Sink, error) {
	if cfg.S3.Format != s3layout.FormatNDJSON {
		return nil, fmt.Errorf("%s=%q: the s3 function writes gzip NDJSON only; deploy the s3parquet function for Parquet", config.EnvS3Format, cfg.S3.Format)
	}
	return New(awsclient.S3(awsCfg), cfg.S3, WithRetry(policy)), nil
}
