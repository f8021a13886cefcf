// Package sender defines logfan's sender stack, deployed in each sender
// account and region: it subscribes chosen log groups to the recipient's
// CloudWatch Logs destination (one AWS::Logs::SubscriptionFilter per group
// and destination), or sets one account-level subscription policy
// (AWS::Logs::AccountPolicy, SUBSCRIPTION_FILTER_POLICY) that selects every
// log group but the excluded ones. With an organization-mode destination it
// also creates the subscription role such senders need. Unless
// senderHeartbeatMinutes=0, it also writes a heartbeat into a log group of
// its own (heartbeat.go), which reaches the destination like the others.
//
// CloudFormation cannot enumerate log groups at deploy time, and a
// subscription filter policy can only exclude exact names (`LogGroupName NOT
// IN [...]`), so selecting groups by prefix happens before the deploy:
// `logfan onboard -log-group-prefix` prints the command that expands a
// prefix into the senderLogGroups context. Groups created later are covered
// by the account-policy mode.
package sender

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// StackProps configures NewStack.
type StackProps struct {
	awscdk.StackProps
	// Settings is the parsed context (see ParseSettings).
	Settings Settings
}

// NewStack builds the sender stack described in the package comment.
func NewStack(scope constructs.Construct, id string, props *StackProps) awscdk.Stack {
	sp := props.StackProps
	s := props.Settings
	if sp.Description == nil {
		sp.Description = jsii.String("logfan sender: subscribes this account's log groups to the logfan recipient's CloudWatch Logs destination")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	addDestinationRules(stack, s)
	for _, w := range s.Warnings {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("logfan:ignoredContext:"+w.Key), jsii.String(w.Message))
	}
	hb := newHeartbeat(stack, s)
	if hb != nil && s.Mode == ModeAccountPolicy && s.FilterPattern != "" {
		// The account policy selects the heartbeat group like every other
		// group, through the same pattern.
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String(heartbeatPatternWarningID), jsii.String(fmt.Sprintf(
			"%s %q applies to the heartbeat group %s too: unless it matches EventBridge's Scheduled Event JSON, no heartbeat reaches the recipient, which then reports this sender silent",
			CtxFilterPattern, s.FilterPattern, s.HeartbeatLogGroup)))
	}

	var rolePolicy awsiam.Policy
	var roleARN *string
	if s.Organization {
		var role awsiam.Role
		role, rolePolicy = newSubscriptionRole(stack, s)
		roleARN = role.RoleArn()
	}
	switch s.Mode {
	case ModeLogGroups:
		subscribeLogGroups(stack, s, hb, roleARN, rolePolicy)
	case ModeAccountPolicy:
		newAccountPolicy(stack, s, roleARN, rolePolicy)
	}
	addOutputs(stack, s, roleARN)
	return stack
}

// addDestinationRules adds the rules CloudFormation checks when it starts,
// since the stack may be deployed in any account and region: a log group
// can only subscribe to a destination of its own region, and an account
// policy must not be in the recipient's own account.
func addDestinationRules(stack awscdk.Stack, s Settings) {
	dest := s.Destinations[0]
	assertions := []*awscdk.CfnRuleAssertion{{
		Assert:            awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), jsii.String(dest.Region)),
		AssertDescription: jsii.String("Deploy the sender stack in " + dest.Region + ", the region of the destination " + dest.ARN + ": log groups can only subscribe to a destination of their own region."),
	}}
	if s.Mode == ModeAccountPolicy {
		assertions = append(assertions, &awscdk.CfnRuleAssertion{
			Assert:            awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(awscdk.Aws_ACCOUNT_ID(), jsii.String(dest.Account))),
			AssertDescription: jsii.String("An account-level subscription policy in the recipient's own account would feed logfan's own log groups back into the stream; subscribe named log groups (senderMode=log-groups) instead."),
		})
	}
	awscdk.NewCfnRule(stack, jsii.String("DestinationRules"), &awscdk.CfnRuleProps{Assertions: &assertions})
}

