// Package localenv is logfan's local environment on the emulator: the
// recipient's resources as the stack deploys them (stream, destination role
// and policy, buckets, Firehose stream, ledger and health tables) under fixed
// names, the SDK clients that reach them, and the sender log groups
// subscribed to the stream. The demo runs on it; invoke's, backfill's and
// the commands' tests set it up the same way.
package localenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
)

// Settings the recipient stack also uses; the comments name the cdk.json
// context key each one mirrors, so that the demo runs what gets deployed.
const (
	// Region is where the recipient and the demo's senders live.
	Region = emulator.Region
	// LogsRegion is the logs sink's target region (context logsRegion).
	LogsRegion = "eu-west-1"
	// DestinationName is the CloudWatch Logs destination's name (context destinationName).
	DestinationName = naming.Destination
	// SubscriptionFilterName names the senders' subscription filters.
	SubscriptionFilterName = naming.SubscriptionFilter
	// FirehosePrefix is the Firehose stream's S3 prefix (context firehosePrefix).
	FirehosePrefix = "firehose"
	// BatchSize is the event source mappings' batch size (context batchSize).
	BatchSize = 1000
	// BatchWindow is the event source mappings' batching window (context
	// batchWindowSeconds), which a soak's mappings model.
	BatchWindow = 5 * time.Second
	// RetryAttempts is the mappings' MaximumRetryAttempts (context retryAttempts);
	// like the stack's mappings, the demo's bisect a batch on a function error.
	RetryAttempts = 10
	// FunctionTimeout is the consumer functions' timeout (context functionTimeoutSeconds).
	FunctionTimeout = 120 * time.Second
)

// Names are the physical names of the recipient resources the demo creates.
// The stack lets CloudFormation name its buckets and stream; here they are
// fixed so the demo's output can say where to look.
type Names struct {
	// Stream is the Kinesis data stream (on-demand, as the stack's default streamMode).
	Stream string
	// DestinationRole is the role CloudWatch Logs assumes to write into Stream.
	DestinationRole string
	// DataBucket receives the S3 sink's objects under config.DefaultS3Prefix.
	DataBucket string
	// QuarantineBucket receives quarantined records and events under config.DefaultQuarantinePrefix.
	QuarantineBucket string
	// FirehoseStream is the Firehose stream the Firehose sink writes to.
	FirehoseStream string
	// FirehoseBucket is FirehoseStream's S3 destination (objects under FirehosePrefix).
	FirehoseBucket string
	// OnFailureBucket is the event source mappings' S3 on-failure destination
	// (the stack shares the quarantine bucket: records under aws/lambda/).
	OnFailureBucket string
	// LedgerTable is the DynamoDB table of what landed before a retry point
	// (context dedupe, on by default); empty turns the ledger off.
	LedgerTable string
	// HealthTable is the sender-health table (package health), which one
	// sink's handler writes and the watchdog reads.
	HealthTable string
	// FunctionPrefix prefixes the consumer function names, which end in the
	// stack's logical IDs (LogfanRecipient-S3Function, ...) as CloudFormation names them.
	FunctionPrefix string
	// Stack is the name the run's deployment is registered under (see
	// RegisterDeployment): what `logfan doctor -stack` reads.
	Stack string
	// HubAccount, when set, is the recipient's account as the stack gives
	// it to the functions in hub mode (context hubLogGroups): its payloads'
	// events are owned by the source accounts they name.
	HubAccount string
}

// FunctionName is the demo's name of sink's consumer function.
func (n Names) FunctionName(sink string) string {
	return n.FunctionPrefix + naming.FunctionLogicalID(sink)
}

// DefaultNames are the names `logfan demo` uses.
func DefaultNames() Names {
	return Names{
		Stream:           "logfan-stream",
		DestinationRole:  "logfan-destination-role",
		DataBucket:       "logfan-data",
		QuarantineBucket: "logfan-quarantine",
		FirehoseStream:   "logfan-firehose",
		FirehoseBucket:   "logfan-firehose-data",
		OnFailureBucket:  "logfan-quarantine",
		LedgerTable:      "logfan-ledger",
		HealthTable:      "logfan-health",
		FunctionPrefix:   naming.RecipientStack + "-",
		Stack:            naming.RecipientStack,
	}
}

