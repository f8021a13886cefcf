package recipient

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/logfan/logfan/cdk/cdkcontext"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/subscription"
)

// Context keys read by ParseSettings. cdk.json holds the defaults; any of them
// can be overridden on the command line with `-c key=value`.
const (
	CtxStackName = "stackName"
	CtxAccount   = "account"
	CtxRegion    = "region"
	CtxAssetDir  = "assetDir"

	CtxDestinationName = "destinationName"
	// CtxSenderAccounts lists the accounts of sender shard 0: the default of
	// the SenderAccounts parameter, which the destination that existed
	// before shards admits.
	CtxSenderAccounts = naming.ContextSenderAccounts
	// CtxSenderShards assigns further sender accounts to shards 1, 2, ...,
	// each a destination of its own (see SenderShard).
	CtxSenderShards = naming.ContextSenderShards
	// CtxOrganizationID lists one or more AWS Organizations IDs whose
	// accounts may subscribe to shard 0's destination.
	CtxOrganizationID    = "organizationId"
	CtxOrganizationPaths = "organizationPaths"
	// CtxDestinationRegions lists further regions, comma-separated, each getting
	// a regional destination stack that feeds this stack's stream.
	CtxDestinationRegions = naming.ContextDestinationRegions
	// CtxTrustPolicyMaxChars is the account's IAM "Role trust policy length"
	// quota (2,048 unless AWS raised it, 4,096 at most), which bounds the
	// number of sender accounts in account-list mode.
	CtxTrustPolicyMaxChars = "trustPolicyMaxChars"

	CtxStreamMode           = "streamMode"
	CtxShardCount           = "shardCount"
	CtxStreamRetentionHours = "streamRetentionHours"
	CtxStreamEncryption     = "streamEncryption"
	CtxStreamKMSKeyARN      = "streamKmsKeyArn"

	CtxS3Enabled        = "s3Enabled"
	CtxS3BucketName     = "s3BucketName"
	CtxS3Prefix         = "s3Prefix"
	CtxS3KMSKeyARN      = "s3KmsKeyArn"
	CtxS3TransitionDays = "s3TransitionDays"
	CtxS3ExpirationDays = "s3ExpirationDays"
	CtxS3Format         = "s3Format"
	CtxAthenaEnabled    = "athenaEnabled"
	// CtxS3ObjectLockDays turns S3 Object Lock on for the data bucket the
	// stack creates, with that default retention (0: off).
	CtxS3ObjectLockDays = "s3ObjectLockDays"
	// CtxS3ObjectLockMode is the default retention's mode: GOVERNANCE or COMPLIANCE.
	CtxS3ObjectLockMode = "s3ObjectLockMode"
	// CtxNoncurrentVersionExpirationDays is how long the versioned data and
	// quarantine buckets keep an overwritten or deleted object's old version
	// (0: forever).
	CtxNoncurrentVersionExpirationDays = "noncurrentVersionExpirationDays"

	CtxFirehoseEnabled       = "firehoseEnabled"
	CtxFirehoseStreamARN     = "firehoseStreamArn"
	CtxFirehosePacking       = "firehosePacking"
	CtxFirehosePrefix        = "firehosePrefix"
	CtxFirehoseBufferSeconds = "firehoseBufferSeconds"
	CtxFirehoseBufferMiB     = "firehoseBufferMiB"

	CtxLogsEnabled        = "logsEnabled"
	CtxLogsRegion         = "logsRegion"
	CtxLogsGroupTemplate  = "logsGroupTemplate"
	CtxLogsStreamTemplate = "logsStreamTemplate"
	CtxLogsRetentionDays  = "logsRetentionDays"

	CtxQuarantinePrefix         = "quarantinePrefix"
	CtxQuarantineExpirationDays = "quarantineExpirationDays"
	CtxQuarantineKMSKeyARN      = "quarantineKmsKeyArn"

	CtxLogLevel                 = "logLevel"
	CtxFunctionMemoryMB         = "functionMemoryMB"
	CtxFunctionTimeoutSeconds   = "functionTimeoutSeconds"
	CtxFunctionLogRetentionDays = "functionLogRetentionDays"

	CtxBatchSize           = "batchSize"
	CtxBatchWindowSeconds  = "batchWindowSeconds"
	CtxParallelization     = "parallelizationFactor"
	CtxRetryAttempts       = "retryAttempts"
	CtxMaxRecordAgeSeconds = "maxRecordAgeSeconds"
	CtxStartingPosition    = "startingPosition"
	CtxEnhancedFanOut      = "enhancedFanOut"
	// CtxDedupe turns the consumers' ledger on (default) or off (dedupe=false).
	CtxDedupe = "dedupe"

	CtxIteratorAgeAlarmSecs = "iteratorAgeAlarmSeconds"
	// CtxAlarmTopicARN imports the topic every alarm notifies; empty, the stack creates one.
	CtxAlarmTopicARN = "alarmTopicArn"
	// CtxAlarmEmail subscribes an e-mail address to the alarm topic (optional).
	CtxAlarmEmail = "alarmEmail"
	CtxDisableNag = "disableNag"

	// Sender health (see health.go). CtxHeartbeatLogGroup and
	// CtxHeartbeatMinutes are the sender stack's keys too (sender.CtxHeartbeatLogGroup,
	// sender.CtxHeartbeatMinutes): one cdk.json serves both sides.
	CtxHeartbeatLogGroup      = "heartbeatLogGroup"
	CtxHeartbeatMinutes       = "senderHeartbeatMinutes"
	CtxSilentAfterMinutes     = "silentAfterMinutes"
	CtxForgetSendersAfterDays = "forgetSendersAfterDays"
	// CtxExpectedSenders lists accounts the watchdog expects in organization
	// mode on top of those seen lately (account-list mode expects SenderAccounts).
	CtxExpectedSenders = "expectedSenders"
)

