package recipient

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/internal/ops/naming"
)

// CloudFormation parameter and condition names. Onboarding a sender is a
// parameter change (or a context change, which moves the defaults): neither
// touches a logical ID or a physical name.
const (
	ParamSenderAccounts          = naming.ParamSenderAccounts
	ParamSenderOrganizationID    = naming.ParamSenderOrganizationID
	ParamSenderOrganizationPaths = naming.ParamSenderOrganizationPaths
	CondOrganizationMode         = "OrganizationMode"
	CondHasOrganizationPaths     = "HasOrganizationPaths"
)

// senderParameters are the deploy-time inputs naming who may subscribe.
type senderParameters struct {
	// accountsParam is read through accountList.
	accountsParam, orgID, orgPaths awscdk.CfnParameter
	orgMode, hasPaths              awscdk.CfnCondition
}

// accountList is the SenderAccounts parameter as a list (one empty item when empty).
func (p *senderParameters) accountList() *[]*string {
	return awscdk.Fn_Split(jsii.String(","), p.accountsParam.ValueAsString(), nil)
}

// orgIDList is the SenderOrganizationId parameter as a list.
func (p *senderParameters) orgIDList() *[]*string {
	return awscdk.Fn_Split(jsii.String(","), p.orgID.ValueAsString(), nil)
}

// newSenderParameters declares the parameters, their conditions, and a rule
// that rejects a deployment naming no sender at all. maxAccounts is how many
// accounts the destination in this stack can trust (0: no limit declared).
func newSenderParameters(stack awscdk.Stack, s Senders, maxAccounts int) *senderParameters {
	p := &senderParameters{}
	accounts := &awscdk.CfnParameterProps{
		// A String, not a CommaDelimitedList, so that MaxLength can bound
		// the number of accounts: each is 12 digits, so n accounts take
		// 13n-1 characters.
		Type:        jsii.String("String"),
		Default:     jsii.String(strings.Join(s.Accounts, ",")),
		Description: jsii.String("Sender AWS account IDs allowed to subscribe (account-list mode), comma-separated, no spaces. Ignored when SenderOrganizationId is set."),
		// Empty is allowed so that organization mode needs no accounts.
		AllowedPattern:        jsii.String(`^(\d{12}(,\d{12})*)?$`),
		ConstraintDescription: jsii.String("must be 12-digit AWS account IDs separated by commas, without spaces"),
	}
	if maxAccounts > 0 {
		accounts.MaxLength = jsii.Number(float64(13*maxAccounts - 1))
		accounts.ConstraintDescription = jsii.String(fmt.Sprintf("must be at most %d 12-digit AWS account IDs (what the destination role's trust policy and access policy hold here), separated by commas, without spaces; more senders need organization mode or further destinations (the senderShards context)", maxAccounts))
	}
	p.accountsParam = awscdk.NewCfnParameter(stack, jsii.String(ParamSenderAccounts), accounts)
	p.orgID = awscdk.NewCfnParameter(stack, jsii.String(ParamSenderOrganizationID), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Default:               jsii.String(strings.Join(s.OrganizationIDs, ",")),
		Description:           jsii.String("AWS Organizations IDs whose accounts may subscribe (organization mode), comma-separated, no spaces. Empty for account-list mode."),
		AllowedPattern:        jsii.String(`^(o-[a-z0-9]{10,32}(,o-[a-z0-9]{10,32})*)?$`),
		ConstraintDescription: jsii.String("must be empty or organization IDs such as o-a1b2c3d4e5, separated by commas, without spaces"),
	})
	p.orgPaths = awscdk.NewCfnParameter(stack, jsii.String(ParamSenderOrganizationPaths), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Default:               jsii.String(strings.Join(s.OrganizationPaths, ",")),
		Description:           jsii.String("Optional, organization mode only: comma-separated aws:PrincipalOrgPaths (e.g. o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*) narrowing the senders to OUs."),
		AllowedPattern:        jsii.String(`^[a-z0-9/*,-]*$`),
		ConstraintDescription: jsii.String("must be comma-separated organization paths"),
	})
	p.orgMode = awscdk.NewCfnCondition(stack, jsii.String(CondOrganizationMode), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(p.orgID.ValueAsString(), jsii.String(""))),
	})
	p.hasPaths = awscdk.NewCfnCondition(stack, jsii.String(CondHasOrganizationPaths), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(p.orgPaths.ValueAsString(), jsii.String(""))),
	})
	awscdk.NewCfnRule(stack, jsii.String("SendersNamed"), &awscdk.CfnRuleProps{
		Assertions: &[]*awscdk.CfnRuleAssertion{{
			Assert: awscdk.Fn_ConditionOr(
				awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(p.orgID.ValueAsString(), jsii.String(""))),
				awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(p.accountsParam.ValueAsString(), jsii.String(""))),
			),
			AssertDescription: jsii.String("Set SenderAccounts (12-digit account IDs) or SenderOrganizationId."),
		}},
	})
	return p
}

