package config

import (
	"github.com/logfan/logfan/shared/s3layout"

	"strings"
	"testing"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(SinkLogs, env(EnvLogsRetentionDays, "31", EnvLogsGroupTemplate, "/x/{ownr}", EnvMaxDecompressedBytes, "lots", EnvDeliveryTimeout, "-1s"))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{EnvLogsRegion + " is required", EnvQuarantineBucket + " is required", EnvLogsRetentionDays + "=31", "{ownr}", EnvMaxDecompressedBytes, EnvDeliveryTimeout} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		sink    string
		env     func(string) string
		wantErr string
		check   func(*Config) bool
	}{
		{SinkS3, env(EnvS3Bucket, "b", EnvQuarantineBucket, "q", EnvS3Prefix, "/p/"), "", func(c *Config) bool {
			return c.S3.Bucket == "b" && c.S3.Prefix == "p" && c.S3.MaxObjectBytes == DefaultS3MaxObjectBytes && c.Quarantine.Prefix == DefaultQuarantinePrefix && c.S3.Format == s3layout.FormatNDJSON
		}},
		{SinkS3, env(EnvQuarantineBucket, "q"), EnvS3Bucket + " is required", nil},
		{SinkS3, env(EnvS3Bucket, "b", EnvQuarantineBucket, "q", EnvS3Format, "parquet"), "", func(c *Config) bool { return c.S3.Format == s3layout.FormatParquet }},
		{SinkS3, env(EnvS3Bucket, "b", EnvQuarantineBucket, "q", EnvS3Format, "csv"), EnvS3Format + `="csv"`, nil},
		{SinkS3, env(EnvS3Bucket, "b", EnvQuarantineBucket, "q", EnvS3MaxObjectBytes, "10"), EnvS3MaxObjectBytes, nil},
		{SinkFirehose, env(EnvFirehoseStream, "f", EnvQuarantineBucket, "q"), "", func(c *Config) bool { return c.Firehose.Packing == PackingPack }},
		{SinkFirehose, env(EnvFirehoseStream, "f", EnvQuarantineBucket, "q", EnvFirehosePacking, "zip"), EnvFirehosePacking, nil},
		{SinkLogs, env(EnvLogsRegion, "eu-west-1", EnvQuarantineBucket, "q", EnvLogsRetentionDays, "365"), "", func(c *Config) bool {
			return c.Logs.RetentionDays == 365 && c.Logs.GroupTemplate == DefaultLogsGroupTemplate && c.Logs.StreamTemplate == PlaceholderLogStream
		}},
		{SinkStdout, env(), "", func(c *Config) bool { return c.MaxDecompressed == 64<<20 }},
		{"kafka", env(), "unknown sink", nil},
	}
	for _, tt := range tests {
		c, err := Load(tt.sink, tt.env)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load(%s): err = %v, want %q", tt.sink, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Load(%s): %v", tt.sink, err)
			continue
		}
		if !tt.check(c) {
			t.Errorf("Load(%s) = %+v", tt.sink, c)
		}
	}
}

func TestExpand(t *testing.T) {
	got := Expand(DefaultLogsGroupTemplate, "111111111111", "/aws/lambda/app", "s")
	if got != "/logfan/111111111111/aws/lambda/app" {
		t.Errorf("Expand = %q", got)
	}
	if got := Expand("{logStream}-{owner}", "1", "/g", "st"); got != "st-1" {
		t.Errorf("Expand = %q", got)
	}
}
