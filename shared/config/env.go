// Package config holds logfan's runtime configuration: the environment
// variable names (shared with the CDK stack so the two cannot drift apart)
// and a typed Config loaded once at cold start.
package config

import "github.com/logfan/logfan/shared/routes"

// Environment variable names. The CDK stack sets these on each function; the
// functions and `logfan replay` read them.
const (
	// EnvS3Bucket is the bucket the S3 sink writes to.
	EnvS3Bucket = "LOGFAN_S3_BUCKET"
	// EnvS3Prefix is the key prefix under which the S3 sink writes (default "logs").
	EnvS3Prefix = "LOGFAN_S3_PREFIX"
	// EnvS3KMSKeyID is an optional KMS key ID or ARN for SSE-KMS on objects the S3 sink writes.
	EnvS3KMSKeyID = "LOGFAN_S3_KMS_KEY_ID"
	// EnvS3MaxObjectBytes bounds the uncompressed NDJSON bytes per S3 object (default 64 MiB).
	EnvS3MaxObjectBytes = "LOGFAN_S3_MAX_OBJECT_BYTES"
	// EnvS3Format is the S3 objects' format: s3layout.FormatNDJSON (gzip NDJSON, default) or s3layout.FormatParquet.
	EnvS3Format = "LOGFAN_S3_FORMAT"

	// EnvFirehoseStream is the Firehose stream name the Firehose sink writes to.
	EnvFirehoseStream = "LOGFAN_FIREHOSE_STREAM"
	// EnvFirehosePacking is "pack" (default: several NDJSON events per record) or "single" (one event per record).
	EnvFirehosePacking = "LOGFAN_FIREHOSE_PACKING"

	// EnvLogsRegion is the region the CloudWatch Logs sink writes to.
	EnvLogsRegion = "LOGFAN_LOGS_REGION"
	// EnvLogsGroupTemplate names target log groups (default "/logfan/{owner}/{logGroup}").
	EnvLogsGroupTemplate = "LOGFAN_LOGS_GROUP_TEMPLATE"
	// EnvLogsStreamTemplate names target log streams (default "{logStream}").
	EnvLogsStreamTemplate = "LOGFAN_LOGS_STREAM_TEMPLATE"
	// EnvLogsRetentionDays is the retention of every target log group, set on first use in each process (default 30).
	EnvLogsRetentionDays = "LOGFAN_LOGS_RETENTION_DAYS"

	// EnvQuarantineBucket is the bucket undeliverable records and events are written to.
	EnvQuarantineBucket = "LOGFAN_QUARANTINE_BUCKET"
	// EnvQuarantinePrefix is the key prefix for quarantined items (default "quarantine").
	EnvQuarantinePrefix = "LOGFAN_QUARANTINE_PREFIX"
	// EnvQuarantineKMSKeyID is an optional KMS key ID or ARN for SSE-KMS on
	// quarantine entries (default: the bucket's own default encryption).
	EnvQuarantineKMSKeyID = "LOGFAN_QUARANTINE_KMS_KEY_ID"

	// EnvRoutes is the route table, as JSON (see package routes); unset means
	// every event goes to the sink's default target.
	EnvRoutes = "LOGFAN_ROUTES"
	// EnvRoutesFile is a path to the route table, for tables too large for
	// Lambda's 4 KB of environment (the stack packages the file with the function).
	EnvRoutesFile = "LOGFAN_ROUTES_FILE"

	// EnvHubAccount is the recipient's own account ID: a payload whose owner
	// it is may name its events' source account (the "@aws.account" system
	// field of a hub's centralized log groups), which then becomes their
	// owner (subscription.Attribute); no other payload's may. Unset, every
	// event keeps its payload's owner. The stack sets its own account.
	EnvHubAccount = "LOGFAN_HUB_ACCOUNT"

	// EnvMaxDecompressedBytes caps a payload's decompressed size (default 64 MiB).
	EnvMaxDecompressedBytes = "LOGFAN_MAX_DECOMPRESSED_BYTES"
	// EnvDeliveryTimeout bounds how long a sink keeps retrying within one invocation,
	// as a Go duration (default: until the consumer's deadline margin, 3 s,
	// and the quarantine reserve before the Lambda deadline).
	EnvDeliveryTimeout = "LOGFAN_DELIVERY_TIMEOUT"
	// EnvAttemptTimeout bounds one call to AWS, as a Go duration (default
	// retry.DefaultAttemptTimeout, 30 s): a hung connection is abandoned and retried.
	EnvAttemptTimeout = "LOGFAN_ATTEMPT_TIMEOUT"

	// EnvLedgerTable is the DynamoDB table of the ledger (package ledger):
	// set, a batch retried after a partial failure skips what already
	// landed; empty (dedupe=false), retries deliver at least once.
	EnvLedgerTable = "LOGFAN_LEDGER_TABLE"
	// EnvLedgerTTL is how long a ledger entry is kept, as a Go duration
	// (default 24h; the stack sets the stream's retention).
	EnvLedgerTTL = "LOGFAN_LEDGER_TTL"

	// EnvHealthTable is the DynamoDB table of sender health (package health).
	// The stack sets it on exactly one consumer function and on the watchdog;
	// a consumer without it still recognises and skips heartbeats but writes nothing.
	EnvHealthTable = "LOGFAN_HEALTH_TABLE"
	// EnvHeartbeatLogGroup names the senders' heartbeat log group(s),
	// comma-separated (default DefaultHeartbeatLogGroup); set on every consumer.
	EnvHeartbeatLogGroup = "LOGFAN_HEARTBEAT_LOG_GROUP"
	// EnvExpectedAccounts lists, comma-separated, the sender accounts the watchdog expects.
	EnvExpectedAccounts = "LOGFAN_EXPECTED_ACCOUNTS"
	// EnvExpectedAccountsFile names a file listing further expected accounts
	// (comma- or newline-separated): a sharded recipient's hundreds of
	// accounts do not fit in Lambda's 4 KB of environment, so the stack
	// packages them in a layer.
	EnvExpectedAccountsFile = "LOGFAN_EXPECTED_ACCOUNTS_FILE"
	// EnvExpectedRegions lists, comma-separated, the regions the watchdog expects each account in.
	EnvExpectedRegions = "LOGFAN_EXPECTED_REGIONS"
	// EnvSenderMode is the stack's sender mode for the watchdog: SenderModeAccounts or SenderModeOrganization.
	EnvSenderMode = "LOGFAN_SENDER_MODE"
	// EnvHeartbeatMinutes is the senders' heartbeat interval in minutes (default 5).
	EnvHeartbeatMinutes = "LOGFAN_HEARTBEAT_MINUTES"
	// EnvSilentAfterMinutes is how long without a heartbeat makes a sender silent (default 15).
	EnvSilentAfterMinutes = "LOGFAN_SILENT_AFTER_MINUTES"
	// EnvForgetSendersAfterDays is, in organization mode, how long a sender
	// stays expected after its last heartbeat (default 7).
	EnvForgetSendersAfterDays = "LOGFAN_FORGET_SENDERS_AFTER_DAYS"
)

