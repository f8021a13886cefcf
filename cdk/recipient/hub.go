package recipient

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/cdk/cdkcontext"
	"github.com/logfan/logfan/shared/config"
)

// Hub mode: CloudWatch Logs centralization copies an organization's log
// groups into log groups of one central account and region, and writes
// only there. A recipient stack deployed in that account subscribes those
// log groups (hubLogGroups) straight to its own stream, next to its
// destinations, with the system fields that name each event's source
// account and region; the consumers make that account the events' owner
// (config.EnvHubAccount, subscription.Attribute).

// CtxHubLogGroups lists, comma-separated, log groups of the stack's own
// account and region to subscribe to its stream: exact names.
const CtxHubLogGroups = "hubLogGroups"

// HubFilterName names the hub's subscription filters.
const HubFilterName = "logfan-hub"

// MaxHubLogGroups bounds hubLogGroups: every group is one resource of the
// stack's template, which CloudFormation limits to 500.
const MaxHubLogGroups = 200

// HubSettings configures hub mode; no log groups, no hub.
type HubSettings struct {
	// LogGroups are the log groups of the stack's account and region whose
	// events the stack's stream receives through subscription filters of
	// its own.
	LogGroups []string
}

// Enabled reports whether the stack subscribes log groups of its own account.
func (h HubSettings) Enabled() bool { return len(h.LogGroups) > 0 }

// parseHubSettings reads hubLogGroups and refuses what cannot work: a
// prefix (CloudFormation cannot list log groups, and the one AWS means of
// covering groups that do not exist yet cannot carry a source account), a
// name twice, and the groups whose events would come back into the stream
// for ever (the stack's own, and those the logs sink writes in this
// region). It runs after the sinks' and routes' settings are parsed.
func parseHubSettings(p *cdkcontext.Parser, s *Settings) {
	s.Hub.LogGroups = p.List(CtxHubLogGroups)
	var loops []string // the group templates the logs sink writes in this region
	if s.Logs.Enabled {
		for _, t := range s.sinkTargets(config.SinkLogs) {
			if t.Region == s.Region {
				loops = append(loops, t.GroupTemplate)
			}
		}
	}
	for i, g := range s.Hub.LogGroups {
		switch {
		case strings.Contains(g, "*"):
			p.Fail(CtxHubLogGroups, g, fmt.Sprintf("exact log group names, not prefixes: CloudFormation cannot list log groups, and an "+
				"account-level subscription policy (which covers groups created later) selects groups only by LogGroupName NOT IN "+
				"and emits no system fields, so every event would lose its source account; list the groups "+
				"(aws logs describe-log-groups --region %s --log-group-name-prefix %s --query 'logGroups[].logGroupName' --output text), "+
				"and deploy again when new ones appear", s.Region, strings.TrimSuffix(g, "*")))
		case !reLogGroup.MatchString(g):
			p.Fail(CtxHubLogGroups, g, "log group names (1-512 of . - _ / # letters digits), comma-separated")
		case slices.Contains(s.Hub.LogGroups[:i], g):
			p.Fail(CtxHubLogGroups, g, "each log group once")
		case strings.HasPrefix(g, s.StackName+"-"):
			p.Fail(CtxHubLogGroups, g, "a log group that is not the stack's own ("+s.StackName+"-...): its functions' logs would come back into the stream for ever")
		default:
			for _, tmpl := range loops {
				if groupTemplateMatches(tmpl, g) {
					p.Fail(CtxHubLogGroups, g, fmt.Sprintf("a log group the logs sink does not write (it writes %s in %s): the events it delivers would come back into the stream for ever", tmpl, s.Region))
					break
				}
			}
		}
	}
	if n := len(s.Hub.LogGroups); n > MaxHubLogGroups {
		p.Fail(CtxHubLogGroups, fmt.Sprintf("%d groups", n), fmt.Sprintf("at most %d log groups (one resource each, of CloudFormation's 500 per template)", MaxHubLogGroups))
	}
}

