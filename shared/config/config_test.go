package config

import (
	"github.com/logfan/logfan/shared/routes"
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
		{SinkLogs, []string{EnvLogsGroupTemplate, "/my logs/{owner}"}, `' ' cannot be in a log group name`},
		{SinkLogs, []string{EnvLogsStreamTemplate, "{logStream}:x"}, `':' cannot be in a log stream name`},
		{SinkS3, []string{EnvS3Prefix, "../.."}, EnvS3Prefix + `="../..": prefix "../..": a segment ".." is not a folder name`},
		{SinkS3, []string{EnvS3Prefix, "my logs"}, EnvS3Prefix + `="my logs"`},
		{SinkFirehose, []string{EnvQuarantinePrefix, "q/../x"}, EnvQuarantinePrefix},
		{SinkFirehose, []string{EnvQuarantinePrefix, "aws/lambda/x"}, "where Lambda writes on-failure records"},
		{SinkS3, []string{EnvS3Bucket, "My Bucket"}, "is not an S3 bucket name"},
		{SinkFirehose, []string{EnvFirehoseStream, "a stream"}, "is not a Firehose stream name"},
		{SinkS3, []string{EnvLedgerTable, "t"}, "is not a DynamoDB table name"},
		{SinkS3, []string{EnvHubAccount, "12345"}, EnvHubAccount + `="12345": want a 12-digit AWS account ID`},
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
		EnvLogsGroupTemplate, "/security/{owner}/{logGroup}", EnvLogsStreamTemplate, "{owner}-{logStream}", EnvHubAccount, "999999999999")
	for _, sink := range []string{SinkS3, SinkFirehose, SinkLogs} {
		c, err := Load(sink, env(ok...))
		if err != nil {
			t.Errorf("Load(%s) with valid settings: %v", sink, err)
		} else if c.HubAccount != "999999999999" {
			t.Errorf("Load(%s): HubAccount %q", sink, c.HubAccount)
		}
	}
}