// WithSuffix returns n with suffix appended to every name (tests share one emulator).
func (n Names) WithSuffix(suffix string) Names {
	for _, p := range []*string{&n.Stream, &n.DestinationRole, &n.DataBucket, &n.QuarantineBucket, &n.FirehoseStream, &n.FirehoseBucket, &n.OnFailureBucket} {
		*p += suffix
	}
	if n.LedgerTable != "" {
		n.LedgerTable += suffix
	}
	if n.HealthTable != "" {
		n.HealthTable += suffix
	}
	if n.Stack != "" {
		// Registered deployments (stack, functions) must not collide either.
		n.Stack += suffix
		n.FunctionPrefix = n.Stack + "-"
	}
	return n
}

// Env is the environment a consumer function of sink gets from the stack.
func (n Names) Env(sink string) map[string]string {
	env := map[string]string{
		config.EnvQuarantineBucket: n.QuarantineBucket,
		config.EnvQuarantinePrefix: config.DefaultQuarantinePrefix,
	}
	if n.LedgerTable != "" {
		env[config.EnvLedgerTable] = n.LedgerTable
	}
	if n.HubAccount != "" {
		env[config.EnvHubAccount] = n.HubAccount
	}
	switch sink {
	case config.SinkS3:
		env[config.EnvS3Bucket] = n.DataBucket
		env[config.EnvS3Prefix] = config.DefaultS3Prefix
	case config.SinkFirehose:
		env[config.EnvFirehoseStream] = n.FirehoseStream
		env[config.EnvFirehosePacking] = config.PackingPack
	case config.SinkLogs:
		env[config.EnvLogsRegion] = LogsRegion
		env[config.EnvLogsGroupTemplate] = config.DefaultLogsGroupTemplate
		env[config.EnvLogsStreamTemplate] = config.DefaultLogsStreamTemplate
	}
	return env
}

// Clients are the SDK clients the local environment is reached through, built once.
type Clients struct {
	Kinesis  *kinesis.Client
	S3       *s3.Client
	DynamoDB *dynamodb.Client
	Firehose *firehose.Client
	IAM      *iam.Client
	// Logs is CloudWatch Logs in Region (the senders); LogsTarget in LogsRegion (the logs sink's output).
	Logs, LogsTarget *cloudwatchlogs.Client
	// Config is the SDK configuration in Region the clients were built from.
	Config aws.Config
}

// NewClients builds the clients from the SDK's default chain (AWS_ENDPOINT_URL included).
func NewClients(ctx context.Context) (*Clients, error) {
	cfg, err := sdkconfig.Load(ctx, Region)
	if err != nil {
		return nil, err
	}
	target, err := sdkconfig.Load(ctx, LogsRegion)
	if err != nil {
		return nil, err
	}
	return &Clients{
		Kinesis: kinesis.NewFromConfig(cfg), S3: awsclient.S3(cfg), Firehose: firehose.NewFromConfig(cfg), DynamoDB: dynamodb.NewFromConfig(cfg),
		IAM: iam.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg), LogsTarget: cloudwatchlogs.NewFromConfig(target), Config: cfg,
	}, nil
}

// Recipient describes the recipient resources once created.
type Recipient struct {
	Names          Names
	StreamARN      string
	RoleARN        string
	DestinationARN string
	Shards         int
}

// alreadyExists reports the errors that mean "created before": the demo may
// run again against an emulator it did not start (-endpoint).
func alreadyExists(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ResourceInUseException", "ResourceAlreadyExistsException", "BucketAlreadyOwnedByYou", "BucketAlreadyExists", "EntityAlreadyExists":
		return true
	}
	return false
}

// SetupRecipient creates what the recipient stack deploys: the stream, the
// role CloudWatch Logs assumes, the destination with its access policy, and
// the sinks' buckets and Firehose stream. On the emulator the senders live
// in the recipient's own account, which the destination policy names.
func SetupRecipient(ctx context.Context, c *Clients, n Names) (*Recipient, error) {
	r := &Recipient{Names: n}
	if err := r.createStream(ctx, c); err != nil {
		return nil, err
	}
	// Every demo sender account, as the stack's SenderAccounts parameter names them.
	senderAccounts := append([]string{AccountOf(r.StreamARN)}, DemoAccounts...)
	if err := r.createDestinationRole(ctx, c, senderAccounts); err != nil {
		return nil, err
	}
	if err := r.createDestination(ctx, c, senderAccounts); err != nil {
		return nil, err
	}
	if err := r.createSinkResources(ctx, c); err != nil {
		return nil, err
	}
	return r, nil
}

