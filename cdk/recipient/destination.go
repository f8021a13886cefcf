package recipient

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/jsii-runtime-go"
)

// CloudFormation parameter and condition names. Onboarding a sender is a
// parameter change (or a context change, which moves the defaults): neither
// touches a logical ID or a physical name.
const (
	ParamSenderAccounts          = "SenderAccounts"
	ParamSenderOrganizationID    = "SenderOrganizationId"
	ParamSenderOrganizationPaths = "SenderOrganizationPaths"
	CondOrganizationMode         = "OrganizationMode"
	CondHasOrganizationPaths     = "HasOrganizationPaths"
)

// senderParameters are the deploy-time inputs naming who may subscribe.
type senderParameters struct {
	accounts, orgID, orgPaths awscdk.CfnParameter
	orgMode, hasPaths         awscdk.CfnCondition
}

// newSenderParameters declares the parameters, their conditions, and a rule
// that rejects a deployment naming no sender at all.
func newSenderParameters(r *recipientStack) *senderParameters {
	s := r.s.Senders
	p := &senderParameters{}
	p.accounts = awscdk.NewCfnParameter(r.stack, jsii.String(ParamSenderAccounts), &awscdk.CfnParameterProps{
		Type:        jsii.String("CommaDelimitedList"),
		Default:     jsii.String(strings.Join(s.Accounts, ",")),
		Description: jsii.String("Sender AWS account IDs allowed to subscribe (account-list mode), comma-separated. Ignored when SenderOrganizationId is set."),
		// For a CommaDelimitedList the pattern applies to each item; empty is
		// allowed so that organization mode needs no accounts.
		AllowedPattern:        jsii.String(`^(\d{12})?$`),
		ConstraintDescription: jsii.String("each item must be a 12-digit AWS account ID"),
	})
	p.orgID = awscdk.NewCfnParameter(r.stack, jsii.String(ParamSenderOrganizationID), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Default:               jsii.String(s.OrganizationID),
		Description:           jsii.String("AWS Organizations ID whose accounts may subscribe (organization mode). Empty for account-list mode."),
		AllowedPattern:        jsii.String(`^(o-[a-z0-9]{10,32})?$`),
		ConstraintDescription: jsii.String("must be empty or an organization ID such as o-a1b2c3d4e5"),
	})
	p.orgPaths = awscdk.NewCfnParameter(r.stack, jsii.String(ParamSenderOrganizationPaths), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Default:               jsii.String(strings.Join(s.OrganizationPaths, ",")),
		Description:           jsii.String("Optional, organization mode only: comma-separated aws:PrincipalOrgPaths (e.g. o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*) narrowing the senders to OUs."),
		AllowedPattern:        jsii.String(`^[a-z0-9/*,-]*$`),
		ConstraintDescription: jsii.String("must be comma-separated organization paths"),
	})
	p.orgMode = awscdk.NewCfnCondition(r.stack, jsii.String(CondOrganizationMode), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(p.orgID.ValueAsString(), jsii.String(""))),
	})
	p.hasPaths = awscdk.NewCfnCondition(r.stack, jsii.String(CondHasOrganizationPaths), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(p.orgPaths.ValueAsString(), jsii.String(""))),
	})
	awscdk.NewCfnRule(r.stack, jsii.String("SendersNamed"), &awscdk.CfnRuleProps{
		Assertions: &[]*awscdk.CfnRuleAssertion{{
			Assert: awscdk.Fn_ConditionOr(
				awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(p.orgID.ValueAsString(), jsii.String(""))),
				awscdk.Fn_ConditionNot(awscdk.Fn_ConditionContains(p.accounts.ValueAsList(), jsii.String(""))),
			),
			AssertDescription: jsii.String("Set SenderAccounts (12-digit account IDs, no empty items) or SenderOrganizationId."),
		}},
	})
	return p
}

// sourceARNs lists arn:aws:logs:REGION:ACCOUNT:* for the recipient account
// and every sender account, built from the parameter by joining with the
// text between two ARNs and splitting again.
func (r *recipientStack) sourceARNs() *[]*string {
	head := "arn:" + partition(r.s.Region) + ":logs:" + r.s.Region + ":"
	joined := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(r.recipientSourceARN() + "," + head),
		awscdk.Fn_Join(jsii.String(":*,"+head), r.senders.accounts.ValueAsList()),
		jsii.String(":*"),
	})
	return awscdk.Fn_Split(jsii.String(","), joined, nil)
}

// recipientSourceARN matches CloudWatch Logs acting for the recipient account,
// as it does when it sends the test record at destination creation.
func (r *recipientStack) recipientSourceARN() string {
	return r.arn("logs", r.s.Region, "*")
}

