package recipient

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/logfan/logfan/cdk/cdkcontext"
	"github.com/logfan/logfan/shared/config"
)

func lookup(ctx map[string]any) func(string) any { return func(k string) any { return ctx[k] } }

func TestParseSettingsDefaults(t *testing.T) {
	// GIVEN no context at all
	// WHEN it is parsed
	s, err := ParseSettings(lookup(map[string]any{CtxSenderAccounts: "111111111111"}))
	// THEN the documented defaults apply
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"account", s.Account, placeholderAccount},
		{"region", s.Region, placeholderRegion},
		{"asset dir", s.AssetDir, "build"},
		{"destination", s.DestinationName, "logfan-destination"},
		{"stream mode", s.Stream.Mode, StreamOnDemand},
		{"encryption", s.Stream.Encryption, EncryptionManaged},
		{"sinks", s.EnabledSinks(), []string{config.SinkS3, config.SinkFirehose, config.SinkLogs}},
		{"logs region follows stack region", s.Logs.Region, placeholderRegion},
		{"group template", s.Logs.GroupTemplate, config.DefaultLogsGroupTemplate},
		{"group prefix", s.Logs.GroupPrefix(), "/logfan/"},
		{"s3 prefix", s.S3.Prefix, config.DefaultS3Prefix},
		{"quarantine prefix", s.Quarantine.Prefix, config.DefaultQuarantinePrefix},
		{"finite retries", s.Consumer.RetryAttempts, 10},
		{"finite record age", s.Consumer.MaxRecordAgeSeconds, 21600},
		{"fan-out off", s.Consumer.EnhancedFanOut, false},
		{"nag on", s.Nag, true},
		{"destination ARN", s.DestinationARN(), "arn:aws:logs:us-east-1:123456789012:destination:logfan-destination"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestCdkJSONContextMatchesGoDefaults(t *testing.T) {
	// GIVEN the context in cdk.json (what `cdk synth` and `make synth` use)
	ctx := cdkJSONContext(t)
	// WHEN it and the Go defaults are parsed
	fromFile, err := ParseSettings(lookup(ctx))
	if err != nil {
		t.Fatalf("cdk.json context: %v", err)
	}
	fromGo, err := ParseSettings(lookup(map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	// THEN they agree, so `go run ./cdk` without the CLI builds the same stack;
	// cdk.json enables all three sinks and names no sender (so that no
	// placeholder account is ever granted access by a default deployment)
	if !reflect.DeepEqual(fromFile, fromGo) {
		t.Errorf("cdk.json context and Go defaults differ:\n file %+v\n go   %+v", fromFile, fromGo)
	}
	if got := fromFile.EnabledSinks(); len(got) != 3 {
		t.Errorf("cdk.json enables %v, want all three sinks", got)
	}
	if fromFile.Senders.Named() {
		t.Errorf("cdk.json names senders %+v", fromFile.Senders)
	}
}

func TestParseSettingsAcceptsStringsAndJSONTypes(t *testing.T) {
	// GIVEN the same settings once as -c strings and once as cdk.json JSON values
	asStrings := map[string]any{CtxSenderAccounts: "111111111111, 222222222222", CtxS3Enabled: "false", CtxBatchSize: "500", CtxEnhancedFanOut: "true"}
	asJSON := map[string]any{CtxSenderAccounts: []any{"111111111111", "222222222222"}, CtxS3Enabled: false, CtxBatchSize: 500.0, CtxEnhancedFanOut: true}
	// WHEN both are parsed
	a, errA := ParseSettings(lookup(asStrings))
	b, errB := ParseSettings(lookup(asJSON))
	// THEN they give the same settings
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("string and JSON context differ:\n%+v\n%+v", a, b)
	}
	if len(a.Senders.Accounts) != 2 || a.S3.Enabled || a.Consumer.BatchSize != 500 || !a.Consumer.EnhancedFanOut {
		t.Errorf("unexpected settings %+v", a)
	}
}

func TestParseSettingsRejects(t *testing.T) {
	base := map[string]any{CtxSenderAccounts: "111111111111"}
	cases := []struct {
		name    string
		ctx     map[string]any
		wantKey string
		wantMsg string
	}{
		{"short account", map[string]any{CtxAccount: "12345"}, CtxAccount, "12-digit"},
		{"account ARN as sender", map[string]any{CtxSenderAccounts: "arn:aws:iam::111111111111:root"}, CtxSenderAccounts, "12-digit"},
		{"duplicate sender", map[string]any{CtxSenderAccounts: "111111111111,111111111111"}, CtxSenderAccounts, "each account once"},
		{"bad org ID", map[string]any{CtxOrganizationID: "org-123"}, CtxOrganizationID, "o-a1b2c3d4e5"},
		{"org path without org", map[string]any{CtxOrganizationPaths: testOrgPath}, CtxOrganizationPaths, "organizationId"},
		{"org path of another org", map[string]any{CtxOrganizationID: "o-zzzzzzzzzz", CtxOrganizationPaths: testOrgPath}, CtxOrganizationPaths, "inside organization"},
		{"bad region", map[string]any{CtxRegion: "useast1"}, CtxRegion, "region"},
		{"bad stream mode", map[string]any{CtxStreamMode: "serverless"}, CtxStreamMode, "on-demand"},
		{"zero shards", map[string]any{CtxStreamMode: StreamProvisioned, CtxShardCount: 0.0}, CtxShardCount, "from 1"},
		{"shards not a number", map[string]any{CtxShardCount: "four"}, CtxShardCount, "integer"},
		{"retention below 24h", map[string]any{CtxStreamRetentionHours: 12.0}, CtxStreamRetentionHours, "from 24"},
		{"key without kms", map[string]any{CtxStreamKMSKeyARN: testKeyARN}, CtxStreamKMSKeyARN, "streamEncryption=kms"},
		{"bad key ARN", map[string]any{CtxStreamEncryption: EncryptionKMS, CtxStreamKMSKeyARN: "alias/foo"}, CtxStreamKMSKeyARN, "KMS key ARN"},
		{"no sinks", map[string]any{CtxS3Enabled: false, CtxFirehoseEnabled: false, CtxLogsEnabled: false}, CtxS3Enabled, "at least one sink"},
		{"bad boolean", map[string]any{CtxS3Enabled: "yes please"}, CtxS3Enabled, "true or false"},
		{"bad bucket", map[string]any{CtxS3BucketName: "Not_A_Bucket"}, CtxS3BucketName, "bucket name"},
		{"firehose in another region", map[string]any{CtxFirehoseStreamARN: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/x"}, CtxFirehoseStreamARN, "own account and region"},
		{"bad packing", map[string]any{CtxFirehosePacking: "zip"}, config.EnvFirehosePacking, "pack"},
		{"template without literal prefix", map[string]any{CtxLogsGroupTemplate: "{owner}/{logGroup}"}, CtxLogsGroupTemplate, "literal log group prefix"},
		{"unknown placeholder", map[string]any{CtxLogsGroupTemplate: "/logfan/{ownr}"}, config.EnvLogsGroupTemplate, "unknown placeholder"},
		{"retention CloudWatch refuses", map[string]any{CtxLogsRetentionDays: 31.0}, config.EnvLogsRetentionDays, "accepts only"},
		{"function log retention", map[string]any{CtxFunctionLogRetentionDays: 10.0}, CtxFunctionLogRetentionDays, "one of"},
		{"quarantine under aws/lambda", map[string]any{CtxQuarantinePrefix: "aws/lambda/q"}, CtxQuarantinePrefix, "where Lambda writes on-failure records"},
		// The functions' own checks (shared/config), applied at synth.
		{"region typo", map[string]any{CtxRegion: "eu-wset-1"}, CtxRegion, "did you mean eu-west-1?"},
		{"logs region typo", map[string]any{CtxLogsRegion: "eu-wset-1"}, CtxLogsRegion, "did you mean eu-west-1?"},
		{"not a region", map[string]any{CtxDestinationRegions: "not a region"}, CtxDestinationRegions, `region "not a region" is not an AWS region`},
		{"prefix that climbs", map[string]any{CtxS3Prefix: "../.."}, CtxS3Prefix, `a segment ".." is not a folder name`},
		{"prefix with spaces", map[string]any{CtxFirehosePrefix: "fire hose"}, CtxFirehosePrefix, "segments of letters, digits"},
		{"quarantine prefix that climbs", map[string]any{CtxQuarantinePrefix: "q/.."}, CtxQuarantinePrefix, `a segment ".."`},
		{"template with spaces", map[string]any{CtxLogsGroupTemplate: "/my logs/{owner}"}, CtxLogsGroupTemplate, "cannot be in a log group name"},
		{"stream template with a colon", map[string]any{CtxLogsStreamTemplate: "a:{logStream}"}, CtxLogsStreamTemplate, "cannot be in a log stream name"},
		{"infinite retries", map[string]any{CtxRetryAttempts: -1.0}, CtxRetryAttempts, "from 0"},
		{"infinite record age", map[string]any{CtxMaxRecordAgeSeconds: -1.0}, CtxMaxRecordAgeSeconds, "from 60"},
		{"record age beyond retention", map[string]any{CtxMaxRecordAgeSeconds: 200000.0}, CtxMaxRecordAgeSeconds, "stream retention"},
		{"batch too large", map[string]any{CtxBatchSize: 10001.0}, CtxBatchSize, "10000"},
		{"window too long", map[string]any{CtxBatchWindowSeconds: 301.0}, CtxBatchWindowSeconds, "300"},
		{"parallelization", map[string]any{CtxParallelization: 11.0}, CtxParallelization, "10"},
		{"log level", map[string]any{CtxLogLevel: "verbose"}, CtxLogLevel, "INFO"},
		{"topic", map[string]any{CtxAlarmTopicARN: "ops-alerts"}, CtxAlarmTopicARN, "SNS topic ARN"},
		{"destination name", map[string]any{CtxDestinationName: "a:b"}, CtxDestinationName, "without ':'"},
		{"transition before 30 days", map[string]any{CtxS3TransitionDays: 10.0}, CtxS3TransitionDays, "at least 30"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN a context with one bad value
			ctx := map[string]any{}
			for k, v := range base {
				ctx[k] = v
			}
			for k, v := range c.ctx {
				ctx[k] = v
			}
			// WHEN it is parsed
			_, err := ParseSettings(lookup(ctx))
			// THEN the error names the key and what is wanted
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.wantKey) || !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("error %q does not mention %q and %q", err, c.wantKey, c.wantMsg)
			}
		})
	}
}

func TestParseSettingsReportsEveryProblem(t *testing.T) {
	// GIVEN three independent mistakes
	ctx := map[string]any{CtxAccount: "1", CtxSenderAccounts: "2", CtxBatchSize: "0"}
	// WHEN parsed
	_, err := ParseSettings(lookup(ctx))
	// THEN one error reports all three
	for _, key := range []string{CtxAccount, CtxSenderAccounts, CtxBatchSize} {
		if err == nil || !strings.Contains(err.Error(), key+"=") {
			t.Errorf("error %v does not report %s", err, key)
		}
	}
}

func TestOrganizationModeWinsOverAccounts(t *testing.T) {
	// GIVEN both a sender list and an organization
	s, err := ParseSettings(lookup(map[string]any{CtxSenderAccounts: "111111111111", CtxOrganizationID: testOrgID}))
	if err != nil {
		t.Fatal(err)
	}
	// THEN the organization form applies
	if !s.Senders.OrganizationMode() {
		t.Error("organization mode not selected")
	}
	if got := AccessPolicyJSON(s.DestinationARN(), s.Senders); !strings.Contains(got, `"aws:PrincipalOrgID":["`+testOrgID+`"]`) || strings.Contains(got, "111111111111") {
		t.Errorf("policy %s", got)
	}
}

func TestCheckAssets(t *testing.T) {
	// GIVEN settings pointing at the placeholder build and at an empty directory
	good, _ := ParseSettings(lookup(map[string]any{CtxSenderAccounts: "111111111111", CtxAssetDir: testAssetDir}))
	bad, _ := ParseSettings(lookup(map[string]any{CtxSenderAccounts: "111111111111", CtxAssetDir: t.TempDir()}))
	// THEN only the empty one fails, naming the missing binaries and make build
	if err := good.CheckAssets(); err != nil {
		t.Errorf("placeholder build: %v", err)
	}
	err := bad.CheckAssets()
	if err == nil || !strings.Contains(err.Error(), "make build") || !strings.Contains(err.Error(), "logs/bootstrap") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestSeveralOrganizations(t *testing.T) {
	// GIVEN two organizations and an OU path in the second
	s, err := ParseSettings(lookup(map[string]any{CtxOrganizationID: testOrgID + "," + testOrgID2, CtxOrganizationPaths: testOrgID2 + "/r-cd34/*"}))
	if err != nil {
		t.Fatal(err)
	}
	// THEN both are senders' organizations, and the access policy admits either
	if !reflect.DeepEqual(s.Senders.OrganizationIDs, []string{testOrgID, testOrgID2}) {
		t.Errorf("organizations %v", s.Senders.OrganizationIDs)
	}
	if got := AccessPolicyJSON(s.DestinationARN(), s.Senders); !strings.Contains(got, `"aws:PrincipalOrgID":["`+testOrgID+`","`+testOrgID2+`"]`) {
		t.Errorf("policy %s", got)
	}
	// AND a path outside both, a malformed ID and a repeated one are refused, each named
	_, err = ParseSettings(lookup(map[string]any{CtxOrganizationID: testOrgID + ",o-bad," + testOrgID, CtxOrganizationPaths: "o-zzzzzzzzzz/r-ab12/*"}))
	for _, want := range []string{`organizationId="o-bad"`, `organizationId="` + testOrgID + `": want each organization once`, `organizationPaths="o-zzzzzzzzzz/r-ab12/*": want a path inside organization`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %s", err, want)
		}
	}
}

func TestSenderShardsContext(t *testing.T) {
	file := filepath.Join(t.TempDir(), "shards.json")
	if err := os.WriteFile(file, []byte(`{"2": ["333333333333"], "1": "222222222222"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []SenderShard{{Number: 1, Accounts: []string{"222222222222"}}, {Number: 2, Accounts: []string{"333333333333"}}}
	for name, v := range map[string]any{
		"cdk.json object":   map[string]any{"2": []any{"333333333333"}, "1": "222222222222", "3": ""},
		"JSON text (-c)":    `{"1": "222222222222", "2": "333333333333"}`,
		"@file (-c)":        "@" + file,
		"numbers in arrays": map[string]any{"1": []any{222222222222.0}, "2": []any{333333333333.0}},
	} {
		t.Run(name, func(t *testing.T) {
			// GIVEN shard 0's accounts and shards 1 and 2 in one of the accepted forms
			s, err := ParseSettings(lookup(map[string]any{CtxSenderAccounts: "111111111111", CtxSenderShards: v}))
			if err != nil {
				t.Fatal(err)
			}
			// THEN the shards are read in number order, empty ones left out
			if !reflect.DeepEqual(s.Senders.Shards, want) {
				t.Errorf("shards %v, want %v", s.Senders.Shards, want)
			}
			// AND every account knows its shard
			for account, shard := range map[string]int{"111111111111": 0, "222222222222": 1, "333333333333": 2, "444444444444": -1} {
				if got := s.Senders.ShardOf(account); got != shard {
					t.Errorf("ShardOf(%s) = %d, want %d", account, got, shard)
				}
			}
		})
	}
	// AND what cannot be served is refused, each problem named
	cases := []struct {
		name string
		ctx  map[string]any
		want string
	}{
		{"shard 0 as a key", map[string]any{CtxSenderAccounts: "111111111111", CtxSenderShards: `{"0": "222222222222"}`}, `senderShards="0": want shard numbers from 1 to 60`},
		{"leading zero", map[string]any{CtxSenderAccounts: "111111111111", CtxSenderShards: `{"01": "222222222222"}`}, `senderShards="01"`},
		{"beyond the last shard", map[string]any{CtxSenderAccounts: "111111111111", CtxSenderShards: `{"61": "222222222222"}`}, `senderShards="61"`},
		{"account in two shards", map[string]any{CtxSenderAccounts: "111111111111", CtxSenderShards: `{"1": "111111111111"}`}, `senderShards["1"]="111111111111": want each account in one shard only (also in senderAccounts)`},
		{"malformed account", map[string]any{CtxSenderAccounts: "111111111111", CtxSenderShards: `{"1": "12345"}`}, `senderShards["1"]="12345": want 12-digit AWS account IDs`},
		{"no shard 0", map[string]any{CtxSenderShards: `{"1": "222222222222"}`}, `want shard 0 first`},
		{"not an object", map[string]any{CtxSenderAccounts: "111111111111", CtxSenderShards: `["222222222222"]`}, `want a JSON object`},
		{"missing file", map[string]any{CtxSenderAccounts: "111111111111", CtxSenderShards: "@/nonexistent/shards.json"}, `want a readable file`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseSettings(lookup(c.ctx)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %s", err, c.want)
			}
		})
	}
}

// TestIgnoredContextIsWarned: a key the chosen mode ignores (shardCount
// with an on-demand stream, a sink's settings with the sink off) is warned
// about; cdk.json's defaults and keys the mode uses are not.
func TestIgnoredContextIsWarned(t *testing.T) {
	for _, c := range []struct {
		name string
		ctx  map[string]any
		want []string // keys warned about
	}{
		{"defaults", map[string]any{CtxShardCount: 1.0}, nil},
		{"shards on demand", map[string]any{CtxShardCount: "2"}, []string{CtxShardCount}},
		{"shards provisioned", map[string]any{CtxShardCount: "2", CtxStreamMode: StreamProvisioned}, nil},
		{"firehose off", map[string]any{CtxFirehoseEnabled: false, CtxFirehosePacking: config.PackingSingle, CtxFirehoseBufferMiB: 64.0}, []string{CtxFirehosePacking}},
		{"imported stream", map[string]any{CtxFirehoseStreamARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/x", CtxFirehoseBufferSeconds: "60"}, []string{CtxFirehoseBufferSeconds}},
		{"logs off", map[string]any{CtxLogsEnabled: false, CtxLogsRegion: "eu-west-1", CtxLogsRetentionDays: 30.0}, []string{CtxLogsRegion}},
		{"s3 off", map[string]any{CtxS3Enabled: false, CtxS3Format: "parquet"}, []string{CtxS3Format}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSettings(lookup(c.ctx))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range s.Warnings {
				got = append(got, w.Key)
				if !strings.Contains(w.Message, w.Key+"=") || !strings.Contains(w.Message, "is ignored: ") {
					t.Errorf("warning %q does not name the key and why", w.Message)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("warned about %v, want %v", got, c.want)
			}
		})
	}
}

// TestContextKeysAreEveryKeyRead: ContextKeys (what cdk/main accepts) is
// drawn from ParseSettings itself, so it holds every key cdk.json sets and
// a key added to ParseSettings is known without another list to update.
func TestContextKeysAreEveryKeyRead(t *testing.T) {
	known := ContextKeys()
	for _, k := range []string{CtxShardCount, CtxRoutes, CtxLogsRegions, CtxFirehoseStreams, CtxSenderAccounts, CtxDestinationRegions, CtxDedupe, CtxDisableNag} {
		if !slices.Contains(known, k) {
			t.Errorf("ContextKeys lacks %s", k)
		}
	}
	for k := range cdkJSONContext(t) {
		if !cdkcontext.IsCDKKey(k) && !slices.Contains(known, k) {
			t.Errorf("cdk.json sets %s, which ParseSettings does not read", k)
		}
	}
}

// TestDecompressionCapInTheEnvironment: below 512 MB the functions'
// environment carries the cap derived from their memory; at the default
// memory it stays unset (deployed functions see no change).
func TestDecompressionCapInTheEnvironment(t *testing.T) {
	for mem, want := range map[float64]string{128: "16777216", 256: "33554432", 512: "", 1024: ""} {
		s, err := ParseSettings(lookup(map[string]any{CtxFunctionMemoryMB: mem}))
		if err != nil {
			t.Fatal(err)
		}
		for _, sink := range s.EnabledSinks() {
			if got := s.functionEnv(sink, envPlaceholders)[config.EnvMaxDecompressedBytes]; got != want {
				t.Errorf("%v MB, %s: %s=%q, want %q", mem, sink, config.EnvMaxDecompressedBytes, got, want)
			}
		}
	}
}