// Sender health defaults and modes (see the EnvHealthTable group above).
const (
	// DefaultHeartbeatLogGroup is the sender stack's default heartbeat log group.
	DefaultHeartbeatLogGroup = "/logfan/heartbeat"
	// DefaultHeartbeatMinutes is the senders' default heartbeat interval.
	DefaultHeartbeatMinutes = 5
	// DefaultSilentAfterMinutes is the default silence threshold.
	DefaultSilentAfterMinutes = 15
	// DefaultForgetSendersAfterDays is how long organization mode remembers a sender by default.
	DefaultForgetSendersAfterDays = 7
	// SenderModeAccounts: the expected senders are EnvExpectedAccounts × EnvExpectedRegions.
	SenderModeAccounts = "accounts"
	// SenderModeOrganization: the expected senders are those seen recently plus EnvExpectedAccounts.
	SenderModeOrganization = "organization"
)

// Sink names, shared by the functions, the stack and the CLI.
const (
	SinkS3       = routes.SinkS3
	SinkFirehose = routes.SinkFirehose
	SinkLogs     = routes.SinkLogs
	SinkStdout   = "stdout"
)

// Template placeholders for EnvLogsGroupTemplate and EnvLogsStreamTemplate.
const (
	PlaceholderOwner     = "{owner}"
	PlaceholderLogGroup  = "{logGroup}"
	PlaceholderLogStream = "{logStream}"
)

// EnvGoMemLimit is the Go runtime's soft memory limit. The stack sets it from
// the function's memory size (GoMemLimit) so that the garbage collector works
// harder as the heap nears the function's memory instead of letting GOGC's
// headroom push a 6 MB invocation past it.
const EnvGoMemLimit = "GOMEMLIMIT"