func TestParseRoutesResolvesAgainstDefaults(t *testing.T) {
	logs := routes.Defaults{LogsRegion: "eu-west-1", LogsGroupTemplate: DefaultLogsGroupTemplate, LogsStreamTemplate: DefaultLogsStreamTemplate}
	shared := routes.Defaults{LogsRegion: "eu-west-1", LogsGroupTemplate: "/all/{logGroup}", LogsStreamTemplate: DefaultLogsStreamTemplate}
	for _, c := range []struct {
		name, table string
		d           routes.Defaults
		want        string // empty: accepted
	}{
		{"group template without owner", `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/security/{logGroup}"}]}]`, logs,
			`route 1 ("rest"): target logs:/security/{logGroup}: groupTemplate "/security/{logGroup}" has no {owner}, so every sender writes into the same log groups and one sender's events land in another's: ` +
				`put {owner} in it (e.g. "/logfan/{owner}/{logGroup}"), or set "sharedGroup": true on the target if the senders are meant to share the groups`},
		{"shared on purpose", `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/security/{logGroup}","sharedGroup":true}]}]`, logs, ""},
		{"default template without owner", `[{"name":"a","match":{"owners":["111111111111"]},"to":[{"sink":"logs","region":"us-west-2"}]},{"name":"rest","to":[]}]`, shared,
			`route 1 ("a"): target logs:us-west-2: the default groupTemplate "/all/{logGroup}" has no {owner}`},
		{"default template unknown here", `[{"name":"rest","to":["logs"]}]`, routes.Defaults{S3Prefix: "logs"}, ""},
		{"sharedGroup that shares nothing", `[{"name":"rest","to":[{"sink":"logs","sharedGroup":true}]}]`, logs,
			`sharedGroup is set, but the default groupTemplate "/logfan/{owner}/{logGroup}" has {owner}, so no sender shares a group: remove sharedGroup`},
		{"template placeholder", `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/x/{ownr}/{owner}"}]}]`, logs, `groupTemplate "/x/{ownr}/{owner}": unknown placeholder {ownr}`},
		{"group template character", `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/my logs/{owner}/{logGroup}"}]}]`, logs,
			`groupTemplate "/my logs/{owner}/{logGroup}": ' ' cannot be in a log group name (CloudWatch Logs allows a-z A-Z 0-9 _ - / . #)`},
		{"group template with the stream", `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/x/{owner}/{logStream}"}]}]`, logs,
			`groupTemplate "/x/{owner}/{logStream}": {logStream} cannot name a log group`},
		{"stream template character", `[{"name":"rest","to":[{"sink":"logs","streamTemplate":"{owner}:{logStream}"}]}]`, logs,
			`streamTemplate "{owner}:{logStream}": ':' cannot be in a log stream name`},
		{"every allowed character", `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/a-Z_0.9#/{owner}/{logGroup}","streamTemplate":"[$x] {logStream}"}]}]`, logs, ""},
		{"s3 alias", `[{"name":"rest","to":["s3",{"sink":"s3","prefix":"logs"}]}]`, routes.Defaults{S3Prefix: "logs"}, "both write under S3 prefix logs/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRoutes([]byte(c.table), c.d)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestLoadRefusesRouteTables(t *testing.T) {
	// The S3 function knows its default prefix: "s3" and "s3:logs" are one place.
	alias := `[{"name":"a","match":{"owners":["111111111111"]},"to":[{"sink":"s3","prefix":"logs"},"firehose"]},{"name":"rest","to":["s3"]}]`
	_, err := Load(SinkS3, env(EnvS3Bucket, "data-b", EnvQuarantineBucket, "quarantine-q", EnvRoutes, alias))
	if err == nil || !strings.Contains(err.Error(), `route 2 ("rest"): target s3 would write under S3 prefix logs/, as target s3:logs of route 1 ("a") does`) {
		t.Errorf("s3: %v", err)
	}
	// The Firehose function does not know it, and delivers only its own targets.
	if _, err := Load(SinkFirehose, env(EnvFirehoseStream, "f", EnvQuarantineBucket, "quarantine-q", EnvRoutes, alias)); err != nil {
		t.Errorf("firehose: %v", err)
	}
	// The logs function resolves its targets against its own settings.
	logsAlias := `[{"name":"rest","to":["logs",{"sink":"logs","region":"eu-west-1"}]}]`
	if _, err := Load(SinkLogs, env(EnvLogsRegion, "eu-west-1", EnvQuarantineBucket, "quarantine-q", EnvRoutes, logsAlias)); err == nil || !strings.Contains(err.Error(), "targets logs and logs:eu-west-1 both put into") {
		t.Errorf("logs: %v", err)
	}
	// A table without a catch-all fails the cold start with the line to add.
	_, err = Load(SinkS3, env(EnvS3Bucket, "data-b", EnvQuarantineBucket, "quarantine-q", EnvRoutes, `[{"name":"a","match":{"owners":["111111111111"]},"to":["s3"]}]`))
	if err == nil || !strings.Contains(err.Error(), `add {"name": "rest", "to": []} as the last route`) {
		t.Errorf("no catch-all: %v", err)
	}
}

// TestDecompressionCapFollowsMemory: the cap is an eighth of the
// function's memory up to 64 MiB, derived at cold start from Lambda's
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, and a cap the memory cannot hold is
// refused (at 128 MB the 64 MiB cap ran out of memory).
func TestDecompressionCapFollowsMemory(t *testing.T) {
	for mem, want := range map[int]int64{128: 16 << 20, 256: 32 << 20, 512: 64 << 20, 1024: 64 << 20, 10240: 64 << 20} {
		if got := MaxDecompressedFor(mem); got != want {
			t.Errorf("MaxDecompressedFor(%d) = %d, want %d", mem, got, want)
		}
	}
	base := []string{EnvQuarantineBucket, "quarantine-q", EnvS3Bucket, "data-b"}
	for _, tt := range []struct {
		kv   []string
		want int64
		err  string
	}{
		{nil, 64 << 20, ""}, // no memory known (replay, tests): the default
		{[]string{EnvLambdaMemory, "128"}, 16 << 20, ""},
		{[]string{EnvLambdaMemory, "2048"}, 64 << 20, ""},
		{[]string{EnvLambdaMemory, "128", EnvMaxDecompressedBytes, "8388608"}, 8 << 20, ""},
		{[]string{EnvLambdaMemory, "128", EnvMaxDecompressedBytes, "67108864"}, 0, EnvMaxDecompressedBytes + "=67108864: at most 16777216 for a function of 128 MB"},
		{[]string{EnvMaxDecompressedBytes, "100"}, 0, "want an integer from 1048576"},
	} {
		c, err := Load(SinkS3, env(append(append([]string{}, base...), tt.kv...)...))
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: err = %v, want %q", tt.kv, err, tt.err)
			}
		case err != nil:
			t.Errorf("%v: %v", tt.kv, err)
		case c.MaxDecompressed != tt.want:
			t.Errorf("%v: cap %d, want %d", tt.kv, c.MaxDecompressed, tt.want)
		}
	}
}
