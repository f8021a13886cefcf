package doctor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

// senderOptions configure the sender-side checks.
type senderOptions struct {
	// Destination is the recipient's destination ARN the sender subscribes to.
	Destination string
	// LogGroups are the groups to check (default: the sender stack's, else the account policy).
	LogGroups []string
	// Heartbeat is the heartbeat log group (default: the sender stack's, else config.DefaultHeartbeatLogGroup).
	Heartbeat string
	// Mode is config.SenderModeAccounts or config.SenderModeOrganization ("": the sender stack's, else unknown).
	Mode string
	// SenderStack is the sender stack's name (naming.SenderStack).
	SenderStack string
	// Config is the sender's SDK configuration; its region is where the log groups are.
	Config aws.Config
	// Now is the time of the run.
	Now time.Time
}

// sender checks one sender account's side of the subscription.
type sender struct {
	o       senderOptions
	rep     *Report
	dst     arn.ARN
	account string
	logs    *cloudwatchlogs.Client
}

// checkSender runs the sender-side checks.
func checkSender(ctx context.Context, o senderOptions) (*sender, *Report) {
	s := &sender{o: o, rep: &Report{}, logs: cloudwatchlogs.NewFromConfig(o.Config)}
	s.dst, _ = arn.Parse(o.Destination) // checked by the CLI
	s.identity(ctx)
	s.stack(ctx)
	if s.o.Config.Region != s.dst.Region {
		s.rep.fail("region", "logfan doctor sender -region "+s.dst.Region+" -destination "+o.Destination+"   # or, for log groups in "+s.o.Config.Region+", the destination of that region",
			"the log groups checked are in %s, the destination in %s: a log group can only subscribe to a destination of its own region", s.o.Config.Region, s.dst.Region)
	} else {
		s.rep.pass("region", "log groups and destination in %s", s.dst.Region)
	}
	groups := s.o.LogGroups
	if len(groups) == 0 {
		s.accountPolicy(ctx)
	}
	for _, g := range groups {
		s.subscription(ctx, g)
	}
	s.heartbeat(ctx)
	s.permission(ctx, groups)
	return s, s.rep
}

func (s *sender) identity(ctx context.Context) {
	out, err := sts.NewFromConfig(s.o.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		s.rep.fail("identity", "aws sts get-caller-identity", "whose credentials these are cannot be told: %v", err)
		return
	}
	s.account = aws.ToString(out.Account)
	if s.account == s.dst.AccountID {
		s.rep.warn("identity", "", "%s is the recipient's own account (%s): run this with a sender account's credentials", aws.ToString(out.Arn), s.account)
		return
	}
	s.rep.pass("identity", "%s in account %s, subscribing to %s", aws.ToString(out.Arn), s.account, s.o.Destination)
}

// stack reads the sender stack, when there is one: its log groups, its
// heartbeat group and its mode fill what the flags left out.
func (s *sender) stack(ctx context.Context) {
	const check = "sender stack"
	out, err := cloudformation.NewFromConfig(s.o.Config).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(s.o.SenderStack)})
	if err != nil || len(out.Stacks) == 0 {
		s.rep.skip(check, "no stack %s in %s (subscriptions made by hand or with logfan onboard): checking what the flags name", s.o.SenderStack, s.o.Config.Region)
		return
	}
	outputs := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	if len(s.o.LogGroups) == 0 {
		s.o.LogGroups = splitList(outputs["SubscribedLogGroups"])
	}
	if s.o.Heartbeat == "" {
		s.o.Heartbeat = outputs["HeartbeatLogGroupName"]
	}
	if s.o.Mode == "" {
		s.o.Mode = config.SenderModeAccounts
		if outputs["SubscriptionRoleArn"] != "" {
			s.o.Mode = config.SenderModeOrganization
		}
	}
	if d := outputs[naming.OutputDestinationARN]; d != "" && !strings.Contains(d, s.o.Destination) {
		s.rep.warn(check, "make deploy-sender   # with -c senderDestinationArn="+s.o.Destination,
			"%s subscribes to %s, not %s", s.o.SenderStack, d, s.o.Destination)
		return
	}
	s.rep.pass(check, "%s (%s): %d log groups, heartbeat %s, %s mode", s.o.SenderStack, out.Stacks[0].StackStatus, len(s.o.LogGroups), dash(s.o.Heartbeat), s.o.Mode)
}

// putFilter is the command that subscribes group to the destination.
func (s *sender) putFilter(group string) string {
	cmd := "aws logs put-subscription-filter --region " + s.o.Config.Region + " --log-group-name " + shellQuote(group) +
		" --filter-name " + naming.SubscriptionFilter + ` --filter-pattern "" --destination-arn ` + s.o.Destination
	if s.o.Mode == config.SenderModeOrganization {
		cmd += " --role-arn arn:" + s.dst.Partition + ":iam::" + s.account + ":role/<SUBSCRIPTION_ROLE>"
	}
	return cmd
}