// destinationParts is what one destination is built from: the stack it
// lives in (the main stack, or a regional destination stack), its region,
// the sender parameters of that stack, and the stream it writes to.
type destinationParts struct {
	stack   awscdk.Stack
	s       Settings
	region  string
	senders *senderParameters
	// streamARN and keyARN (nil with the AWS-managed key) are the central
	// stream's and its customer key's.
	streamARN, keyARN *string

	// handlerRole and handlerLogs serve every AWS SDK custom resource of
	// the stack (CDK runs them all in one singleton function).
	handlerRole awsiam.Role
	handlerLogs awslogs.LogGroup
}

// arn formats an ARN of the recipient account in the stack's partition.
func (d *destinationParts) arn(service, region, resource string) string {
	return "arn:" + partition(region) + ":" + service + ":" + region + ":" + d.s.Account + ":" + resource
}

// destinationARN is the ARN of this destination (a literal: account, region and name are).
func (d *destinationParts) destinationARN() string { return d.s.DestinationARNIn(d.region) }

// sourceARNs lists arn:aws:logs:REGION:ACCOUNT:* for the recipient account
// and every sender account, built from the parameter by joining with the
// text between two ARNs and splitting again.
func (d *destinationParts) sourceARNs() *[]*string {
	head := "arn:" + partition(d.region) + ":logs:" + d.region + ":"
	joined := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(d.recipientSourceARN() + "," + head),
		awscdk.Fn_Join(jsii.String(":*,"+head), d.senders.accountList()),
		jsii.String(":*"),
	})
	return awscdk.Fn_Split(jsii.String(","), joined, nil)
}

// recipientSourceARN matches CloudWatch Logs acting for the recipient account,
// as it does when it sends the test record at destination creation.
func (d *destinationParts) recipientSourceARN() string {
	return logsSourceARN(d.region, d.s.Account)
}

// accessPolicy is the destination access policy as a CloudFormation
// expression over the sender parameters (see accessPolicy in policy.go).
func (d *destinationParts) accessPolicy() *string {
	p := newAccessPolicy(d.destinationARN())
	accounts := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(p.accountsHead),
		awscdk.Fn_Join(jsii.String(p.accountsSep), d.senders.accountList()),
		jsii.String(p.accountsTail),
	})
	paths := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(p.pathsHead),
		awscdk.Fn_Join(jsii.String(p.pathsSep), awscdk.Fn_Split(jsii.String(","), d.senders.orgPaths.ValueAsString(), nil)),
		jsii.String(p.pathsTail),
	})
	org := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(p.orgHead),
		awscdk.Fn_Join(jsii.String(p.orgSep), d.senders.orgIDList()),
		jsii.String(p.orgMid),
		awscdk.Token_AsString(awscdk.Fn_ConditionIf(d.senders.hasPaths.LogicalId(), paths, jsii.String("")), nil),
		jsii.String(p.orgTail),
	})
	return awscdk.Token_AsString(awscdk.Fn_ConditionIf(d.senders.orgMode.LogicalId(), org, accounts), nil)
}