// subscribeLogGroups puts one subscription filter per log group and
// destination, and on the heartbeat group (hb, if any) one per
// destination, with a subscription role each waiting for its policy, and
// outputs the groups subscribed.
func subscribeLogGroups(stack awscdk.Stack, s Settings, hb *heartbeat, roleARN *string, rolePolicy awsiam.Policy) {
	for _, g := range s.LogGroups {
		for _, d := range s.Destinations {
			f := awslogs.NewCfnSubscriptionFilter(stack, jsii.String(filterID(g, d.ARN)), &awslogs.CfnSubscriptionFilterProps{
				LogGroupName:   jsii.String(g),
				FilterName:     jsii.String(s.FilterNameFor(d)),
				FilterPattern:  jsii.String(s.FilterPattern),
				DestinationArn: jsii.String(d.ARN),
				RoleArn:        roleARN,
				Distribution:   jsii.String(s.Distribution),
				// The recipient learns each event's account and region
				// from CloudWatch Logs, not from what the sender writes.
				EmitSystemFields: jsii.Strings(SystemFields...),
			})
			if rolePolicy != nil {
				// CloudWatch Logs tests the role when the filter is
				// created: its policy must exist by then, not only the
				// role (which RoleArn already waits for).
				f.Node().AddDependency(rolePolicy)
			}
		}
	}
	if hb != nil {
		for _, d := range s.Destinations {
			f := awslogs.NewCfnSubscriptionFilter(stack, jsii.String(filterID(s.HeartbeatLogGroup, d.ARN)), &awslogs.CfnSubscriptionFilterProps{
				LogGroupName: hb.logGroup.LogGroupName(),
				FilterName:   jsii.String(s.FilterNameFor(d)),
				// Every heartbeat, whatever senderFilterPattern keeps of the other groups.
				FilterPattern:    jsii.String(""),
				DestinationArn:   jsii.String(d.ARN),
				RoleArn:          roleARN,
				Distribution:     jsii.String(s.Distribution),
				EmitSystemFields: jsii.Strings(SystemFields...),
			})
			if rolePolicy != nil {
				f.Node().AddDependency(rolePolicy)
			}
		}
	}
	awscdk.NewCfnOutput(stack, jsii.String("SubscribedLogGroups"), &awscdk.CfnOutputProps{
		Value:       jsii.String(strings.Join(s.LogGroups, ",")),
		Description: jsii.String("Log groups subscribed to the logfan destination"),
	})
}

// newAccountPolicy sets the account-level subscription filter policy that
// selects every log group but the excluded ones; with a subscription role,
// it waits for the role's policy.
func newAccountPolicy(stack awscdk.Stack, s Settings, roleARN *string, rolePolicy awsiam.Policy) {
	// A subscription filter policy document takes DestinationArn,
	// RoleArn, FilterPattern and Distribution only (PutAccountPolicy's
	// API reference; AWS::Logs::AccountPolicy passes the document on):
	// no system fields, so these events reach the recipient without a
	// region (docs/design.md, "Where each event came from").
	doc := map[string]any{"DestinationArn": s.Destinations[0].ARN, "FilterPattern": s.FilterPattern, "Distribution": s.Distribution}
	if roleARN != nil {
		doc["RoleArn"] = roleARN
	}
	props := &awslogs.CfnAccountPolicyProps{
		PolicyName:     jsii.String(s.PolicyName),
		PolicyType:     jsii.String("SUBSCRIPTION_FILTER_POLICY"),
		PolicyDocument: stack.ToJsonString(doc, nil),
		Scope:          jsii.String("ALL"),
	}
	if c := s.SelectionCriteria(); c != "" {
		props.SelectionCriteria = jsii.String(c)
	}
	p := awslogs.NewCfnAccountPolicy(stack, jsii.String("SubscriptionPolicy"), props)
	if rolePolicy != nil {
		p.Node().AddDependency(rolePolicy)
	}
}

// addOutputs outputs the destinations and, in organization mode, the
// subscription role.
func addOutputs(stack awscdk.Stack, s Settings, roleARN *string) {
	awscdk.NewCfnOutput(stack, jsii.String("DestinationArn"), &awscdk.CfnOutputProps{
		Value:       jsii.String(destinationARNs(s)),
		Description: jsii.String("The logfan destination(s) this account's logs are sent to"),
	})
	if roleARN != nil {
		awscdk.NewCfnOutput(stack, jsii.String("SubscriptionRoleArn"), &awscdk.CfnOutputProps{
			Value:       roleARN,
			Description: jsii.String("The role CloudWatch Logs uses for this account's subscriptions (organization mode)"),
		})
	}
}