// subscription checks one log group's subscription filters.
func (s *sender) subscription(ctx context.Context, group string) {
	check := "subscription " + group
	out, err := s.logs.DescribeSubscriptionFilters(ctx, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(group)})
	if err != nil {
		if notFound(err) {
			s.rep.fail(check, "aws logs create-log-group --region "+s.o.Config.Region+" --log-group-name "+shellQuote(group)+" && "+s.putFilter(group),
				"log group %s does not exist in %s", group, s.o.Config.Region)
			return
		}
		s.rep.fail(check, "aws logs describe-subscription-filters --region "+s.o.Config.Region+" --log-group-name "+shellQuote(group), "%v", err)
		return
	}
	var ours *cwltypes.SubscriptionFilter
	var others []string
	for i, f := range out.SubscriptionFilters {
		if aws.ToString(f.DestinationArn) == s.o.Destination {
			ours = &out.SubscriptionFilters[i]
		} else {
			others = append(others, fmt.Sprintf("%s -> %s", aws.ToString(f.FilterName), aws.ToString(f.DestinationArn)))
		}
	}
	if ours == nil {
		evidence := fmt.Sprintf("no subscription filter of %s points at %s", group, s.o.Destination)
		if len(others) > 0 {
			evidence += " (its filters: " + strings.Join(others, ", ") + ")"
		}
		fix := s.putFilter(group)
		if len(out.SubscriptionFilters) >= 2 {
			evidence += "; it has the two filters a log group may have"
			fix = "aws logs delete-subscription-filter --region " + s.o.Config.Region + " --log-group-name " + shellQuote(group) + " --filter-name NAME && " + fix
		}
		s.rep.fail(check, fix, "%s: its events do not reach the recipient", evidence)
		return
	}
	role := aws.ToString(ours.RoleArn)
	evidence := fmt.Sprintf("filter %s -> %s, pattern %q", aws.ToString(ours.FilterName), s.o.Destination, aws.ToString(ours.FilterPattern))
	switch {
	case s.o.Mode == config.SenderModeOrganization && role == "":
		s.rep.fail(check, s.putFilter(group), "%s without a role ARN, which an organization-mode destination requires (\"Role ARN is required when creating subscription filter against destination with Organization access policy\")", evidence)
	case s.o.Mode == config.SenderModeAccounts && role != "":
		s.rep.fail(check, s.putFilter(group), "%s with role %s, which an account-list destination refuses (\"destinationArn for vendor logs cannot be used with roleArn\")", evidence, role)
	case s.o.Mode == "":
		s.rep.pass(check, "%s, role %q (mode unknown: pass -mode to check the role)", evidence, role)
	default:
		s.rep.pass(check, "%s, role %s", evidence, dash(role))
	}
}

// accountPolicy checks the account-level subscription policy, when no log group is named.
func (s *sender) accountPolicy(ctx context.Context) {
	const check = "account policy"
	out, err := s.logs.DescribeAccountPolicies(ctx, &cloudwatchlogs.DescribeAccountPoliciesInput{PolicyType: cwltypes.PolicyTypeSubscriptionFilterPolicy})
	if err != nil {
		s.rep.skip(check, "no -log-group given and the account's subscription policies cannot be read here: %v", err)
		return
	}
	for _, p := range out.AccountPolicies {
		if strings.Contains(aws.ToString(p.PolicyDocument), s.o.Destination) {
			s.rep.pass(check, "account policy %s subscribes the account's log groups (selection %q) to %s", aws.ToString(p.PolicyName), aws.ToString(p.SelectionCriteria), s.o.Destination)
			return
		}
	}
	s.rep.fail(check, s.onboard("-log-group GROUP")+"   # (or -account-policy) prints the subscription commands; or pass -log-group to check groups",
		"no -log-group given, and none of the %d account subscription policies points at %s", len(out.AccountPolicies), s.o.Destination)
}

// onboard is the logfan onboard command for this sender, with what names
// its log groups (-log-group G, or -account-policy).
func (s *sender) onboard(groups string) string {
	account := s.account
	if account == "" {
		account = "ACCOUNT"
	}
	return fmt.Sprintf("logfan onboard -account %s -region %s -destination-arn %s %s", account, s.o.Config.Region, s.o.Destination, groups)
}