// sdkHandler returns the role and log group of the stack's AWS SDK custom
// resources, creating them on first use. The handler gets its own role and
// log group: the default role carries the managed
// AWSLambdaBasicExecutionRole, which allows every log group.
func (d *destinationParts) sdkHandler() (awsiam.Role, awslogs.LogGroup) {
	if d.handlerRole == nil {
		d.handlerLogs = awslogs.NewLogGroup(d.stack, jsii.String(naming.SDKHandlerLogs), &awslogs.LogGroupProps{
			Retention:     retentionDays(d.s.Function.LogRetentionDays),
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		d.handlerRole = awsiam.NewRole(d.stack, jsii.String("DestinationPolicyHandlerRole"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Applies the logfan destination access policy (PutDestinationPolicy with forceUpdate)"),
		})
		d.handlerLogs.GrantWrite(d.handlerRole)
	}
	return d.handlerRole, d.handlerLogs
}

// newDestination creates shard 0's destination, the role CloudWatch Logs
// assumes for it and the custom resource that applies its access policy,
// all from the sender parameters; then the destination of every further
// shard (newShardDestinations). It returns shard 0's destination.
func newDestination(d *destinationParts) awslogs.CfnDestination {
	// Confused deputy: CloudWatch Logs may assume the role only on behalf of
	// the senders (aws:SourceArn per account, in this destination's region)
	// or of the organizations (aws:SourceOrgID, narrowed to the OU paths by
	// aws:SourceOrgPaths when they are given), and of this account, for
	// which it sends the test record when the destination is created. Which
	// form applies is a deploy-time choice, so the statements are Fn::If;
	// TrustPolicyDocument is the same document resolved for the defaults.
	trust := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			awscdk.Fn_ConditionIf(d.senders.orgMode.LogicalId(),
				awscdk.Fn_ConditionIf(d.senders.hasPaths.LogicalId(),
					trustStatement(orgTrustCondition(d.senders.orgIDList(), awscdk.Fn_Split(jsii.String(","), d.senders.orgPaths.ValueAsString(), nil))),
					trustStatement(orgTrustCondition(d.senders.orgIDList(), nil))),
				trustStatement(map[string]any{"StringLike": map[string]any{"aws:SourceArn": d.sourceARNs()}}),
			),
			awscdk.Fn_ConditionIf(d.senders.orgMode.LogicalId(),
				trustStatement(map[string]any{"StringLike": map[string]any{"aws:SourceArn": d.recipientSourceARN()}}),
				awscdk.Aws_NO_VALUE(),
			),
		},
	}
	dest := d.newShardDestination(0, trust, d.accessPolicy(), customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("logs:PutDestinationPolicy"),
			Resources: jsii.Strings(d.destinationARN()),
		})}), nil)
	// The size checks run at synth on the parameters' defaults (the context).
	d.stack.Node().AddValidation(&policySizeValidation{d: d})
	d.stack.Node().AddValidation(&templateLimitsValidation{stack: d.stack, s: d.s})
	d.newShardDestinations()
	return dest
}

// shardID is the construct ID prefix of shard's resources: shard 0 keeps
// the IDs it had before shards existed ("DestinationRole", ...), shard N's
// are "DestinationShardNRole", ...: derived from the number alone, so that
// they never change when other shards come or go.
func shardID(shard int) string {
	if shard == 0 {
		return "Destination"
	}
	return fmt.Sprintf("DestinationShard%d", shard)
}

