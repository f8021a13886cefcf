package recipient

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/cdk/cdkcontext"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/emf"
	"github.com/logfan/logfan/shared/health"
)

// Sender health: the table the consumers record heartbeats and per-log-group
// counts in, and the watchdog that reads it every WatchdogMinutes and
// publishes SilentSenders, LateSenders, SilentLogGroups and UnexpectedSenders
// (EMF, namespace logfan, no dimensions). The item layout belongs to the
// runtime (shared/health); the stack only knows the key schema.
const (
	// HealthPartitionKey, HealthSortKey and HealthTTLAttribute are the
	// health table's key schema and TTL attribute (epoch seconds).
	HealthPartitionKey = "pk"
	HealthSortKey      = "sk"
	HealthTTLAttribute = "expires"
	// WatchdogFunctionDir is the watchdog's folder under functions/ and AssetDir.
	WatchdogFunctionDir = "watchdog"
	// WatchdogLogicalID is the watchdog function's logical ID.
	WatchdogLogicalID = "WatchdogFunction"
	// WatchdogMinutes is how often the watchdog runs.
	WatchdogMinutes = 5
	// watchdogMemoryMB is plenty for reading the table; the watchdog is no hot path.
	watchdogMemoryMB = 256
	// watchdogTimeoutSeconds bounds one run, well inside WatchdogMinutes.
	watchdogTimeoutSeconds = 120
	// maxHeartbeatMinutes is the sender stack's bound (sender.MaxHeartbeatMinutes).
	maxHeartbeatMinutes = 60
	// expectedAccountsLayerFile is where a sharded stack's watchdog finds
	// the accounts of shards 1 and up (under /opt, from a layer).
	expectedAccountsLayerFile = "logfan/expected-accounts"
)

// Watchdog metrics (emitted by functions/watchdog through shared/health,
// counts without dimensions).
const (
	MetricSilentSenders     = emf.MetricSilentSenders
	MetricLateSenders       = emf.MetricLateSenders
	MetricSilentLogGroups   = emf.MetricSilentLogGroups
	MetricUnexpectedSenders = emf.MetricUnexpectedSenders
	MetricNeverSeenSenders  = emf.MetricNeverSeenSenders
)

// parseHealthSettings reads the sender-health keys into s.Health.
func parseHealthSettings(p *cdkcontext.Parser, s *Settings) {
	h := &s.Health
	h.HeartbeatLogGroups = p.List(CtxHeartbeatLogGroup)
	if len(h.HeartbeatLogGroups) == 0 {
		h.HeartbeatLogGroups = []string{config.DefaultHeartbeatLogGroup}
	}
	for _, g := range h.HeartbeatLogGroups {
		if !reLogGroup.MatchString(g) {
			p.Fail(CtxHeartbeatLogGroup, g, "log group names (1-512 of . - _ / # letters digits), comma-separated")
		}
	}
	// 0 turns a sender stack's heartbeat off; the recipient needs the
	// interval the senders use, so it must be one.
	h.HeartbeatMinutes = p.Int(CtxHeartbeatMinutes, config.DefaultHeartbeatMinutes, 1, maxHeartbeatMinutes)
	h.SilentAfterMinutes = p.Int(CtxSilentAfterMinutes, config.DefaultSilentAfterMinutes, 1, 7*24*60)
	if h.SilentAfterMinutes <= 2*h.HeartbeatMinutes {
		// A sender is late after two missed intervals; silence must come later.
		p.Fail(CtxSilentAfterMinutes, strconv.Itoa(h.SilentAfterMinutes), fmt.Sprintf("more than two heartbeat intervals (%s=%d): a sender is late after two", CtxHeartbeatMinutes, h.HeartbeatMinutes))
	}
	// A sender's item lives health.SenderRetention after its last heartbeat.
	h.ForgetSendersAfterDays = p.Int(CtxForgetSendersAfterDays, config.DefaultForgetSendersAfterDays, 1, int(health.SenderRetention/(24*time.Hour)))
	h.ExpectedSenders = p.List(CtxExpectedSenders)
	for _, a := range h.ExpectedSenders {
		if !reAccount.MatchString(a) {
			p.Fail(CtxExpectedSenders, a, "12-digit AWS account IDs, comma-separated")
		}
	}
	// The watchdog validates its environment at cold start; the same loader
	// here turns a value it would refuse into a synth error (the accounts
	// and the mode are decided at deploy time: both modes are checked).
	for _, mode := range []string{config.SenderModeAccounts, config.SenderModeOrganization} {
		env := s.watchdogEnv(mode, "health-table")
		if _, err := health.LoadSettings(func(k string) string { return env[k] }); err != nil {
			p.Report(fmt.Errorf("watchdog environment: %w", err))
		}
	}
}

