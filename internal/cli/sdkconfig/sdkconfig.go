// Package sdkconfig loads the AWS SDK configuration for logfan's tools and
// tests through the SDK's full default chain (profiles, SSO, assumed roles,
// AWS_ENDPOINT_URL, AWS_REGION), so a replay or redrive works from an
// operator's machine as the AWS CLI does. Functions use
// shared/awsclient.FromEnvironment instead, which links none of that chain.
package sdkconfig

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Load returns the default SDK configuration; a non-empty region overrides
// the environment's.
func Load(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}
