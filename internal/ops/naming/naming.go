// Package naming holds the names that logfan's stacks (cdk/) and its operator
// commands (internal/cmd: onboard, demo, redrive) must agree on, so that a
// command prints or looks up exactly what a deployment created.
//
// Changing a value here renames deployed resources or logical IDs: existing
// deployments would see replacements (cdk/recipient's golden test fails).
package naming

import (
	"fmt"
	"strings"

	"github.com/logfan/logfan/shared/config"
)

// Stack names (defaults of the contexts stackName and senderStackName).
const (
	// RecipientStack is the recipient stack: stream, destination, consumers.
	RecipientStack = "LogfanRecipient"
	// SenderStack is the stack a sender account deploys to subscribe its log groups.
	SenderStack = "LogfanSender"
	// destinationStackPrefix starts the name of each regional destination stack.
	destinationStackPrefix = "LogfanDestination-"
)

// DestinationStack names the stack holding the destination in region, one
// per region of the recipient's destinationRegions context.
func DestinationStack(region string) string { return destinationStackPrefix + region }

// Names in the CloudWatch Logs API.
const (
	// Destination is the destination's name (default of the context
	// destinationName): the same in the home region and every regional stack.
	Destination = "logfan-destination"
	// SubscriptionFilter names the senders' subscription filters.
	SubscriptionFilter = "logfan"
	// SubscriptionPolicy names a sender's account-level subscription policy.
	SubscriptionPolicy = "logfan-subscription"
)

// Parameters of the recipient and regional destination stacks: onboarding a
// sender changes their values, never a logical ID.
const (
	ParamSenderAccounts          = "SenderAccounts"
	ParamSenderOrganizationID    = "SenderOrganizationId"
	ParamSenderOrganizationPaths = "SenderOrganizationPaths"
)

// OnFailureKeyPrefix is where Lambda writes an event source mapping's
// on-failure records in an S3 destination:
// aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>
// (AWS Lambda Developer Guide, kinesis-on-failure-destination).
const OnFailureKeyPrefix = "aws/lambda/"

// RedriveDonePrefix is where `logfan redrive` marks, in the quarantine
// bucket, the sources it redrove: RedriveDonePrefix/<sink>/<source key>
// (`logfan quarantine list` and `logfan doctor` read the marks).
const RedriveDonePrefix = "redrive/done"

// Context keys of the recipient app that operator commands print.
const (
	// ContextSenderAccounts holds the SenderAccounts parameter's default.
	ContextSenderAccounts = "senderAccounts"
	// ContextDestinationRegions lists the regions that get a regional destination stack.
	ContextDestinationRegions = "destinationRegions"
	// ContextSenderShards assigns sender accounts to the destinations of
	// shards 1, 2, ... (shard 0 is ContextSenderAccounts).
	ContextSenderShards = "senderShards"
)

// Outputs of the recipient stack (and, for the destination's, of each
// regional destination stack) that the operator commands read through
// internal/ops/deployment: renaming one breaks `logfan doctor`, `redrive`,
// `senders` and `quarantine` on deployed stacks.
const (
	OutputStreamName         = "StreamName"
	OutputStreamARN          = "StreamArn"
	OutputBackfillRoleARN    = "BackfillRoleArn"
	OutputDestinationARN     = "DestinationArn"
	OutputDestinationRoleARN = "DestinationRoleArn"
	OutputDestinationRegions = "DestinationRegions"
	OutputQuarantineBucket   = "QuarantineBucketName"
	OutputQuarantinePrefix   = "QuarantinePrefix"
	OutputDataBucket         = "DataBucketName"
	OutputFirehoseStream     = "FirehoseStreamName"
	OutputLedgerTable        = "LedgerTableName"
	OutputHealthTable        = "HealthTableName"
	OutputAlarmTopic         = "AlarmTopicArn"
	OutputWatchdogFunction   = "WatchdogFunctionName"
)

// OutputShardSenders names the output listing sender shard shard's
// accounts (shard 0's: "DestinationSenders", set only when there are
// shards; organization mode shows "organizations o-...").
func OutputShardSenders(shard int) string {
	if shard == 0 {
		return "DestinationSenders"
	}
	return fmt.Sprintf("DestinationShard%dSenders", shard)
}

// OutputShardDestinationARN names the output holding sender shard shard's
// destination ARN (shard 0's is OutputDestinationARN).
func OutputShardDestinationARN(shard int) string {
	if shard == 0 {
		return OutputDestinationARN
	}
	return fmt.Sprintf("DestinationShard%dArn", shard)
}

// SDKHandlerLogs is the logical ID prefix of the log group the stack gives
// its AWS SDK custom resources' handler (the destination policy is applied
// by one); CloudFormation names the group, so readers find it by this ID.
const SDKHandlerLogs = "DestinationPolicyHandlerLogs"

// OutputFunctionName is the output naming sink's consumer function ("S3FunctionName").
func OutputFunctionName(sink string) string { return FunctionLogicalID(sink) + "Name" }

// SinkID is a sink's part of construct and logical IDs ("s3" -> "S3").
func SinkID(sink string) string {
	switch sink {
	case config.SinkS3:
		return "S3"
	case config.SinkFirehose:
		return "Firehose"
	case config.SinkLogs:
		return "Logs"
	}
	return sink
}

// FunctionLogicalID is the logical ID of sink's consumer function in the
// recipient stack ("S3Function"): the name `sam local invoke` takes, and the
// part CloudFormation puts in the function's physical name
// (LogfanRecipient-S3Function-<suffix>), by which redrive finds it.
func FunctionLogicalID(sink string) string { return SinkID(sink) + "Function" }

// Partition is the ARN partition of region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ShardDestination is the name of sender shard shard's destination (see
// the recipient's senderShards context): name itself for shard 0, the
// destination that existed before shards, so that its senders keep it;
// name-N for shard N.
func ShardDestination(name string, shard int) string {
	if shard == 0 {
		return name
	}
	return fmt.Sprintf("%s-%d", name, shard)
}

// DestinationARN is the ARN of the destination called name in account and region.
func DestinationARN(region, account, name string) string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:destination:%s", Partition(region), region, account, name)
}
