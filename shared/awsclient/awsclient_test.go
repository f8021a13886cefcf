package awsclient

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestFromEnvironment(t *testing.T) {
	cfg, err := FromEnvironment(env(EnvRegion, "eu-central-1", EnvAccessKeyID, "AKID", EnvSecretKey, "s", EnvSessionToken, "tok", EnvEndpointURL, "http://127.0.0.1:5000"))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKID" || creds.SessionToken != "tok" {
		t.Errorf("credentials %+v, %v", creds, err)
	}
	if cfg.Region != "eu-central-1" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:5000" {
		t.Errorf("region %q, endpoint %q", cfg.Region, aws.ToString(cfg.BaseEndpoint))
	}
	if _, ok := cfg.Retryer().(aws.NopRetryer); !ok {
		t.Error("the SDK retries on its own: the retry policy must be the only loop")
	}
	if c := S3(cfg); !c.Options().UsePathStyle {
		t.Error("path-style addressing is off with a custom endpoint")
	}

	cfg, err = FromEnvironment(env(EnvDefaultRegion, "us-west-2", EnvAccessKeyID, "AKID", EnvSecretKey, "s"))
	if err != nil || cfg.Region != "us-west-2" || cfg.BaseEndpoint != nil {
		t.Errorf("AWS_DEFAULT_REGION: %+v, %v", cfg, err)
	}
	_, err = FromEnvironment(env())
	if err == nil || !strings.Contains(err.Error(), EnvRegion) || !strings.Contains(err.Error(), EnvAccessKeyID) {
		t.Errorf("empty environment: %v, want one error naming every missing variable", err)
	}
}
