// Package awsclient builds the AWS SDK configuration logfan's functions and
// tools share: the SDK's default chain (so AWS_ENDPOINT_URL, AWS_REGION and
// credentials work the same against AWS, moto or LocalStack), built once.
package awsclient

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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

// S3 builds an S3 client. With a custom endpoint (an emulator) it uses
// path-style addressing, since bucket subdomains of 127.0.0.1 do not resolve.
func S3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if cfg.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
}
