// Package recipient defines logfan's recipient stack: the Kinesis stream that
// a CloudWatch Logs destination feeds, the destination and the role it uses,
// one consumer function per enabled sink, the sinks' resources, the
// sender-health table and watchdog, alarms notifying one SNS topic, and a
// dashboard. One stack serves one recipient account and region.
package recipient

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/logfan/logfan/internal/ops/naming"
)

// StackProps configures NewStack.
type StackProps struct {
	awscdk.StackProps
	// Settings is the parsed context (see ParseSettings).
	Settings Settings
}

// recipientStack carries what the stack's parts share while it is built.
type recipientStack struct {
	// stack is held, not embedded: jsii cannot register a Go struct that
	// embeds a jsii object as a construct scope.
	stack awscdk.Stack
	s     Settings

	stream      *dataStream
	destination awslogs.CfnDestination
	senders     *senderParameters
	quarantine  awss3.Bucket
	ledger      awsdynamodb.Table
	data        awss3.IBucket
	firehose    *firehoseSink
	athena      *athena
	functions   []*consumer
	health      awsdynamodb.Table
	watchdog    *watchdog
}

// NewStack builds the recipient stack described in the package comment.
func NewStack(scope constructs.Construct, id string, props *StackProps) awscdk.Stack {
	return newRecipientStack(scope, id, props).stack
}

func newRecipientStack(scope constructs.Construct, id string, props *StackProps) *recipientStack {
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("logfan recipient: Kinesis stream, CloudWatch Logs destination for sender accounts, and consumers fanning out to S3, Firehose and CloudWatch Logs")
	}
	r := &recipientStack{stack: awscdk.NewStack(scope, &id, &sp), s: props.Settings}
	// Buckets here are owner-enforced, which rejects the LogDeliveryWrite ACL;
	// server access logs must be delivered through a bucket policy even when
	// the app runs without cdk.json's feature flags (plain `go run ./cdk`).
	r.stack.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)

	r.senders = newSenderParameters(r.stack, r.s.Senders, r.s.MaxSenderAccounts(r.s.Region))
	if !r.s.Senders.Named() {
		awscdk.Annotations_Of(r.stack).AddWarningV2(jsii.String(noSendersWarningID), jsii.String(
			"no senderAccounts or organizationId in context: deploy with --parameters SenderAccounts=... (or SenderOrganizationId=...); CloudFormation rejects a deployment naming no sender"))
	}
	for _, w := range r.s.Warnings {
		awscdk.Annotations_Of(r.stack).AddWarningV2(jsii.String(ignoredContextWarningID+w.Key), jsii.String(w.Message))
	}
	r.stream = newDataStream(r)
	parts := &destinationParts{stack: r.stack, s: r.s, region: r.s.Region, senders: r.senders, streamARN: r.stream.stream.StreamArn()}
	if r.stream.key != nil {
		parts.keyARN = r.stream.key.KeyArn()
	}
	r.destination = newDestination(parts)
	newHub(r)
	r.quarantine = newQuarantineBucket(r)
	r.ledger = newLedgerTable(r)
	r.data = newDataBucket(r)
	r.firehose = newFirehoseSink(r)
	r.athena = newAthena(r)
	r.health = newHealthTable(r)
	for _, sink := range r.s.EnabledSinks() {
		r.functions = append(r.functions, newConsumer(r, sink))
	}
	r.watchdog = newWatchdog(r)
	newBackfillRole(r)
	newMonitoring(r)
	newOutputs(r)
	newHealthOutputs(r)
	return r
}

// noSendersWarningID marks the synth warning for a stack without senders.
const noSendersWarningID = "logfan:noSenders"

// ignoredContextWarningID starts the ID of a warning about a context key
// the settings chosen make the stack ignore (Settings.Warnings).
const ignoredContextWarningID = "logfan:ignoredContext:"

// AddToApp adds the recipient stack for s to app, with account and region
// from s, a regional destination stack for each of s.DestinationRegions
// and, unless disabled, cdk-nag's AwsSolutions checks. main and the tests
// both build the app through here, so tests check what synth deploys. It
// returns the recipient stack; the regional ones are the app's children
// named naming.DestinationStack(region).
func AddToApp(app awscdk.App, s Settings) awscdk.Stack {
	r := newRecipientStack(app, s.StackName, &StackProps{
		StackProps: awscdk.StackProps{
			Env:       &awscdk.Environment{Account: jsii.String(s.Account), Region: jsii.String(s.Region)},
			StackName: jsii.String(s.StackName),
		},
		Settings: s,
	})
	if len(s.DestinationRegions) > 0 {
		central := centralStream{streamLogicalID: logicalID(r.stack, r.stream.stream.Node().DefaultChild())}
		if s.Stream.Encryption == EncryptionKMS && s.Stream.KMSKeyARN == "" {
			// The stack created the key; an imported one's ARN is a literal.
			central.keyLogicalID = logicalID(r.stack, r.stream.key.Node().DefaultChild())
		}
		for _, region := range s.DestinationRegions {
			name := naming.DestinationStack(region)
			regional := NewDestinationStack(app, name, &DestinationStackProps{
				StackProps: awscdk.StackProps{
					Env:       &awscdk.Environment{Account: jsii.String(s.Account), Region: jsii.String(region)},
					StackName: jsii.String(name),
				},
				Settings: s,
				Region:   region,
				central:  central,
			})
			// The regional stack looks the stream up in the recipient stack,
			// which must therefore be deployed first; a dependency, not a
			// reference, so nothing is exported and the stream is not pinned.
			regional.AddStackDependency(r.stack, jsii.String("the destination targets the recipient stack's stream"))
		}
	}
	if s.Nag {
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	}
	return r.stack
}

// logicalID resolves the logical ID of a stack's CloudFormation resource to text.
func logicalID(stack awscdk.Stack, resource constructs.IConstruct) string {
	switch id := stack.Resolve(stack.GetLogicalId(resource.(awscdk.CfnElement))).(type) {
	case string:
		return id
	case *string:
		return *id
	default:
		panic(fmt.Sprintf("logical ID of %s resolved to %T", *resource.Node().Path(), id))
	}
}

// suppress records a cdk-nag suppression with its reason on construct and its children.
func suppress(construct constructs.IConstruct, id, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		list := make([]any, len(appliesTo))
		for i, a := range appliesTo {
			list[i] = a
		}
		s.AppliesTo = &list
	}
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}

// arn formats an ARN in the stack's partition.
func (r *recipientStack) arn(service, region, resource string) string {
	return "arn:" + partition(r.s.Region) + ":" + service + ":" + region + ":" + r.s.Account + ":" + resource
}