// Defaults that are not shared with the runtime (those come from shared/config).
// Account and region are placeholders so that synth needs no credentials.
const (
	placeholderAccount       = "123456789012"
	placeholderRegion        = "us-east-1"
	defaultAssetDir          = "build"
	maxDestinationNameLength = 512
)

// Stream capacity modes accepted by CtxStreamMode.
const (
	StreamOnDemand    = "on-demand"
	StreamProvisioned = "provisioned"
)

// Object Lock retention modes accepted by CtxS3ObjectLockMode.
const (
	ObjectLockGovernance = "GOVERNANCE"
	ObjectLockCompliance = "COMPLIANCE"
)

// Stream encryption choices accepted by CtxStreamEncryption.
const (
	EncryptionManaged = "managed"
	EncryptionKMS     = "kms"
)

// Settings is the typed, validated configuration of one recipient stack.
type Settings struct {
	StackName string
	Account   string
	Region    string
	// AssetDir holds <sink>/bootstrap for every enabled sink (the Makefile's build/).
	AssetDir string

	DestinationName string
	// Senders are the defaults of the SenderAccounts / SenderOrganizationId
	// CloudFormation parameters; the policy size check at synth uses them.
	Senders Senders
	// DestinationRegions are the regions, other than Region, where a regional
	// destination stack (DestinationStack) receives senders' log events for
	// this stack's stream. Empty: one destination, in Region.
	DestinationRegions []string
	// TrustPolicyMaxChars is the IAM quota the destination role's trust
	// policy is checked against at synth.
	TrustPolicyMaxChars int

	Stream     StreamSettings
	S3         S3Settings
	Firehose   FirehoseSettings
	Logs       LogsSettings
	Quarantine QuarantineSettings
	Function   FunctionSettings
	Consumer   ConsumerSettings
	Alarms     AlarmSettings
	Health     HealthSettings
	// NoncurrentVersionExpirationDays is how long the created data and
	// quarantine buckets (both versioned) keep noncurrent versions; 0 keeps them.
	NoncurrentVersionExpirationDays int
	// Nag applies cdk-nag's AwsSolutions pack at synth (on unless disableNag=true).
	Nag bool
	// Dedupe creates the ledger table, so that a batch retried after a
	// partial failure skips what already landed (on unless dedupe=false).
	Dedupe bool

	// Routes choose the targets of each event (see routes.go); none by default.
	Routes RouteSettings

	// Backfill is the role sender accounts assume to write their history (backfill.go); off by default.
	Backfill BackfillSettings

	// Hub subscribes log groups of the stack's own account to its stream (hub.go); off by default.
	Hub HubSettings

	// Warnings are context values the settings chosen make the stack
	// ignore; the stack shows them as synth warnings.
	Warnings []cdkcontext.Warning
}

// Senders are the accounts or organizations allowed to subscribe. Accounts,
// OrganizationIDs and OrganizationPaths are shard 0's: the defaults of the
// stack's sender parameters, which the destination named DestinationName
// admits. Shards are the further destinations, each admitting the accounts
// listed for it at synth.
type Senders struct {
	Accounts []string
	// OrganizationIDs, when set, admit every account of these organizations
	// (narrowed to OrganizationPaths when those are given) instead of Accounts.
	OrganizationIDs   []string
	OrganizationPaths []string
	// Shards are shards 1, 2, ... in increasing order; empty ones are left out.
	Shards []SenderShard
}

// SenderShard is one destination of a recipient with more senders than one
// destination can admit: its own role, trust policy and access policy, all
// writing into the one stream. A sender's shard is where the senderShards
// context puts it, so adding or removing other senders never moves it, and
// a shard's resources take their names and logical IDs from its number, so
// adding or removing other shards never replaces them.
type SenderShard struct {
	// Number is 1 or more: shard 0 is the Senders' own Accounts.
	Number   int
	Accounts []string
}

// MaxSenderShard is the highest shard number senderShards accepts: every
// shard adds five resources and two outputs to each stack, within
// CloudFormation's 500 resources and 200 outputs per template.
const MaxSenderShard = 60

// Named reports whether any sender is configured. Without one the stack
// still synthesizes, but its SendersNamed rule rejects a deployment that does
// not pass the SenderAccounts or SenderOrganizationId parameter.
func (s Senders) Named() bool { return len(s.Accounts) > 0 || len(s.OrganizationIDs) > 0 }

// OrganizationMode reports whether shard 0 takes the organization form of the policy.
func (s Senders) OrganizationMode() bool { return len(s.OrganizationIDs) > 0 }

// Sharded reports whether there is a destination besides shard 0's.
func (s Senders) Sharded() bool { return len(s.Shards) > 0 }

