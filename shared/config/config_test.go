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
		{SinkS3, env(EnvS3Bucket, "data-b", EnvQuarantineBucket, "quarantine-q", EnvS3Prefix, "/p/"), "", func(c *Config) bool {
			return c.S3.Bucket == "data-b" && c.S3.Prefix == "p" && c.S3.MaxObjectBytes == DefaultS3MaxObjectBytes && c.Quarantine.Prefix == DefaultQuarantinePrefix && c.S3.Format == s3layout.FormatNDJSON
		}},
		{SinkS3, env(EnvQuarantineBucket, "quarantine-q"), EnvS3Bucket + " is required", nil},
		{SinkS3, env(EnvS3Bucket, "data-b", EnvQuarantineBucket, "quarantine-q", EnvS3Format, "parquet"), "", func(c *Config) bool { return c.S3.Format == s3layout.FormatParquet }},
		{SinkS3, env(EnvS3Bucket, "data-b", EnvQuarantineBucket, "quarantine-q", EnvS3Format, "csv"), EnvS3Format + `="csv"`, nil},
		{SinkS3, env(EnvS3Bucket, "data-b", EnvQuarantineBucket, "quarantine-q", EnvS3MaxObjectBytes, "10"), EnvS3MaxObjectBytes, nil},
		{SinkFirehose, env(EnvFirehoseStream, "f", EnvQuarantineBucket, "quarantine-q"), "", func(c *Config) bool { return c.Firehose.Packing == PackingPack }},
		{SinkFirehose, env(EnvFirehoseStream, "f", EnvQuarantineBucket, "quarantine-q", EnvFirehosePacking, "zip"), EnvFirehosePacking, nil},
		{SinkLogs, env(EnvLogsRegion, "eu-west-1", EnvQuarantineBucket, "quarantine-q", EnvLogsRetentionDays, "365"), "", func(c *Config) bool {
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

// TestLoadRefusesWhatWouldFailEveryBatch: values that pass a cold start
// today and then fail every request (a region typo, a 1 ns timeout, a group
// template without a literal prefix, prefixes that climb or hold spaces)
// are refused by Load, naming the variable and the fix.
func TestLoadRefusesWhatWouldFailEveryBatch(t *testing.T) {
	base := []string{EnvQuarantineBucket, "quarantine-q", EnvS3Bucket, "data-b", EnvFirehoseStream, "fh", EnvLogsRegion, "eu-west-1"}
	for _, tt := range []struct {
		sink string
		kv   []string
		want string
	}{
		{SinkLogs, []string{EnvLogsRegion, "eu-wset-1"}, EnvLogsRegion + `="eu-wset-1"`},
		{SinkLogs, []string{EnvLogsRegion, "eu-wset-1"}, "did you mean eu-west-1?"},
		{SinkLogs, []string{EnvLogsRegion, "not a region"}, `region "not a region" is not an AWS region`},
		{SinkS3, []string{EnvAttemptTimeout, "1ns"}, EnvAttemptTimeout + `="1ns": want a Go duration of at least 1s`},
		{SinkS3, []string{EnvDeliveryTimeout, "1ns"}, EnvDeliveryTimeout + `="1ns": want a Go duration of at least 1s`},
		{SinkS3, []string{EnvLedgerTTL, "1m"}, EnvLedgerTTL + `="1m": want a Go duration of at least 24h0m0s`},
		{SinkLogs, []string{EnvLogsGroupTemplate, "{owner}/{logGroup}"}, "want a literal log group prefix"},
		{SinkLogs, []string{EnvLogsGroupTemplate, "aws/{owner}"}, "reserved for AWS"},
		{SinkLogs, []string{EnvLogsGroupTemplate, "/my logs/{owner}"}, `"/my logs/" holds characters a log group name cannot`},
		{SinkLogs, []string{EnvLogsStreamTemplate, "{logStream}:x"}, `":x" holds characters a log stream name cannot`},
		{SinkS3, []string{EnvS3Prefix, "../.."}, EnvS3Prefix + `="../..": prefix "../..": a segment ".." is not a folder name`},
		{SinkS3, []string{EnvS3Prefix, "my logs"}, EnvS3Prefix + `="my logs"`},
		{SinkFirehose, []string{EnvQuarantinePrefix, "q/../x"}, EnvQuarantinePrefix},
		{SinkFirehose, []string{EnvQuarantinePrefix, "aws/lambda/x"}, "where Lambda writes on-failure records"},
		{SinkS3, []string{EnvS3Bucket, "My Bucket"}, "is not an S3 bucket name"},
		{SinkFirehose, []string{EnvFirehoseStream, "a stream"}, "is not a Firehose stream name"},
		{SinkS3, []string{EnvLedgerTable, "t"}, "is not a DynamoDB table name"},
		{SinkS3, []string{EnvS3KMSKeyID, "my key"}, "is not a KMS key ID"},
		{SinkS3, []string{EnvRoutes, `[{"name":"all","to":[{"sink":"s3","prefix":"a b"}]}]`}, `prefix "a b"`},
		{SinkLogs, []string{EnvRoutes, `[{"name":"all","to":[{"sink":"logs","region":"eu-wset-1"}]}]`}, "did you mean eu-west-1?"},
		{SinkLogs, []string{EnvRoutes, `[{"name":"all","to":[{"sink":"logs","groupTemplate":"{owner}"}]}]`}, "want a literal log group prefix"},
	} {
		_, err := Load(tt.sink, env(append(append([]string{}, base...), tt.kv...)...))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s, %v): err = %v, want it to say %s", tt.sink, tt.kv, err, tt.want)
		}
	}
	// The settings at their minimums, and valid alternatives, still load.
	ok := append(append([]string{}, base...), EnvAttemptTimeout, "1s", EnvDeliveryTimeout, "1s", EnvLedgerTTL, "24h",
		EnvLedgerTable, "ledger", EnvS3KMSKeyID, "alias/logfan", EnvQuarantineKMSKeyID, "arn:aws:kms:eu-west-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef",
		EnvLogsGroupTemplate, "/security/{owner}/{logGroup}", EnvLogsStreamTemplate, "{owner}-{logStream}")
	for _, sink := range []string{SinkS3, SinkFirehose, SinkLogs} {
		if _, err := Load(sink, env(ok...)); err != nil {
			t.Errorf("Load(%s) with valid settings: %v", sink, err)
		}
	}
}