// newHub subscribes the hub log groups to the stack's stream: one filter
// per group, every event, emitting the system fields that name its source
// account and region, through a role CloudWatch Logs assumes for this
// account and region only. A log group holds at most two subscription
// filters; a group that has two already fails the deploy (docs/deploy.md, "Hub mode").
func newHub(r *recipientStack) {
	if !r.s.Hub.Enabled() {
		return
	}
	s := r.s
	// Confused deputy: CloudWatch Logs may assume the role only when it
	// acts for this account's log groups in this region.
	trust := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{trustStatement(map[string]any{
			"StringLike":   map[string]any{"aws:SourceArn": logsSourceARN(s.Region, s.Account)},
			"StringEquals": map[string]any{"aws:SourceAccount": s.Account},
		})},
	}
	role := awsiam.NewRole(r.stack, jsii.String("HubSubscriptionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("logs.amazonaws.com"), nil),
		Description: jsii.String("Assumed by CloudWatch Logs to put this account's hub log groups (hubLogGroups) into the logfan stream"),
	})
	role.Node().DefaultChild().(awsiam.CfnRole).AddPropertyOverride(jsii.String("AssumeRolePolicyDocument"), trust)
	statements := []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kinesis:PutRecord"),
		Resources: &[]*string{r.stream.stream.StreamArn()},
	})}
	if r.stream.key != nil {
		statements = append(statements, kmsStatement(awsiam.Effect_ALLOW, "StringEquals", viaService("kinesis", s.Region), []string{"kms:GenerateDataKey"}, r.stream.key.KeyArn()))
	}
	policy := awsiam.NewPolicy(r.stack, jsii.String("HubSubscriptionRolePolicy"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: &statements,
	})
	for _, g := range s.Hub.LogGroups {
		f := awslogs.NewCfnSubscriptionFilter(r.stack, jsii.String(hubFilterID(g)), &awslogs.CfnSubscriptionFilterProps{
			LogGroupName:   jsii.String(g),
			FilterName:     jsii.String(HubFilterName),
			FilterPattern:  jsii.String(""),
			DestinationArn: r.stream.stream.StreamArn(),
			RoleArn:        role.RoleArn(),
			Distribution:   jsii.String("ByLogStream"),
			// Centralized events name their source; without these fields
			// they would all be the hub's own.
			EmitSystemFields: jsii.Strings(hubSystemFields...),
		})
		// CloudWatch Logs tests the role when the filter is created: its
		// policy must exist by then, not only the role.
		f.Node().AddDependency(policy)
	}
	awscdk.NewCfnOutput(r.stack, jsii.String("HubLogGroups"), &awscdk.CfnOutputProps{
		Value:       jsii.String(strings.Join(s.Hub.LogGroups, ",")),
		Description: jsii.String("This account's log groups subscribed to the stream (hub mode), their events owned by the source account CloudWatch Logs names"),
	})
	awscdk.NewCfnOutput(r.stack, jsii.String("HubSubscriptionRoleArn"), &awscdk.CfnOutputProps{
		Value:       role.RoleArn(),
		Description: jsii.String("The role CloudWatch Logs uses for the hub's subscription filters (this account and region only)"),
	})
}

// groupTemplateMatches reports whether the logs sink could name a log group
// name with template: {owner} stands for a 12-digit account, every other
// placeholder for any non-empty text.
func groupTemplateMatches(template, name string) bool {
	var re strings.Builder
	re.WriteString("^")
	for rest := template; rest != ""; {
		open := strings.IndexByte(rest, '{')
		end := strings.IndexByte(rest, '}')
		if open < 0 || end < open {
			re.WriteString(regexp.QuoteMeta(rest))
			break
		}
		re.WriteString(regexp.QuoteMeta(rest[:open]))
		if rest[open:end+1] == config.PlaceholderOwner {
			re.WriteString("[0-9]{12}")
		} else {
			re.WriteString(".+")
		}
		rest = rest[end+1:]
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(name)
}

// hubSystemFields are the system fields every hub filter emits.
var hubSystemFields = []string{"@aws.account", "@aws.region"}

// hubFilterID is a stable logical ID for the hub filter of group: derived
// from its name, never from its position, so adding or removing a group
// never replaces another group's filter.
func hubFilterID(group string) string {
	h := sha256.Sum256([]byte(group))
	var b strings.Builder
	b.WriteString("HubFilter")
	upper := true
	for _, c := range group {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			if upper && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			if b.Len() < 9+48 {
				b.WriteRune(c)
			}
			upper = false
		default:
			upper = true
		}
	}
	return b.String() + hex.EncodeToString(h[:4])
}