// accessPolicy is the destination access policy as a CloudFormation
// expression over the sender parameters (see accessPolicy in policy.go).
func (r *recipientStack) accessPolicy() *string {
	p := newAccessPolicy(r.s.DestinationARN())
	accounts := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(p.accountsHead),
		awscdk.Fn_Join(jsii.String(p.accountsSep), r.senders.accounts.ValueAsList()),
		jsii.String(p.accountsTail),
	})
	paths := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(p.pathsHead),
		awscdk.Fn_Join(jsii.String(p.pathsSep), awscdk.Fn_Split(jsii.String(","), r.senders.orgPaths.ValueAsString(), nil)),
		jsii.String(p.pathsTail),
	})
	org := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(p.orgHead),
		r.senders.orgID.ValueAsString(),
		jsii.String(p.orgMid),
		awscdk.Token_AsString(awscdk.Fn_ConditionIf(r.senders.hasPaths.LogicalId(), paths, jsii.String("")), nil),
		jsii.String(p.orgTail),
	})
	return awscdk.Token_AsString(awscdk.Fn_ConditionIf(r.senders.orgMode.LogicalId(), org, accounts), nil)
}

// newDestination creates the role CloudWatch Logs assumes, the destination,
// and the custom resource that applies the access policy.
func newDestination(r *recipientStack) awslogs.CfnDestination {
	role := awsiam.NewRole(r.stack, jsii.String("DestinationRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("logs.amazonaws.com"), nil),
		Description: jsii.String("Assumed by CloudWatch Logs to put sender log events into the logfan stream"),
	})
	// Confused deputy: CloudWatch Logs may assume the role only on behalf of
	// the senders (aws:SourceArn per account) or of the organization
	// (aws:SourceOrgID), and of this account, for which it sends the test
	// record when the destination is created. Which form applies is a
	// deploy-time choice, so the statements are Fn::If.
	statement := func(condition map[string]any) map[string]any {
		return map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "logs.amazonaws.com"},
			"Action":    "sts:AssumeRole",
			"Condition": condition,
		}
	}
	trust := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			awscdk.Fn_ConditionIf(r.senders.orgMode.LogicalId(),
				statement(map[string]any{"StringEquals": map[string]any{"aws:SourceOrgID": r.senders.orgID.ValueAsString()}}),
				statement(map[string]any{"StringLike": map[string]any{"aws:SourceArn": r.sourceARNs()}}),
			),
			awscdk.Fn_ConditionIf(r.senders.orgMode.LogicalId(),
				statement(map[string]any{"StringLike": map[string]any{"aws:SourceArn": r.recipientSourceARN()}}),
				awscdk.Aws_NO_VALUE(),
			),
		},
	}
	role.Node().DefaultChild().(awsiam.CfnRole).AddPropertyOverride(jsii.String("AssumeRolePolicyDocument"), trust)

	// kinesis:PutRecord on this stream only, plus the key when it is a customer key.
	statements := []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kinesis:PutRecord"),
		Resources: jsii.Strings(*r.stream.stream.StreamArn()),
	})}
	if r.stream.key != nil {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("kms:GenerateDataKey"),
			Resources: jsii.Strings(*r.stream.key.KeyArn()),
		}))
	}
	policy := awsiam.NewPolicy(r.stack, jsii.String("DestinationRolePolicy"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: &statements,
	})

	dest := awslogs.NewCfnDestination(r.stack, jsii.String("Destination"), &awslogs.CfnDestinationProps{
		DestinationName: jsii.String(r.s.DestinationName),
		RoleArn:         role.RoleArn(),
		TargetArn:       r.stream.stream.StreamArn(),
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
			"accessPolicy":    r.accessPolicy(),
			"forceUpdate":     true,
		},
		PhysicalResourceId: customresources.PhysicalResourceId_Of(jsii.String(r.s.DestinationName + "-policy")),
	}
	// The handler gets its own role and log group: the default role carries
	// the managed AWSLambdaBasicExecutionRole, which allows every log group.
	handlerLogs := awslogs.NewLogGroup(r.stack, jsii.String("DestinationPolicyHandlerLogs"), &awslogs.LogGroupProps{
		Retention:     retentionDays(r.s.Function.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	handlerRole := awsiam.NewRole(r.stack, jsii.String("DestinationPolicyHandlerRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Applies the logfan destination access policy (PutDestinationPolicy with forceUpdate)"),
	})
	handlerLogs.GrantWrite(handlerRole)
	customresources.NewAwsCustomResource(r.stack, jsii.String("DestinationAccessPolicy"), &customresources.AwsCustomResourceProps{
		ResourceType:        jsii.String("Custom::LogsDestinationPolicy"),
		Role:                handlerRole,
		LogGroup:            handlerLogs,
		OnCreate:            call,
		OnUpdate:            call,
		InstallLatestAwsSdk: jsii.Bool(false),
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("logs:PutDestinationPolicy"),
			Resources: jsii.Strings(r.s.DestinationARN()),
		})}),
	})

	// The size check runs at synth on the parameters' defaults (the context).
	r.stack.Node().AddValidation(&policySizeValidation{arn: r.s.DestinationARN(), senders: r.s.Senders})
	return dest
}

// policySizeValidation fails synth when the default access policy is too large.
type policySizeValidation struct {
	arn     string
	senders Senders
}

// Validate implements constructs.IValidation.
func (v *policySizeValidation) Validate() *[]*string {
	if err := CheckAccessPolicySize(v.arn, v.senders); err != nil {
		return &[]*string{jsii.String(err.Error())}
	}
	return &[]*string{}
}
