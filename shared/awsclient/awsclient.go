// Package awsclient builds the AWS SDK configuration and clients a logfan
// function uses, from what Lambda puts in the function's environment.
//
// It does not use the SDK's default chain (config.LoadDefaultConfig): in
// Lambda that chain only ever finds the environment's credentials and
// region, and linking it (shared config files, SSO, STS, IMDS, process
// credentials) costs 1.6 MB of each binary and work at every cold start.
// The tools load the full chain through internal/cli/sdkconfig.
package awsclient

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Environment variables Lambda sets for every function (and emulators
// honour), read by FromEnvironment.
const (
	EnvRegion        = "AWS_REGION"
	EnvDefaultRegion = "AWS_DEFAULT_REGION"
	EnvAccessKeyID   = "AWS_ACCESS_KEY_ID"
	EnvSecretKey     = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken  = "AWS_SESSION_TOKEN"
	// EnvEndpointURL points every client at one endpoint (moto, LocalStack),
	// as the SDK's own AWS_ENDPOINT_URL setting does.
	EnvEndpointURL = "AWS_ENDPOINT_URL"
)

// FromEnvironment returns the SDK configuration from the function's
// environment (os.Getenv in Lambda): region, the execution role's
// credentials, and AWS_ENDPOINT_URL when set. It reports every missing
// variable in one error.
func FromEnvironment(getenv func(string) string) (aws.Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var errs []error
	region := get(EnvRegion)
	if region == "" {
		region = get(EnvDefaultRegion)
	}
	if region == "" {
		errs = append(errs, fmt.Errorf("%s is not set (Lambda sets it)", EnvRegion))
	}
	id, secret := get(EnvAccessKeyID), get(EnvSecretKey)
	if id == "" || secret == "" {
		errs = append(errs, fmt.Errorf("%s and %s are not set (Lambda sets them from the execution role)", EnvAccessKeyID, EnvSecretKey))
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration from the environment: %w", err)
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, get(EnvSessionToken)),
		HTTPClient:  awshttp.NewBuildableClient(),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	if ep := get(EnvEndpointURL); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
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