// createStream creates the on-demand stream, waits for it to be active
// and encrypts it at rest with the AWS-managed key, as the stack's default
// streamEncryption; an existing stream is reused.
func (r *Recipient) createStream(ctx context.Context, c *Clients) error {
	n := r.Names
	_, err := c.Kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName:        aws.String(n.Stream),
		StreamModeDetails: &kintypes.StreamModeDetails{StreamMode: kintypes.StreamModeOnDemand},
	})
	if err != nil && !alreadyExists(err) {
		return fmt.Errorf("create stream %s: %w", n.Stream, err)
	}
	for deadline := time.Now().Add(time.Minute); ; {
		out, err := c.Kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(n.Stream)})
		if err != nil {
			return fmt.Errorf("describe stream %s: %w", n.Stream, err)
		}
		s := out.StreamDescriptionSummary
		if s.StreamStatus == kintypes.StreamStatusActive {
			r.StreamARN, r.Shards = aws.ToString(s.StreamARN), int(aws.ToInt32(s.OpenShardCount))
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stream %s not active after a minute (%s)", n.Stream, s.StreamStatus)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := c.Kinesis.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
		StreamName: aws.String(n.Stream), EncryptionType: kintypes.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis"),
	}); err != nil {
		return fmt.Errorf("encrypt stream %s: %w", n.Stream, err)
	}
	return nil
}

// createDestinationRole creates (or updates) the role CloudWatch Logs
// assumes to write into the stream, scoped by aws:SourceArn to the sender
// accounts against the confused deputy.
func (r *Recipient) createDestinationRole(ctx context.Context, c *Clients, senderAccounts []string) error {
	n := r.Names
	var sourceARNs []string
	for _, a := range senderAccounts {
		sourceARNs = append(sourceARNs, "arn:aws:logs:"+Region+":"+a+":*")
	}
	trust, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole",
		"Condition": map[string]any{"StringLike": map[string]any{"aws:SourceArn": sourceARNs}},
	}}})
	role, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n.DestinationRole), AssumeRolePolicyDocument: aws.String(string(trust))})
	switch {
	case err == nil:
		r.RoleARN = aws.ToString(role.Role.Arn)
	case alreadyExists(err):
		got, gerr := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(n.DestinationRole)})
		if gerr != nil {
			return fmt.Errorf("get role %s: %w", n.DestinationRole, gerr)
		}
		r.RoleARN = aws.ToString(got.Role.Arn)
		if _, err := c.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(n.DestinationRole), PolicyDocument: aws.String(string(trust))}); err != nil {
			return fmt.Errorf("update the trust of role %s: %w", n.DestinationRole, err)
		}
	default:
		return fmt.Errorf("create role %s: %w", n.DestinationRole, err)
	}
	perms, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": r.StreamARN,
	}}})
	if _, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(n.DestinationRole), PolicyName: aws.String("put-records"), PolicyDocument: aws.String(string(perms))}); err != nil {
		return fmt.Errorf("put role policy: %w", err)
	}
	return nil
}

// createDestination puts the destination in front of the stream, with an
// access policy that lets the sender accounts subscribe to it.
func (r *Recipient) createDestination(ctx context.Context, c *Clients, senderAccounts []string) error {
	dst, err := c.Logs.PutDestination(ctx, &cloudwatchlogs.PutDestinationInput{
		DestinationName: aws.String(DestinationName), TargetArn: aws.String(r.StreamARN), RoleArn: aws.String(r.RoleARN),
	})
	if err != nil {
		return fmt.Errorf("put destination %s: %w", DestinationName, err)
	}
	r.DestinationARN = aws.ToString(dst.Destination.Arn)
	access, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"AWS": senderAccounts}, "Action": "logs:PutSubscriptionFilter", "Resource": r.DestinationARN,
	}}})
	if _, err := c.Logs.PutDestinationPolicy(ctx, &cloudwatchlogs.PutDestinationPolicyInput{DestinationName: aws.String(DestinationName), AccessPolicy: aws.String(string(access))}); err != nil {
		return fmt.Errorf("put destination policy: %w", err)
	}
	return nil
}