// ShardedAccounts lists the accounts of shards 1 and up, in shard order.
func (s Senders) ShardedAccounts() []string {
	var out []string
	for _, sh := range s.Shards {
		out = append(out, sh.Accounts...)
	}
	return out
}

// ShardOf returns the shard listing account: 0 for shard 0's accounts (and,
// in organization mode, any other member), -1 when no shard lists it.
func (s Senders) ShardOf(account string) int {
	if slices.Contains(s.Accounts, account) {
		return 0
	}
	for _, sh := range s.Shards {
		if slices.Contains(sh.Accounts, account) {
			return sh.Number
		}
	}
	return -1
}

// StreamSettings configures the Kinesis data stream.
type StreamSettings struct {
	Mode           string
	ShardCount     int
	RetentionHours int
	Encryption     string
	// KMSKeyARN imports an existing key; empty with EncryptionKMS creates one.
	KMSKeyARN string
}

// S3Settings configures the S3 sink and the data bucket.
type S3Settings struct {
	Enabled bool
	// BucketName imports an existing bucket; empty creates one.
	BucketName     string
	Prefix         string
	KMSKeyARN      string
	TransitionDays int
	ExpirationDays int
	// Format is s3layout.FormatNDJSON or s3layout.FormatParquet; the Glue table follows it.
	Format string
	// ObjectLockDays, when positive, enables Object Lock on a created data
	// bucket with a default retention of that many days in ObjectLockMode.
	ObjectLockDays int
	ObjectLockMode string
	// Athena creates the Glue database and table over the S3 sink's objects
	// and an Athena workgroup (only with the S3 sink).
	Athena bool
}

// FirehoseSettings configures the Firehose sink.
type FirehoseSettings struct {
	Enabled bool
	// StreamARN imports an existing Firehose stream; empty creates one delivering to the data bucket.
	StreamARN     string
	Packing       string
	Prefix        string
	BufferSeconds int
	BufferMiB     int
}

// StreamName is the name part of an imported Firehose stream's ARN.
func (f FirehoseSettings) StreamName() string {
	_, name, _ := strings.Cut(f.StreamARN, ":deliverystream/")
	return name
}

// LogsSettings configures the cross-region CloudWatch Logs sink.
type LogsSettings struct {
	Enabled        bool
	Region         string
	GroupTemplate  string
	StreamTemplate string
	RetentionDays  int
}

// GroupPrefix is the literal start of GroupTemplate, which scopes the IAM grant.
func (l LogsSettings) GroupPrefix() string {
	prefix, _, _ := strings.Cut(l.GroupTemplate, "{")
	return prefix
}

// QuarantineSettings configures the bucket holding quarantined items and on-failure records.
type QuarantineSettings struct {
	Prefix         string
	ExpirationDays int
	// KMSKeyARN, if set, is the key every function writes quarantine entries
	// with (SSE-KMS); otherwise the bucket's default encryption applies.
	KMSKeyARN string
}

// FunctionSettings applies to every consumer function.
type FunctionSettings struct {
	MemoryMB         int
	TimeoutSeconds   int
	LogLevel         string
	LogRetentionDays int
}

// ConsumerSettings configures each function's event source mapping.
type ConsumerSettings struct {
	BatchSize             int
	BatchWindowSeconds    int
	ParallelizationFactor int
	RetryAttempts         int
	MaxRecordAgeSeconds   int
	StartingPosition      string
	EnhancedFanOut        bool
}

// AlarmSettings configures alarm thresholds and notification.
type AlarmSettings struct {
	IteratorAgeSeconds int
	// TopicARN imports the topic receiving every alarm's alarm and OK
	// notifications; empty, the stack creates one.
	TopicARN string
	// Email, if set, is subscribed to the alarm topic.
	Email string
}

// HealthSettings configures sender health: heartbeat recognition in the
// consumers and the watchdog's expectations.
type HealthSettings struct {
	// HeartbeatLogGroups are the senders' heartbeat log group names.
	HeartbeatLogGroups []string
	// HeartbeatMinutes is the senders' heartbeat interval.
	HeartbeatMinutes int
	// SilentAfterMinutes without a heartbeat make a sender silent.
	SilentAfterMinutes int
	// ForgetSendersAfterDays is how long organization mode expects a sender after its last heartbeat.
	ForgetSendersAfterDays int
	// ExpectedSenders are accounts organization mode expects even unseen.
	ExpectedSenders []string
}

// EnabledSinks lists the enabled sinks in a fixed order.
func (s Settings) EnabledSinks() []string {
	var sinks []string
	for _, c := range []struct {
		name string
		on   bool
	}{{config.SinkS3, s.S3.Enabled}, {config.SinkFirehose, s.Firehose.Enabled}, {config.SinkLogs, s.Logs.Enabled}} {
		if c.on {
			sinks = append(sinks, c.name)
		}
	}
	return sinks
}

// DestinationARN is the ARN of the Logs destination, known at synth because
// account, region and name are literals.
func (s Settings) DestinationARN() string {
	return naming.DestinationARN(s.Region, s.Account, s.DestinationName)
}

// DestinationARNIn is the ARN of the destination in region: the main
// stack's in Region, a regional stack's in one of DestinationRegions.
func (s Settings) DestinationARNIn(region string) string {
	return naming.DestinationARN(region, s.Account, s.DestinationName)
}