// heartbeatPatternWarningID marks the synth warning for a filter pattern
// that the account policy applies to the heartbeat group as well.
const heartbeatPatternWarningID = "logfan:heartbeatFilterPattern"

// newSubscriptionRole creates the role CloudWatch Logs assumes in the
// sender account when the destination admits a whole organization: trusted
// by the Logs service for this account's own log groups only (aws:SourceArn,
// against the confused deputy), allowed to put events of exactly the
// subscribed groups. The policy is returned apart, for filters to wait on.
func newSubscriptionRole(stack awscdk.Stack, s Settings) (awsiam.Role, awsiam.Policy) {
	sourceARN := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":logs:"), awscdk.Aws_REGION(), jsii.String(":"), awscdk.Aws_ACCOUNT_ID(), jsii.String(":*"),
	})
	role := awsiam.NewRole(stack, jsii.String("SubscriptionRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewPrincipalWithConditions(awsiam.NewServicePrincipal(jsii.String("logs.amazonaws.com"), nil), &map[string]any{
			"StringLike": map[string]any{"aws:SourceArn": sourceARN},
		}),
		Description: jsii.String("logfan: lets CloudWatch Logs deliver this account's subscribed log groups to the organization's logfan destination"),
	})
	groups := s.LogGroups
	if s.Heartbeat() {
		groups = append(slices.Clone(groups), s.HeartbeatLogGroup)
	}
	if s.Mode == ModeAccountPolicy {
		groups = []string{"*"} // the policy selects groups that do not exist yet
	}
	resources := make([]*string, len(groups))
	for i, g := range groups {
		suffix := ":*"
		if g == "*" {
			suffix = ""
		}
		resources[i] = awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":logs:"), awscdk.Aws_REGION(), jsii.String(":"), awscdk.Aws_ACCOUNT_ID(),
			jsii.String(":log-group:" + g + suffix),
		})
	}
	policy := awsiam.NewPolicy(stack, jsii.String("SubscriptionRolePolicy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("logs:PutLogEvents"),
			Resources: &resources,
		})},
	})
	reason := "CloudWatch Logs puts events into the log streams of the subscribed log groups; the wildcard is the streams of those named groups."
	if s.Mode == ModeAccountPolicy {
		reason = "The account-level subscription policy selects every log group but the excluded ones, including groups created later, so the role cannot name them."
	}
	// Suppressed finding by finding (appliesTo), so any other wildcard still fails the check.
	appliesTo := make([]any, len(groups))
	for i, g := range groups {
		suffix := ":*"
		if g == "*" {
			suffix = ""
		}
		appliesTo[i] = "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:" + g + suffix
	}
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reason), AppliesTo: &appliesTo,
	}}, jsii.Bool(true))
	return role, policy
}

// filterID is a stable logical ID for the filter of group to destination:
// derived from both names, never from a position in the list, so adding or
// removing a group never replaces another group's filter.
func filterID(group, destination string) string {
	h := sha256.Sum256([]byte(group + "\x00" + destination))
	var b strings.Builder
	b.WriteString("Filter")
	upper := true
	for _, r := range group {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if upper && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			if b.Len() < 6+48 {
				b.WriteRune(r)
			}
			upper = false
		default:
			upper = true
		}
	}
	return b.String() + hex.EncodeToString(h[:4])
}

func destinationARNs(s Settings) string {
	arns := make([]string, len(s.Destinations))
	for i, d := range s.Destinations {
		arns[i] = d.ARN
	}
	return strings.Join(arns, ",")
}

// AddToApp adds the sender stack to app, pinned to senderAccount/senderRegion when given.
func AddToApp(app awscdk.App, s Settings) awscdk.Stack {
	props := &StackProps{StackProps: awscdk.StackProps{StackName: jsii.String(s.StackName)}, Settings: s}
	if s.Account != "" || s.Region != "" {
		env := &awscdk.Environment{}
		if s.Account != "" {
			env.Account = jsii.String(s.Account)
		}
		if s.Region != "" {
			env.Region = jsii.String(s.Region)
		}
		props.Env = env
	}
	return NewStack(app, s.StackName, props)
}