// createSinkResources creates the sinks' and the quarantine's buckets, the
// Firehose stream and, when named, the ledger and health tables.
func (r *Recipient) createSinkResources(ctx context.Context, c *Clients) error {
	n := r.Names
	for _, b := range uniq(n.DataBucket, n.QuarantineBucket, n.FirehoseBucket, n.OnFailureBucket) {
		if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil && !alreadyExists(err) {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	if err := CreateFirehoseStream(ctx, c, r.RoleARN, n.FirehoseStream, n.FirehoseBucket, FirehosePrefix); err != nil {
		return err
	}
	if n.LedgerTable != "" {
		if err := CreateLedgerTable(ctx, c.DynamoDB, n.LedgerTable); err != nil {
			return err
		}
	}
	if n.HealthTable != "" {
		if err := CreateHealthTable(ctx, c.DynamoDB, n.HealthTable); err != nil {
			return err
		}
	}
	return nil
}

// CreateFirehoseStream creates a direct-PUT Firehose stream writing to
// bucket under prefix/ (the default stream, or a route's second stream);
// one that exists already is left as it is.
func CreateFirehoseStream(ctx context.Context, c *Clients, roleARN, stream, bucket, prefix string) error {
	_, err := c.Firehose.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(stream),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + bucket),
			RoleARN:   aws.String(roleARN),
			Prefix:    aws.String(prefix + "/"),
		},
	})
	if err != nil && !alreadyExists(err) {
		return fmt.Errorf("create Firehose stream %s: %w", stream, err)
	}
	return nil
}

// SenderGroup is one sender log group the demo writes to.
type SenderGroup struct {
	Name    string
	Kind    string
	Streams []string
}

// SenderGroups are the demo's sender log groups and streams.
func SenderGroups() []SenderGroup {
	return []SenderGroup{
		{Name: "/aws/lambda/orders", Kind: "app", Streams: []string{"2026/01/01/[$LATEST]4f1c0a9e", "2026/01/01/[$LATEST]9b7d2e11", "2026/01/01/[3]c0ffee00"}},
		{Name: "/aws/lambda/payments", Kind: "app", Streams: []string{"2026/01/01/[$LATEST]a1b2c3d4", "2026/01/01/[$LATEST]e5f60718"}},
		{Name: "/demo/cloudtrail", Kind: "cloudtrail", Streams: []string{"111111111111_CloudTrail_us-east-1"}},
		{Name: "/demo/vpc/flow-logs", Kind: "vpcflow", Streams: []string{"eni-0a1b2c3d4e5f60718-all", "eni-0f1e2d3c4b5a69788-all"}},
	}
}

// HeartbeatGroup is the sender stack's heartbeat log group, as the demo's
// emulator account has it.
func HeartbeatGroup() SenderGroup {
	return SenderGroup{Name: config.DefaultHeartbeatLogGroup, Kind: "heartbeat", Streams: []string{"logfan-heartbeat"}}
}

// SetupSenders creates the sender log groups and streams and subscribes
// each group to the stream. A real sender subscribes to the destination
// ARN; moto delivers subscription payloads only to a stream in the same
// account, so here the filter names the stream itself.
func SetupSenders(ctx context.Context, c *Clients, r *Recipient, groups []SenderGroup) error {
	for _, g := range groups {
		if _, err := c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g.Name)}); err != nil && !alreadyExists(err) {
			return fmt.Errorf("create log group %s: %w", g.Name, err)
		}
		for _, s := range g.Streams {
			if _, err := c.Logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(g.Name), LogStreamName: aws.String(s)}); err != nil && !alreadyExists(err) {
				return fmt.Errorf("create log stream %s/%s: %w", g.Name, s, err)
			}
		}
		if _, err := c.Logs.PutSubscriptionFilter(ctx, &cloudwatchlogs.PutSubscriptionFilterInput{
			LogGroupName: aws.String(g.Name), FilterName: aws.String(SubscriptionFilterName), FilterPattern: aws.String(""),
			DestinationArn: aws.String(r.StreamARN), RoleArn: aws.String(r.RoleARN),
		}); err != nil {
			return fmt.Errorf("subscribe %s to %s: %w", g.Name, r.StreamARN, err)
		}
	}
	return nil
}

// DemoAccounts are the demo's extra sender accounts, beside the emulator's own.
var DemoAccounts = []string{"111111111111", "222222222222"}

// AccountOf returns an ARN's account ID ("" if s is not an ARN).
func AccountOf(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	return a.AccountID
}

func uniq(ss ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