// ShardDestinationName is the name of shard's destination (in every region).
func (s Settings) ShardDestinationName(shard int) string {
	return naming.ShardDestination(s.DestinationName, shard)
}

// ShardDestinationARN is the ARN of shard's destination in region.
func (s Settings) ShardDestinationARN(region string, shard int) string {
	return naming.DestinationARN(region, s.Account, s.ShardDestinationName(shard))
}

// partition maps a region to its ARN partition.
func partition(region string) string { return naming.Partition(region) }

var (
	reAccount   = regexp.MustCompile(`^\d{12}$`)
	reOrgID     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	reOrgPath   = regexp.MustCompile(`^o-[a-z0-9]{10,32}/r-[0-9a-z]{4,32}(/ou-[0-9a-z]{4,32}-[0-9a-z]{8,32})*/?\*?$`)
	reStackName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	reDestName  = regexp.MustCompile(`^[^:*"\\]+$`)
	reKMSKey    = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/(mrk-)?[0-9a-f-]{32,36}$`)
	reFirehose  = regexp.MustCompile(`^arn:aws[a-z-]*:firehose:([a-z0-9-]+):(\d{12}):deliverystream/[a-zA-Z0-9_.-]{1,64}$`)
	reTopic     = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
	reEmail     = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	reLogGroup  = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
)

// logRetention lists the retention periods CloudWatch Logs accepts (PutRetentionPolicy).
var logRetention = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// lambdaLogLevels are Lambda's ApplicationLogLevel values.
var lambdaLogLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// ParseSettings reads the stack configuration from CDK context through
// lookup (app.Node().TryGetContext in production) and reports every missing
// or malformed value in one error. Values may be JSON types (from cdk.json)
// or strings (from -c key=value).
func ParseSettings(lookup func(key string) any) (Settings, error) {
	return parseSettings(cdkcontext.NewParser(lookup))
}

// ContextKeys lists every context key ParseSettings reads: with the sender
// stack's, the keys the app knows (cdk/main refuses any other). A key added
// to ParseSettings is known from then on; nothing else to update.
func ContextKeys() []string {
	p := cdkcontext.NewParser(func(string) any { return nil })
	_, _ = parseSettings(p) // the defaults: only the keys read matter
	return p.Keys()
}

// parseSettings reads every key in phases, each a function reading one
// part of the stack; the order of the phases is the order of the errors
// and warnings a synth reports, and some read what an earlier one set
// (the region, the account, the stream's retention).
func parseSettings(p *cdkcontext.Parser) (Settings, error) {
	var s Settings
	parseStackSettings(p, &s)
	parseSenderSettings(p, &s)
	parseDestinationRegions(p, &s)
	s.TrustPolicyMaxChars = p.Int(CtxTrustPolicyMaxChars, DefaultTrustPolicyMaxChars, DefaultTrustPolicyMaxChars, MaxTrustPolicyMaxChars)
	parseStreamSettings(p, &s)
	parseS3Settings(p, &s)
	parseFirehoseSettings(p, &s)
	parseLogsSettings(p, &s)
	parseQuarantineSettings(p, &s)
	parseFunctionSettings(p, &s)
	parseConsumerSettings(p, &s)
	parseAlarmSettings(p, &s)
	parseHealthSettings(p, &s)
	parseBackfillSettings(p, &s)
	s.Nag = !p.Bool(CtxDisableNag, false)
	s.Dedupe = p.Bool(CtxDedupe, true)
	parseRouteSettings(p, &s)
	parseHubSettings(p, &s)
	checkFunctionEnvironments(p, s)
	ignoredSettings(p, s)
	if err := p.Err(); err != nil {
		return Settings{}, fmt.Errorf("logfan stack context: %w", err)
	}
	s.Warnings = p.Warnings()
	return s, nil
}

// parseStackSettings reads the stack's name, account, region, asset
// directory and destination name.
func parseStackSettings(p *cdkcontext.Parser, s *Settings) {
	s.StackName = p.Match(CtxStackName, naming.RecipientStack, reStackName, "a CloudFormation stack name (letters, digits, hyphens)")
	s.Account = p.Match(CtxAccount, placeholderAccount, reAccount, "a 12-digit AWS account ID")
	s.Region = p.String(CtxRegion, placeholderRegion)
	p.Check(CtxRegion, s.Region, config.CheckRegion)
	s.AssetDir = p.String(CtxAssetDir, defaultAssetDir)

	s.DestinationName = p.Match(CtxDestinationName, naming.Destination, reDestName, "a destination name without ':', '*', '\"' or '\\'")
	if len(s.DestinationName) > maxDestinationNameLength {
		p.Fail(CtxDestinationName, s.DestinationName, "at most 512 characters")
	}
}

// parseSenderSettings reads who may send: accounts, organizations and
// their paths, and the shards of further accounts, each account in one
// place only.
func parseSenderSettings(p *cdkcontext.Parser, s *Settings) {
	s.Senders.Accounts = p.List(CtxSenderAccounts)
	seen := map[string]string{}
	for _, a := range s.Senders.Accounts {
		if !reAccount.MatchString(a) {
			p.Fail(CtxSenderAccounts, a, "12-digit AWS account IDs, comma-separated")
		}
		if seen[a] != "" {
			p.Fail(CtxSenderAccounts, a, "each account once")
		}
		seen[a] = CtxSenderAccounts
	}
	s.Senders.OrganizationIDs = p.List(CtxOrganizationID)
	for i, org := range s.Senders.OrganizationIDs {
		switch {
		case !reOrgID.MatchString(org):
			p.Fail(CtxOrganizationID, org, "AWS Organizations IDs such as o-a1b2c3d4e5, comma-separated")
		case slices.Contains(s.Senders.OrganizationIDs[:i], org):
			p.Fail(CtxOrganizationID, org, "each organization once")
		}
	}
	s.Senders.OrganizationPaths = p.List(CtxOrganizationPaths)
	for _, path := range s.Senders.OrganizationPaths {
		org, _, _ := strings.Cut(path, "/")
		switch {
		case !reOrgPath.MatchString(path):
			p.Fail(CtxOrganizationPaths, path, "organization paths such as o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/")
		case !s.Senders.OrganizationMode():
			p.Fail(CtxOrganizationPaths, path, "organizationId to be set as well")
		case !slices.Contains(s.Senders.OrganizationIDs, org):
			p.Fail(CtxOrganizationPaths, path, "a path inside organization "+strings.Join(s.Senders.OrganizationIDs, " or "))
		}
	}
	s.Senders.Shards = parseSenderShards(p, seen)
	if s.Senders.Sharded() && !s.Senders.Named() {
		// Shard 0's destination exists in every stack and needs senders of its own.
		p.Fail(CtxSenderShards, "", "shard 0 first: "+CtxSenderAccounts+" (or "+CtxOrganizationID+") set as well")
	}
	if n := len(s.ShardDestinationName(MaxSenderShard)); s.Senders.Sharded() && n > maxDestinationNameLength {
		p.Fail(CtxDestinationName, s.DestinationName, fmt.Sprintf("at most %d characters with %s (shard N's destination is %s-N)", maxDestinationNameLength-(n-len(s.DestinationName)), CtxSenderShards, s.DestinationName))
	}
}

// parseDestinationRegions reads the further regions that get a
// destination: each once, none the stack's own, all in its partition.
func parseDestinationRegions(p *cdkcontext.Parser, s *Settings) {
	s.DestinationRegions = p.List(CtxDestinationRegions)
	seenRegion := map[string]bool{}
	for _, region := range s.DestinationRegions {
		switch {
		case config.CheckRegion(region) != nil:
			p.Check(CtxDestinationRegions, region, config.CheckRegion)
		case region == s.Region:
			p.Fail(CtxDestinationRegions, region, "regions other than the stack's own ("+s.Region+"), whose destination is in the main stack")
		case seenRegion[region]:
			p.Fail(CtxDestinationRegions, region, "each region once")
		case partition(region) != partition(s.Region):
			// A destination cannot target a stream in another partition.
			p.Fail(CtxDestinationRegions, region, "regions of the stack's partition ("+partition(s.Region)+")")
		}
		seenRegion[region] = true
	}
}

// parseStreamSettings reads the Kinesis stream's capacity, retention and
// encryption.
func parseStreamSettings(p *cdkcontext.Parser, s *Settings) {
	s.Stream.Mode = p.OneOf(CtxStreamMode, StreamOnDemand, StreamOnDemand, StreamProvisioned)
	s.Stream.ShardCount = p.Int(CtxShardCount, 1, 1, 10000)
	s.Stream.RetentionHours = p.Int(CtxStreamRetentionHours, 24, 24, 8760)
	s.Stream.Encryption = p.OneOf(CtxStreamEncryption, EncryptionManaged, EncryptionManaged, EncryptionKMS)
	s.Stream.KMSKeyARN = p.OptionalMatch(CtxStreamKMSKeyARN, reKMSKey, "a KMS key ARN")
	if s.Stream.KMSKeyARN != "" && s.Stream.Encryption != EncryptionKMS {
		p.Fail(CtxStreamKMSKeyARN, s.Stream.KMSKeyARN, streamEncryptionKMSHint)
	}
}

// parseS3Settings reads the S3 sink's bucket, layout, lifecycle, Object
// Lock and Athena table.
func parseS3Settings(p *cdkcontext.Parser, s *Settings) {
	s.S3.Enabled = p.Bool(CtxS3Enabled, true)
	s.S3.BucketName = p.String(CtxS3BucketName, "")
	if s.S3.BucketName != "" {
		p.Check(CtxS3BucketName, s.S3.BucketName, config.CheckBucketName)
	}
	s.S3.Prefix = s3Prefix(p, CtxS3Prefix, config.DefaultS3Prefix)
	s.S3.KMSKeyARN = p.OptionalMatch(CtxS3KMSKeyARN, reKMSKey, "a KMS key ARN")
	s.S3.TransitionDays = p.Int(CtxS3TransitionDays, 30, 0, 36500)
	s.S3.ExpirationDays = p.Int(CtxS3ExpirationDays, 0, 0, 36500)
	s.S3.Format = p.OneOf(CtxS3Format, s3layout.FormatNDJSON, s3layout.FormatNDJSON, s3layout.FormatParquet)
	s.S3.Athena = p.Bool(CtxAthenaEnabled, true) && s.S3.Enabled
	s.S3.ObjectLockDays = p.Int(CtxS3ObjectLockDays, 0, 0, 36500)
	s.S3.ObjectLockMode = strings.ToUpper(p.OneOf(CtxS3ObjectLockMode, ObjectLockGovernance, ObjectLockGovernance, ObjectLockCompliance))
	if s.S3.ObjectLockDays > 0 && s.S3.BucketName != "" {
		p.Fail(CtxS3ObjectLockDays, strconv.Itoa(s.S3.ObjectLockDays), "0 with "+CtxS3BucketName+": the stack sets Object Lock only on a data bucket it creates")
	}
	s.NoncurrentVersionExpirationDays = p.Int(CtxNoncurrentVersionExpirationDays, 30, 0, 36500)
	if s.S3.TransitionDays > 0 && s.S3.TransitionDays < 30 {
		p.Fail(CtxS3TransitionDays, strconv.Itoa(s.S3.TransitionDays), "0 (no transition) or at least 30 (S3 Standard-IA minimum)")
	}
	if s.S3.ExpirationDays > 0 && s.S3.ExpirationDays <= s.S3.TransitionDays {
		p.Fail(CtxS3ExpirationDays, strconv.Itoa(s.S3.ExpirationDays), "0 (keep forever) or more than "+CtxS3TransitionDays)
	}
}

// parseFirehoseSettings reads the Firehose sink's stream, packing and the
// delivery settings of a stream the stack creates.
func parseFirehoseSettings(p *cdkcontext.Parser, s *Settings) {
	s.Firehose.Enabled = p.Bool(CtxFirehoseEnabled, true)
	s.Firehose.StreamARN = p.OptionalMatch(CtxFirehoseStreamARN, reFirehose, "a Firehose stream ARN (arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME)")
	if m := reFirehose.FindStringSubmatch(s.Firehose.StreamARN); m != nil && (m[1] != s.Region || m[2] != s.Account) {
		// The function's config names the stream, not its ARN, so it can only reach its own account and region.
		p.Fail(CtxFirehoseStreamARN, s.Firehose.StreamARN, "a stream in the stack's own account and region ("+s.Account+", "+s.Region+")")
	}
	s.Firehose.Packing = p.String(CtxFirehosePacking, config.PackingPack)
	s.Firehose.Prefix = s3Prefix(p, CtxFirehosePrefix, "firehose")
	s.Firehose.BufferSeconds = p.Int(CtxFirehoseBufferSeconds, 300, 0, 900)
	s.Firehose.BufferMiB = p.Int(CtxFirehoseBufferMiB, 64, 1, 128)
}

// parseLogsSettings reads the CloudWatch Logs sink's region, templates and
// retention.
func parseLogsSettings(p *cdkcontext.Parser, s *Settings) {
	s.Logs.Enabled = p.Bool(CtxLogsEnabled, true)
	s.Logs.Region = p.String(CtxLogsRegion, s.Region)
	p.Check(CtxLogsRegion, s.Logs.Region, config.CheckRegion)
	s.Logs.GroupTemplate = p.String(CtxLogsGroupTemplate, config.DefaultLogsGroupTemplate)
	s.Logs.StreamTemplate = p.String(CtxLogsStreamTemplate, config.DefaultLogsStreamTemplate)
	s.Logs.RetentionDays = p.Int(CtxLogsRetentionDays, config.DefaultLogsRetentionDays, 1, 3653)
	// The IAM grant is scoped to the template's literal prefix.
	p.Check(CtxLogsGroupTemplate, s.Logs.GroupTemplate, config.CheckGroupTemplate)
	p.Check(CtxLogsStreamTemplate, s.Logs.StreamTemplate, config.CheckStreamTemplate)
}

// parseQuarantineSettings reads the quarantine's prefix, expiry and key.
func parseQuarantineSettings(p *cdkcontext.Parser, s *Settings) {
	s.Quarantine.Prefix = strings.Trim(p.String(CtxQuarantinePrefix, config.DefaultQuarantinePrefix), "/")
	p.Check(CtxQuarantinePrefix, s.Quarantine.Prefix, config.CheckQuarantinePrefix)
	s.Quarantine.ExpirationDays = p.Int(CtxQuarantineExpirationDays, 365, 0, 36500)
	s.Quarantine.KMSKeyARN = p.OptionalMatch(CtxQuarantineKMSKeyARN, reKMSKey, "a KMS key ARN")
}

// parseFunctionSettings reads the sink functions' log level, memory,
// timeout and log retention.
func parseFunctionSettings(p *cdkcontext.Parser, s *Settings) {
	s.Function.LogLevel = strings.ToUpper(p.OneOf(CtxLogLevel, "INFO", lambdaLogLevels...))
	// 512 MB by default: the smallest size whose decompression cap is the
	// whole 64 MiB (config.FullCapMemoryMB), so that no batch of records
	// compressing up to 14 times is cut, and whose CPU share keeps up with
	// a full shard of logs compressing 10 times twice over (make cost).
	// 128 MB works (measured with the worst payload) but cuts 6 MB batches.
	s.Function.MemoryMB = p.Int(CtxFunctionMemoryMB, config.FullCapMemoryMB, 128, 10240)
	s.Function.TimeoutSeconds = p.Int(CtxFunctionTimeoutSeconds, 120, int(config.MinFunctionTimeout/time.Second), 900)
	s.Function.LogRetentionDays = p.Int(CtxFunctionLogRetentionDays, 30, 1, 3653)
	if !slices.Contains(logRetention, s.Function.LogRetentionDays) {
		p.Fail(CtxFunctionLogRetentionDays, strconv.Itoa(s.Function.LogRetentionDays), fmt.Sprintf("one of %v", logRetention))
	}
}

// parseConsumerSettings reads the Kinesis event source mapping's batching,
// parallelism, retries and record age.
func parseConsumerSettings(p *cdkcontext.Parser, s *Settings) {
	// Lambda's Kinesis limits: docs/aws-limits.md. Retries and record age must
	// be finite so one poison record cannot block a shard for the whole retention.
	s.Consumer.BatchSize = p.Int(CtxBatchSize, 1000, 1, 10000)
	s.Consumer.BatchWindowSeconds = p.Int(CtxBatchWindowSeconds, 5, 0, 300)
	s.Consumer.ParallelizationFactor = p.Int(CtxParallelization, 1, 1, 10)
	s.Consumer.RetryAttempts = p.Int(CtxRetryAttempts, 10, 0, 10000)
	s.Consumer.MaxRecordAgeSeconds = p.Int(CtxMaxRecordAgeSeconds, 21600, 60, 604800)
	s.Consumer.StartingPosition = p.OneOf(CtxStartingPosition, "TRIM_HORIZON", "TRIM_HORIZON", "LATEST")
	s.Consumer.EnhancedFanOut = p.Bool(CtxEnhancedFanOut, false)
	if max := s.Stream.RetentionHours * 3600; s.Consumer.MaxRecordAgeSeconds > max {
		p.Fail(CtxMaxRecordAgeSeconds, strconv.Itoa(s.Consumer.MaxRecordAgeSeconds), fmt.Sprintf("at most the stream retention (%d s), or records expire before they reach the on-failure destination", max))
	}
}

// parseAlarmSettings reads the alarms' iterator-age threshold and where
// they notify.
func parseAlarmSettings(p *cdkcontext.Parser, s *Settings) {
	s.Alarms.IteratorAgeSeconds = p.Int(CtxIteratorAgeAlarmSecs, 300, 60, 604800)
	s.Alarms.TopicARN = p.OptionalMatch(CtxAlarmTopicARN, reTopic, "an SNS topic ARN")
	s.Alarms.Email = p.OptionalMatch(CtxAlarmEmail, reEmail, "an e-mail address")
}

// checkFunctionEnvironments requires a sink and loads each enabled sink's
// function environment with config.Load, as the function does at cold
// start: a bad template, retention or packing is then a synth error
// instead of a crash loop after deploy.
func checkFunctionEnvironments(p *cdkcontext.Parser, s Settings) {
	if len(s.EnabledSinks()) == 0 {
		p.Report(fmt.Errorf("%s, %s, %s: at least one sink must be enabled", CtxS3Enabled, CtxFirehoseEnabled, CtxLogsEnabled))
	}
	for _, sink := range s.EnabledSinks() {
		env := s.functionEnv(sink, envPlaceholders)
		env[config.EnvLambdaMemory] = strconv.Itoa(s.Function.MemoryMB) // as Lambda sets it
		if _, err := config.Load(sink, func(k string) string { return env[k] }); err != nil {
			p.Report(fmt.Errorf("%s function environment: %w", sink, err))
		}
	}
}

// ignoredSettings warns about keys set away from their defaults that the
// settings chosen make the stack ignore: a value that does nothing is
// likely meant to do something.
func ignoredSettings(p *cdkcontext.Parser, s Settings) {
	if s.Stream.Mode == StreamOnDemand {
		p.Ignored(CtxShardCount, "1", "streamMode is on-demand, which scales the stream by itself (shardCount applies with -c streamMode=provisioned)")
	}
	off := func(sink string, keys map[string]string) {
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			p.Ignored(k, keys[k], fmt.Sprintf("the %s sink is off (%sEnabled=false)", sink, sink))
		}
	}
	if !s.S3.Enabled {
		off(config.SinkS3, map[string]string{CtxS3Prefix: config.DefaultS3Prefix, CtxS3Format: s3layout.FormatNDJSON, CtxS3KMSKeyARN: ""})
	}
	if !s.Firehose.Enabled {
		off(config.SinkFirehose, map[string]string{CtxFirehoseStreamARN: "", CtxFirehosePacking: config.PackingPack, CtxFirehosePrefix: "firehose",
			CtxFirehoseBufferSeconds: "300", CtxFirehoseBufferMiB: "64", CtxFirehoseStreams: ""})
	} else if s.Firehose.StreamARN != "" {
		for _, k := range []struct{ key, def string }{{CtxFirehosePrefix, "firehose"}, {CtxFirehoseBufferSeconds, "300"}, {CtxFirehoseBufferMiB, "64"}} {
			p.Ignored(k.key, k.def, CtxFirehoseStreamARN+" imports a stream the stack does not create, so its delivery settings are that stream's own")
		}
	}
	if !s.Logs.Enabled {
		off(config.SinkLogs, map[string]string{CtxLogsRegion: "", CtxLogsGroupTemplate: config.DefaultLogsGroupTemplate, CtxLogsStreamTemplate: config.DefaultLogsStreamTemplate,
			CtxLogsRetentionDays: strconv.Itoa(config.DefaultLogsRetentionDays), CtxLogsRegions: ""})
	}
}

const streamEncryptionKMSHint = "streamEncryption=kms as well"

// envRefs names the deploy-time values a function's environment refers to.
type envRefs struct {
	DataBucket, QuarantineBucket, FirehoseStream, LedgerTable, HealthTable string
}

// envPlaceholders stand in for resource names when validating settings before any construct exists.
var envPlaceholders = envRefs{DataBucket: "data-bucket", QuarantineBucket: "quarantine-bucket", FirehoseStream: "firehose-stream", LedgerTable: "ledger-table", HealthTable: "health-table"}

// functionEnv builds the environment of sink's function from the shared
// config constants, so the stack and the runtime cannot drift apart.
func (s Settings) functionEnv(sink string, refs envRefs) map[string]string {
	env := map[string]string{
		config.EnvQuarantineBucket: refs.QuarantineBucket,
		// Each function writes under a prefix of its own (see grantQuarantine).
		config.EnvQuarantinePrefix: config.SinkQuarantinePrefix(s.Quarantine.Prefix, sink),
		config.EnvGoMemLimit:       config.GoMemLimit(s.Function.MemoryMB),
	}
	if c := config.MaxDecompressedFor(s.Function.MemoryMB); c != subscription.DefaultMaxDecompressed {
		// Below 512 MB the cap follows the memory (the function derives
		// the same from Lambda's AWS_LAMBDA_FUNCTION_MEMORY_SIZE; set here
		// too, it shows in the console). Unset at the default, so existing
		// deployments see no change to their function.
		env[config.EnvMaxDecompressedBytes] = strconv.FormatInt(c, 10)
	}
	if s.Quarantine.KMSKeyARN != "" {
		env[config.EnvQuarantineKMSKeyID] = s.Quarantine.KMSKeyARN
	}
	if s.Routes.Text != "" {
		// Every function gets the whole table: its per-route counts cover
		// the events routed to other sinks too.
		env[config.EnvRoutes] = s.Routes.Text
	}
	// Every function recognises heartbeats and skips them; one writes
	// them (and the per-log-group counts) to the health table, so that each
	// key has one writer, not one per sink.
	env[config.EnvHeartbeatLogGroup] = strings.Join(s.Health.HeartbeatLogGroups, ",")
	if sink == s.HealthWriter() {
		env[config.EnvHealthTable] = refs.HealthTable
	}
	if s.Hub.Enabled() {
		// The stack's own payloads may name their events' source account
		// (CloudWatch Logs centralization); set only in hub mode, so that
		// other deployments see no change to their functions.
		env[config.EnvHubAccount] = s.Account
	}
	if s.Dedupe {
		env[config.EnvLedgerTable] = refs.LedgerTable
		// Past the stream's retention Lambda cannot re-deliver an entry's records.
		env[config.EnvLedgerTTL] = (time.Duration(s.Stream.RetentionHours) * time.Hour).String()
	}
	switch sink {
	case config.SinkS3:
		env[config.EnvS3Bucket] = refs.DataBucket
		env[config.EnvS3Prefix] = s.S3.Prefix
		if s.S3.Format != s3layout.FormatNDJSON {
			// Set only when it differs from the default, so existing
			// deployments see no change to their function.
			env[config.EnvS3Format] = s.S3.Format
		}
		if s.S3.KMSKeyARN != "" {
			env[config.EnvS3KMSKeyID] = s.S3.KMSKeyARN
		}
	case config.SinkFirehose:
		env[config.EnvFirehoseStream] = refs.FirehoseStream
		env[config.EnvFirehosePacking] = s.Firehose.Packing
	case config.SinkLogs:
		env[config.EnvLogsRegion] = s.Logs.Region
		env[config.EnvLogsGroupTemplate] = s.Logs.GroupTemplate
		env[config.EnvLogsStreamTemplate] = s.Logs.StreamTemplate
		env[config.EnvLogsRetentionDays] = strconv.Itoa(s.Logs.RetentionDays)
	}
	return env
}

// s3Prefix reads an S3 key prefix without leading or trailing slashes.
func s3Prefix(p *cdkcontext.Parser, key, def string) string {
	v := strings.Trim(p.String(key, def), "/")
	p.Check(key, v, config.CheckPrefix)
	return v
}

// FunctionDir is the folder under AssetDir (and functions/) of sink's
// function: s3parquet for the S3 sink writing Parquet, which links a Parquet
// library the NDJSON s3 function does without.
func (s Settings) FunctionDir(sink string) string {
	if sink == config.SinkS3 && s.S3.Format == s3layout.FormatParquet {
		return "s3parquet"
	}
	return sink
}

// CheckAssets reports the functions (enabled sinks' and the watchdog's)
// whose binary is missing from AssetDir, which CDK would otherwise report
// as an opaque asset error.
func (s Settings) CheckAssets() error {
	var missing []string
	dirs := []string{}
	for _, sink := range s.EnabledSinks() {
		dirs = append(dirs, s.FunctionDir(sink))
	}
	for _, dir := range append(dirs, WatchdogFunctionDir) {
		path := filepath.Join(s.AssetDir, dir, "bootstrap")
		if _, err := os.Stat(path); err != nil {
			missing = append(missing, path)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("function code not found: %s (run `make build` first, or point -c %s=DIR at a directory holding <function>/bootstrap)", strings.Join(missing, ", "), CtxAssetDir)
	}
	return nil
}
