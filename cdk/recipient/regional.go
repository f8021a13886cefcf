package recipient

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DestinationStackProps configures NewDestinationStack.
type DestinationStackProps struct {
	awscdk.StackProps
	// Settings are the recipient stack's: account, home region (Settings.Region),
	// recipient stack name, destination name, senders, stream encryption.
	Settings Settings
	// Region is the destination's region, one of Settings.DestinationRegions.
	Region string
	// central names the recipient stack's resources the destination needs.
	central centralStream
}

// centralStream holds the logical IDs, in the recipient stack, of the stream
// and of its customer key when that stack creates one (else empty).
type centralStream struct {
	streamLogicalID, keyLogicalID string
}

// NewDestinationStack builds a regional destination stack: a CloudWatch Logs
// destination in props.Region, with the recipient's fixed destination name,
// targeting the recipient stack's stream in the home region; the role
// CloudWatch Logs assumes for it; and its access policy from the same sender
// parameters as the recipient stack's (same size check, same forceUpdate
// custom resource). Senders in Region subscribe to it; their events join the
// one pipeline in the home region. Build it through AddToApp, which sets
// props.central and the deploy order.
func NewDestinationStack(scope constructs.Construct, id string, props *DestinationStackProps) awscdk.Stack {
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("logfan regional destination: a CloudWatch Logs destination in " + props.Region +
			" for sender accounts, writing into the logfan stream of stack " + props.Settings.StackName + " in " + props.Settings.Region)
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	s := props.Settings
	senders := newSenderParameters(stack, s.Senders, s.MaxSenderAccounts(props.Region))
	if !s.Senders.Named() {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String(noSendersWarningID), jsii.String(
			"no senderAccounts or organizationId in context: deploy with --parameters SenderAccounts=... (or SenderOrganizationId=...); CloudFormation rejects a deployment naming no sender"))
	}
	d := &destinationParts{stack: stack, s: s, region: props.Region, senders: senders}
	// The stream's name is chosen by CloudFormation in the home region, so
	// it is looked up there at deploy time and the ARN computed from it: a
	// cross-region export would pin the stream (its stack could no longer
	// replace or remove it while this stack exists).
	stream := d.lookupPhysicalID("StreamLookup", props.central.streamLogicalID)
	d.streamARN = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(d.arn("kinesis", s.Region, "stream/")), stream})
	switch {
	case s.Stream.KMSKeyARN != "":
		d.keyARN = jsii.String(s.Stream.KMSKeyARN)
	case props.central.keyLogicalID != "":
		// A KMS key's physical ID is its key ID.
		key := d.lookupPhysicalID("StreamKeyLookup", props.central.keyLogicalID)
		d.keyARN = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(d.arn("kms", s.Region, "key/")), key})
	}
	destination := newDestination(d)
	newDestinationOutputs(stack, s, props.Region, destination, senders)
	return stack
}

// lookupPhysicalID returns, as a deploy-time value, the physical ID of the
// resource logicalID of the recipient stack in the home region
// (CloudFormation DescribeStackResource, read-only on that one stack).
func (d *destinationParts) lookupPhysicalID(id, logicalID string) *string {
	const field = "StackResourceDetail.PhysicalResourceId"
	call := &customresources.AwsSdkCall{
		Service: jsii.String("CloudFormation"),
		Action:  jsii.String("describeStackResource"),
		Region:  jsii.String(d.s.Region),
		Parameters: map[string]any{
			"StackName":         d.s.StackName,
			"LogicalResourceId": logicalID,
		},
		// The physical ID is the answer, so a replaced stream (a new name)
		// replaces this lookup, and with it whatever uses the ARN.
		PhysicalResourceId: customresources.PhysicalResourceId_FromResponse(jsii.String(field)),
		// Only the one field: the whole answer carries the resource's
		// metadata and could exceed a custom resource's 4 KB response.
		OutputPaths: jsii.Strings(field),
	}
	role, logs := d.sdkHandler()
	stackARN := "arn:" + partition(d.s.Region) + ":cloudformation:" + d.s.Region + ":" + d.s.Account + ":stack/" + d.s.StackName + "/*"
	lookup := customresources.NewAwsCustomResource(d.stack, jsii.String(id), &customresources.AwsCustomResourceProps{
		ResourceType:        jsii.String("Custom::LogfanStackResourceLookup"),
		Role:                role,
		LogGroup:            logs,
		OnCreate:            call,
		OnUpdate:            call,
		InstallLatestAwsSdk: jsii.Bool(false),
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("cloudformation:DescribeStackResource"),
			Resources: jsii.Strings(stackARN),
		})}),
	})
	suppress(lookup, "AwsSolutions-IAM5", "A stack ARN ends in the stack's ID, which CloudFormation generates at creation; the wildcard covers only that suffix of the one recipient stack, read-only.",
		"Resource::"+stackARN)
	return lookup.GetResponseField(jsii.String(field))
}