// newShardDestination creates shard's role with the trust policy trust, its
// permissions policy, the destination, and the custom resource applying
// accessPolicy. handlerPolicy is what the custom resource's handler needs
// (nil: dependsOn, created by the caller, grants it).
func (d *destinationParts) newShardDestination(shard int, trust any, accessPolicy *string, handlerPolicy customresources.AwsCustomResourcePolicy, dependsOn constructs.IConstruct) awslogs.CfnDestination {
	id := shardID(shard)
	name := d.s.ShardDestinationName(shard)
	role := awsiam.NewRole(d.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("logs.amazonaws.com"), nil),
		Description: jsii.String(shardRoleDescription(shard)),
	})
	role.Node().DefaultChild().(awsiam.CfnRole).AddPropertyOverride(jsii.String("AssumeRolePolicyDocument"), trust)

	// kinesis:PutRecord on the central stream only, plus the key when it is a customer key.
	statements := []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kinesis:PutRecord"),
		Resources: jsii.Strings(*d.streamARN),
	})}
	if d.keyARN != nil {
		// Kinesis encrypts the record with a data key it asks KMS for on
		// the role's behalf, in the stream's (home) region.
		statements = append(statements, kmsStatement(awsiam.Effect_ALLOW, "StringEquals", viaService("kinesis", d.s.Region), []string{"kms:GenerateDataKey"}, d.keyARN))
	}
	policy := awsiam.NewPolicy(d.stack, jsii.String(id+"RolePolicy"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: &statements,
	})

	dest := awslogs.NewCfnDestination(d.stack, jsii.String(id), &awslogs.CfnDestinationProps{
		DestinationName: jsii.String(name),
		RoleArn:         role.RoleArn(),
		TargetArn:       d.streamARN,
	})
	// Creating a destination sends a test record through the role, so the
	// role's permissions policy, not just the role, must exist first.
	dest.Node().AddDependency(policy)

	// AWS::Logs::Destination cannot pass forceUpdate to PutDestinationPolicy,
	// which switching from an account list to an organization requires; so
	// the policy is applied by a custom resource calling the API directly.
	call := &customresources.AwsSdkCall{
		Service: jsii.String("CloudWatchLogs"),
		Action:  jsii.String("putDestinationPolicy"),
		Parameters: map[string]any{
			"destinationName": dest.Ref(),
			"accessPolicy":    accessPolicy,
			"forceUpdate":     true,
		},
		PhysicalResourceId: customresources.PhysicalResourceId_Of(jsii.String(name + "-policy")),
	}
	handlerRole, handlerLogs := d.sdkHandler()
	cr := customresources.NewAwsCustomResource(d.stack, jsii.String(id+"AccessPolicy"), &customresources.AwsCustomResourceProps{
		ResourceType:        jsii.String("Custom::LogsDestinationPolicy"),
		Role:                handlerRole,
		LogGroup:            handlerLogs,
		OnCreate:            call,
		OnUpdate:            call,
		InstallLatestAwsSdk: jsii.Bool(false),
		Policy:              handlerPolicy,
	})
	if dependsOn != nil {
		cr.Node().AddDependency(dependsOn)
	}
	return dest
}

// shardRoleDescription describes shard's destination role.
func shardRoleDescription(shard int) string {
	if shard == 0 {
		return "Assumed by CloudWatch Logs to put sender log events into the logfan stream"
	}
	return fmt.Sprintf("Assumed by CloudWatch Logs to put sender shard %d's log events into the logfan stream", shard)
}