// watchdogEnv is the watchdog's environment in mode, with its literal
// values; newWatchdog replaces the expected accounts and the mode with
// deploy-time values.
func (s Settings) watchdogEnv(mode, table string) map[string]string {
	accounts := s.Senders.Accounts
	if mode == config.SenderModeOrganization {
		accounts = s.Health.ExpectedSenders
	}
	return map[string]string{
		config.EnvHealthTable:            table,
		config.EnvExpectedAccounts:       strings.Join(accounts, ","),
		config.EnvExpectedRegions:        strings.Join(s.ExpectedRegions(), ","),
		config.EnvSenderMode:             mode,
		config.EnvHeartbeatMinutes:       strconv.Itoa(s.Health.HeartbeatMinutes),
		config.EnvSilentAfterMinutes:     strconv.Itoa(s.Health.SilentAfterMinutes),
		config.EnvForgetSendersAfterDays: strconv.Itoa(s.Health.ForgetSendersAfterDays),
		config.EnvGoMemLimit:             config.GoMemLimit(watchdogMemoryMB),
	}
}

// HealthWriter is the one consumer that writes the health table: the first
// enabled of s3, firehose, logs. Every function sees every record, so one
// writer sees every heartbeat and every log group.
func (s Settings) HealthWriter() string {
	if sinks := s.EnabledSinks(); len(sinks) > 0 {
		return sinks[0]
	}
	return ""
}

// ExpectedRegions are the regions every expected sender sends from: the
// stack's own and each regional destination's.
func (s Settings) ExpectedRegions() []string {
	return append([]string{s.Region}, s.DestinationRegions...)
}

// newHealthTable creates the sender-health table: on demand (a few writes
// a minute), encrypted with a key the account can audit, TTL on
// HealthTTLAttribute, point-in-time recovery (cdk-nag AwsSolutions-DDB3).
func newHealthTable(r *recipientStack) awsdynamodb.Table {
	return awsdynamodb.NewTable(r.stack, jsii.String("HealthTable"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(HealthPartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:                          &awsdynamodb.Attribute{Name: jsii.String(HealthSortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute:              jsii.String(HealthTTLAttribute),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		// Last-seen times and daily counts: the watchdog and `logfan
		// senders` read them; nothing else depends on them surviving the stack.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
}

// grantHealthWrite gives the health writer's role the two calls the
// recorder makes, on the table only, in a policy of its own (like the
// ledger's, so the role's default policy keeps its size). The function
// depends on it, so that it never runs without it.
func grantHealthWrite(r *recipientStack, id string, role awsiam.IRole, fn constructs.IConstruct) {
	p := awsiam.NewPolicy(r.stack, jsii.String(id+"HealthPolicy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("dynamodb:UpdateItem", "dynamodb:PutItem"),
			Resources: jsii.Strings(*r.health.TableArn()),
		})},
	})
	fn.Node().AddDependency(p)
}

// watchdog is the scheduled function reporting silent senders.
type watchdog struct {
	function awslambda.Function
	rule     awsevents.Rule
}

// newWatchdog builds the watchdog like the consumers (Go on
// provided.al2023/arm64 from build/watchdog/bootstrap, JSON logs, its own
// role and log group), reading the health table only, invoked every
// WatchdogMinutes by an EventBridge schedule.
func newWatchdog(r *recipientStack) *watchdog {
	s := r.s
	id := WatchdogLogicalID
	logGroup := awslogs.NewLogGroup(r.stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     retentionDays(s.Function.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(r.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("logfan sender-health watchdog"),
	})
	logGroup.GrantWrite(role)
	env := map[string]*string{}
	for k, v := range s.watchdogEnv(config.SenderModeAccounts, *r.health.TableName()) {
		env[k] = jsii.String(v)
	}
	env[config.EnvExpectedAccounts] = r.expectedAccounts()
	env[config.EnvSenderMode] = awscdk.Token_AsString(awscdk.Fn_ConditionIf(r.senders.orgMode.LogicalId(), config.SenderModeOrganization, config.SenderModeAccounts), nil)
	var layers *[]awslambda.ILayerVersion
	if s.Senders.Sharded() {
		// Hundreds of accounts do not fit in Lambda's 4 KB of environment:
		// the other shards' accounts come in a file. Expected in either
		// mode: senderShards lists accounts that send.
		env[config.EnvExpectedAccountsFile] = jsii.String("/opt/" + expectedAccountsLayerFile)
		layers = &[]awslambda.ILayerVersion{fileLayer(r.stack, "ExpectedSendersLayer", "logfan-expected-", expectedAccountsLayerFile,
			strings.Join(s.Senders.ShardedAccounts(), ",")+"\n",
			"logfan: the sender accounts of senderShards the watchdog expects ("+config.EnvExpectedAccountsFile+"=/opt/"+expectedAccountsLayerFile+")")}
	}
	fn := awslambda.NewFunction(r.stack, jsii.String(id), &awslambda.FunctionProps{
		Description:           jsii.String(fmt.Sprintf("logfan: every %d minutes, reports senders whose heartbeats stopped (SilentSenders, LateSenders, SilentLogGroups, UnexpectedSenders)", WatchdogMinutes)),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Handler:               jsii.String("bootstrap"),
		Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(s.AssetDir, WatchdogFunctionDir)), nil),
		MemorySize:            jsii.Number(watchdogMemoryMB),
		Timeout:               awscdk.Duration_Seconds(jsii.Number(watchdogTimeoutSeconds)),
		Environment:           &env,
		Role:                  role,
		LogGroup:              logGroup,
		Layers:                layers,
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel(s.Function.LogLevel),
		SystemLogLevelV2:      awslambda.SystemLogLevel_INFO,
	})
	fn.Node().DefaultChild().(awslambda.CfnFunction).OverrideLogicalId(jsii.String(id))
	read := awsiam.NewPolicy(r.stack, jsii.String(id+"HealthPolicy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("dynamodb:Query", "dynamodb:Scan", "dynamodb:GetItem"),
			Resources: jsii.Strings(*r.health.TableArn()),
		})},
	})
	fn.Node().AddDependency(read)

	rule := awsevents.NewRule(r.stack, jsii.String(id+"Schedule"), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("logfan: runs the sender-health watchdog every %d minutes", WatchdogMinutes)),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(WatchdogMinutes))),
	})
	rule.AddTarget(awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
		// The next run is due in WatchdogMinutes; an older one is worth nothing.
		MaxEventAge:   awscdk.Duration_Minutes(jsii.Number(WatchdogMinutes)),
		RetryAttempts: jsii.Number(2),
	}))
	return &watchdog{function: fn, rule: rule}
}