// heartbeat checks the heartbeat log group, its subscription and its schedule.
func (s *sender) heartbeat(ctx context.Context) {
	group := s.o.Heartbeat
	if group == "" {
		group = config.DefaultHeartbeatLogGroup
	}
	const check = "heartbeat"
	onboard := s.onboard("-log-group GROUP") + "   # prints the heartbeat's commands too; or deploy the sender stack"
	streams, err := s.logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{
		LogGroupName: aws.String(group), OrderBy: cwltypes.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(1),
	})
	if err != nil {
		if notFound(err) {
			s.rep.fail(check, onboard, "heartbeat log group %s does not exist in %s: the recipient will report this sender silent", group, s.o.Config.Region)
			return
		}
		s.rep.fail(check, onboard, "heartbeat log group %s: %v", group, err)
		return
	}
	last := "no heartbeat written yet"
	if len(streams.LogStreams) > 0 && streams.LogStreams[0].LastEventTimestamp != nil {
		last = "last heartbeat " + ago(s.o.Now, time.UnixMilli(aws.ToInt64(streams.LogStreams[0].LastEventTimestamp)))
	}
	target := "arn:" + s.dst.Partition + ":logs:" + s.o.Config.Region + ":" + s.account + ":log-group:" + group
	eb := eventbridge.NewFromConfig(s.o.Config)
	rules, err := eb.ListRuleNamesByTarget(ctx, &eventbridge.ListRuleNamesByTargetInput{TargetArn: aws.String(target)})
	if err != nil {
		s.rep.fail(check, onboard, "schedule of %s: %v", group, err)
	} else {
		var enabled, disabled []string
		for _, name := range rules.RuleNames {
			r, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
			if err != nil {
				continue
			}
			if r.State == "ENABLED" {
				enabled = append(enabled, name+" ("+aws.ToString(r.ScheduleExpression)+")")
			} else {
				disabled = append(disabled, name)
			}
		}
		switch {
		case len(enabled) > 0:
			s.rep.pass(check, "%s written by %s; %s", group, strings.Join(enabled, ", "), last)
		case len(disabled) > 0:
			s.rep.fail(check, "aws events enable-rule --region "+s.o.Config.Region+" --name "+disabled[0], "the rule writing %s is disabled (%s): the recipient will report this sender silent; %s", group, strings.Join(disabled, ", "), last)
		default:
			s.rep.fail(check, onboard, "no EventBridge rule writes %s (target %s): the recipient will report this sender silent; %s", group, target, last)
		}
	}
	s.subscription(ctx, group)
}

// permission asks IAM whether the caller may call logs:PutSubscriptionFilter.
func (s *sender) permission(ctx context.Context, groups []string) {
	const check = "permission"
	id, err := sts.NewFromConfig(s.o.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		s.rep.skip(check, "identity unknown: %v", err)
		return
	}
	caller, _ := arn.Parse(aws.ToString(id.Arn))
	principal := aws.ToString(id.Arn)
	c := iam.NewFromConfig(s.o.Config)
	switch {
	case caller.Resource == "root":
		s.rep.skip(check, "the account's root user may call anything; IAM simulates only users and roles")
		return
	case strings.HasPrefix(caller.Resource, "assumed-role/"):
		name := strings.Split(caller.Resource, "/")[1]
		role, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			s.rep.skip(check, "cannot read the caller's role %s: %v", name, err)
			return
		}
		principal = aws.ToString(role.Role.Arn)
	}
	resources := []string{s.o.Destination}
	for _, g := range groups {
		resources = append(resources, "arn:"+s.dst.Partition+":logs:"+s.o.Config.Region+":"+s.account+":log-group:"+g+":*")
	}
	out, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(principal), ActionNames: []string{"logs:PutSubscriptionFilter"}, ResourceArns: resources,
	})
	if err != nil {
		s.rep.skip(check, "IAM cannot tell here (SimulatePrincipalPolicy failed: %v)", err)
		return
	}
	var denied []string
	for _, r := range out.EvaluationResults {
		for _, rr := range r.ResourceSpecificResults {
			if rr.EvalResourceDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed {
				denied = append(denied, aws.ToString(rr.EvalResourceName)+" ("+string(rr.EvalResourceDecision)+")")
			}
		}
		if len(r.ResourceSpecificResults) == 0 && r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed {
			denied = append(denied, aws.ToString(r.EvalResourceName)+" ("+string(r.EvalDecision)+")")
		}
	}
	if len(denied) > 0 {
		s.rep.fail(check, "aws iam put-role-policy ...   # allow logs:PutSubscriptionFilter on the log groups and "+s.o.Destination+" for "+principal,
			"%s may not call logs:PutSubscriptionFilter on %s (\"User with accountId: %s is not authorized to perform: logs:PutSubscriptionFilter\")", principal, strings.Join(denied, ", "), s.account)
		return
	}
	s.rep.pass(check, "%s may call logs:PutSubscriptionFilter on %s (IAM policy simulation; the destination's access policy is the recipient's to check)", principal, strings.Join(resources, ", "))
}