// newShardDestinations creates the destination of every shard from 1 up,
// each admitting the accounts senderShards lists for it: literal trust and
// access policies, measured at synth as IAM and CloudWatch Logs count them.
// One policy on the custom resources' handler role lets it apply every
// shard's access policy (one per shard would fill the role's 10,240
// characters of inline policies).
func (d *destinationParts) newShardDestinations() {
	shards := d.s.Senders.Shards
	if len(shards) == 0 {
		return
	}
	arns := make([]*string, len(shards))
	for i, sh := range shards {
		arns[i] = jsii.String(d.s.ShardDestinationARN(d.region, sh.Number))
	}
	handlerRole, _ := d.sdkHandler()
	grant := awsiam.NewPolicy(d.stack, jsii.String("DestinationShardsHandlerPolicy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{handlerRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("logs:PutDestinationPolicy"),
			Resources: &arns,
		})},
	})
	// Outputs: which destination each sender subscribes to, in this region.
	// Shard 0's ARN is the DestinationArn output already.
	awscdk.NewCfnOutput(d.stack, jsii.String(naming.OutputShardSenders(0)), &awscdk.CfnOutputProps{
		Description: jsii.String("Shard 0: the senders of DestinationArn (account IDs, or organizations in organization mode)"),
		Value: awscdk.Token_AsString(awscdk.Fn_ConditionIf(d.senders.orgMode.LogicalId(),
			awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("organizations "), d.senders.orgID.ValueAsString()}),
			d.senders.accountsParam.ValueAsString()), nil),
	})
	for _, sh := range shards {
		senders := Senders{Accounts: sh.Accounts}
		access := AccessPolicyJSON(d.s.ShardDestinationARN(d.region, sh.Number), senders)
		dest := d.newShardDestination(sh.Number, TrustPolicyDocument(d.region, d.s.Account, senders), jsii.String(access), nil, grant)
		d.stack.Node().AddValidation(&shardSizeValidation{d: d, shard: sh})
		awscdk.NewCfnOutput(d.stack, jsii.String(naming.OutputShardDestinationARN(sh.Number)), &awscdk.CfnOutputProps{
			Description: jsii.String(fmt.Sprintf("Shard %d: the destination its senders (%s) subscribe to in %s", sh.Number, naming.OutputShardSenders(sh.Number), d.region)),
			Value:       dest.AttrArn(),
		})
		awscdk.NewCfnOutput(d.stack, jsii.String(naming.OutputShardSenders(sh.Number)), &awscdk.CfnOutputProps{
			Description: jsii.String(fmt.Sprintf("Shard %d: the sender accounts its destination admits (senderShards context)", sh.Number)),
			Value:       jsii.String(strings.Join(sh.Accounts, ",")),
		})
	}
}

// policySizeValidation fails synth when shard 0's default access policy or
// its role's trust policy would exceed its service limit, which
// CloudFormation would otherwise only find in the middle of a deployment.
type policySizeValidation struct {
	d *destinationParts
}

// Validate implements constructs.IValidation.
func (v *policySizeValidation) Validate() *[]*string {
	out := []*string{}
	d := v.d
	if err := CheckAccessPolicySize(d.destinationARN(), d.s.Senders); err != nil {
		out = append(out, jsii.String(err.Error()))
	}
	if err := CheckTrustPolicySize(d.region, d.s.Account, d.s.Senders, d.s.TrustPolicyMaxChars); err != nil {
		out = append(out, jsii.String(err.Error()))
	}
	return &out
}

// shardSizeValidation fails synth when a shard's access policy or trust
// policy in this stack's region exceeds its limit, naming the shards with
// room and the next free shard number.
type shardSizeValidation struct {
	d     *destinationParts
	shard SenderShard
}

// Validate implements constructs.IValidation.
func (v *shardSizeValidation) Validate() *[]*string {
	out := []*string{}
	d, sh := v.d, v.shard
	senders := Senders{Accounts: sh.Accounts}
	arn := d.s.ShardDestinationARN(d.region, sh.Number)
	fix := d.s.shardRoom()
	if n := len(AccessPolicyJSON(arn, senders)); n > MaxAccessPolicyBytes {
		out = append(out, jsii.String(fmt.Sprintf("%s[%q]: the access policy of destination %s for %d sender accounts is %d bytes, over CloudWatch Logs' limit of %d: %s",
			CtxSenderShards, strconv.Itoa(sh.Number), arn, len(sh.Accounts), n, MaxAccessPolicyBytes, fix)))
	}
	if err := checkTrustPolicySize(d.region, d.s.Account, senders, d.s.TrustPolicyMaxChars, fmt.Sprintf("shard %d's destination role", sh.Number)); err != nil {
		out = append(out, jsii.String(fmt.Sprintf("%s[%q]: %v; %s", CtxSenderShards, strconv.Itoa(sh.Number), err, fix)))
	}
	return &out
}