// expectedAccounts is the watchdog's expected accounts, decided at deploy
// time like the access policy: the SenderAccounts parameter in account-list
// mode (so removing an account from it removes it from the expectations),
// the expectedSenders context in organization mode.
func (r *recipientStack) expectedAccounts() *string {
	org := strings.Join(slices.Compact(slices.Sorted(slices.Values(r.s.Health.ExpectedSenders))), ",")
	return awscdk.Token_AsString(awscdk.Fn_ConditionIf(r.senders.orgMode.LogicalId(),
		org,
		// Comma-separated already, without spaces (its AllowedPattern).
		r.senders.accountsParam.ValueAsString(),
	), nil)
}

// newHealthOutputs publishes the health table's name and the exact
// `logfan senders` command that reads it with this stack's expectations.
func newHealthOutputs(r *recipientStack) {
	s := r.s
	awscdk.NewCfnOutput(r.stack, jsii.String("HealthTableName"), &awscdk.CfnOutputProps{
		Description: jsii.String("The sender-health table (last heartbeat per sender and region, events and bytes per log group and day)"),
		Value:       r.health.TableName(),
	})
	mode := awscdk.Token_AsString(awscdk.Fn_ConditionIf(r.senders.orgMode.LogicalId(), config.SenderModeOrganization, config.SenderModeAccounts), nil)
	awscdk.NewCfnOutput(r.stack, jsii.String("SendersCommand"), &awscdk.CfnOutputProps{
		Description: jsii.String("Lists every expected or seen sender with its state, as the watchdog sees it (logfan installed by make install; with the recipient account's credentials)"),
		Value: awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("logfan senders -region=" + s.Region + " -table="), r.health.TableName(),
			jsii.String(" -mode="), mode,
			// Values are account IDs and region names: nothing a shell would split.
			jsii.String(" -accounts="), r.expectedAccounts(),
			jsii.String(fmt.Sprintf(" -regions=%s -heartbeat-minutes=%d -silent-after-minutes=%d -forget-after-days=%d",
				strings.Join(s.ExpectedRegions(), ","), s.Health.HeartbeatMinutes, s.Health.SilentAfterMinutes, s.Health.ForgetSendersAfterDays)),
			jsii.String(s.shardedAccountsFileArg()),
		}),
	})
}

// shardedAccountsFileArg is, with sender shards, the -accounts-file
// argument reading the shards' accounts from the stack's outputs (bash
// process substitution): a thousand accounts would make the command too
// long to print, and the outputs are where the watchdog's list comes from.
func (s Settings) shardedAccountsFileArg() string {
	if !s.Senders.Sharded() {
		return ""
	}
	query := "join(',', Stacks[0].Outputs[?starts_with(OutputKey, 'DestinationShard') && ends_with(OutputKey, 'Senders')].OutputValue)"
	return fmt.Sprintf(` -accounts-file=<(aws cloudformation describe-stacks --region %s --stack-name %s --query "%s" --output text)`, s.Region, s.StackName, query)
}
