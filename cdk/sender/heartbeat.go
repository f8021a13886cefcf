package sender

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// SystemFields are the fields CloudWatch Logs adds to each event of every
// subscription filter the stack creates (emitSystemFields): the recipient
// attributes an event, and counts a heartbeat, for a region only when
// CloudWatch Logs, not the message, says which region it is.
var SystemFields = []string{"@aws.account", "@aws.region"}

// heartbeat is what the heartbeat resources give the rest of the stack.
type heartbeat struct {
	logGroup awslogs.LogGroup
}

// newHeartbeat writes one event every s.HeartbeatMinutes into the heartbeat
// log group, with no code of ours in the sender account: an EventBridge
// schedule rule whose target is the log group (the event written is
// EventBridge's Scheduled Event JSON, which names the account, the region
// and the time), and the log group resource policy EventBridge needs to
// write there. aws-events-targets' CloudWatchLogGroup would set that policy
// through a custom-resource Lambda function; AWS::Logs::ResourcePolicy does
// it without one. It returns nil when heartbeats are off.
func newHeartbeat(stack awscdk.Stack, s Settings) *heartbeat {
	if !s.Heartbeat() {
		return nil
	}
	group := awslogs.NewLogGroup(stack, jsii.String("HeartbeatLogGroup"), &awslogs.LogGroupProps{
		LogGroupName: jsii.String(s.HeartbeatLogGroup),
		// The copy here only serves to check locally that heartbeats are
		// written; the recipient keeps what it needs.
		Retention:     awslogs.RetentionDays_ONE_WEEK,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// A target names the group by its ARN without the ":*" of GetAtt Arn.
	groupARN := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":logs:"), awscdk.Aws_REGION(), jsii.String(":"), awscdk.Aws_ACCOUNT_ID(),
		jsii.String(":log-group:"), group.LogGroupName(),
	})
	rule := awsevents.NewCfnRule(stack, jsii.String("HeartbeatRule"), &awsevents.CfnRuleProps{
		Description:        jsii.String(fmt.Sprintf("logfan heartbeat: writes EventBridge's scheduled event (account, region, time) into %s every %s, for the recipient to know this sender is alive", s.HeartbeatLogGroup, minutes(s.HeartbeatMinutes))),
		ScheduleExpression: jsii.String(ScheduleExpression(s.HeartbeatMinutes)),
		State:              jsii.String("ENABLED"),
		Targets: &[]any{&awsevents.CfnRule_TargetProperty{
			Id:  jsii.String("HeartbeatLogGroup"),
			Arn: groupARN,
			// A heartbeat is only worth anything until the next one is due:
			// a retried one arriving later would tell the recipient nothing
			// the next one does not (EventBridge's minimum age is 60 s).
			RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
				MaximumEventAgeInSeconds: jsii.Number(float64(max(60, s.HeartbeatMinutes*60))),
				MaximumRetryAttempts:     jsii.Number(3),
			},
		}},
	})
	// EventBridge writes to a log group through the group's resource policy,
	// never through a role. Scoped to this group's streams and to this rule
	// (aws:SourceArn), against the confused deputy. CloudWatch Logs allows
	// ten resource policies per account and region: this is one of them.
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "LogfanHeartbeat",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": []string{"events.amazonaws.com", "delivery.logs.amazonaws.com"}},
			"Action":    []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			"Resource":  group.LogGroupArn(),
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": rule.AttrArn()}},
		}},
	}
	awslogs.NewCfnResourcePolicy(stack, jsii.String("HeartbeatLogGroupPolicy"), &awslogs.CfnResourcePolicyProps{
		// Resource policy names are unique per account and region; the stack name is too.
		PolicyName:     awscdk.Fn_Join(jsii.String(""), &[]*string{awscdk.Aws_STACK_NAME(), jsii.String("-heartbeat")}),
		PolicyDocument: stack.ToJsonString(doc, nil),
	})
	awscdk.NewCfnOutput(stack, jsii.String("HeartbeatLogGroupName"), &awscdk.CfnOutputProps{
		Value:       group.LogGroupName(),
		Description: jsii.String("The log group this stack writes a heartbeat into every " + minutes(s.HeartbeatMinutes) + "; the recipient reports this sender silent when none arrives"),
	})
	return &heartbeat{logGroup: group}
}

// ScheduleExpression is EventBridge's rate expression for a heartbeat
// every n minutes (the unit is singular for 1).
func ScheduleExpression(n int) string {
	return "rate(" + minutes(n) + ")"
}

func minutes(n int) string {
	if n == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", n)
}
