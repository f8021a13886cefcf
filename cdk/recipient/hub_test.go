package recipient

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/shared/config"
)

// hubStack: hub mode (two of the account's own log groups, the heartbeat
// group among them) next to a sender account, with a created stream key.
func hubStack(t *testing.T) *synthesized {
	return synth(t, "hub", map[string]any{
		CtxSenderAccounts:   "111111111111",
		CtxHubLogGroups:     "/aws/lambda/orders,/logfan/heartbeat",
		CtxStreamEncryption: EncryptionKMS,
	})
}

// TestHubSubscriptions: every hub log group gets one filter to the stream,
// of every event, emitting the system fields, through a role CloudWatch
// Logs may assume only for this account and region, allowed to put into
// the stream alone; the consumers trust this account's payloads to name
// their source; the Glue table names owners at query time.
func TestHubSubscriptions(t *testing.T) {
	s := hubStack(t)
	streamID, _ := s.only(t, "AWS::Kinesis::Stream")
	filters := s.resources("AWS::Logs::SubscriptionFilter")
	var groups []string
	var roleRef string
	for id, f := range filters {
		p := props(f)
		groups = append(groups, p["LogGroupName"].(string))
		if p["FilterName"] != HubFilterName || p["FilterPattern"] != "" || p["Distribution"] != "ByLogStream" ||
			compact(p["EmitSystemFields"]) != `["@aws.account","@aws.region"]` ||
			render(p["DestinationArn"]) != "<"+streamID+".Arn>" {
			t.Errorf("filter %s: %s", id, compact(p))
		}
		if roleRef = render(p["RoleArn"]); !strings.HasPrefix(roleRef, "<HubSubscriptionRole") {
			t.Errorf("filter %s role %s", id, roleRef)
		}
		if deps := compact(f["DependsOn"]); !strings.Contains(deps, "HubSubscriptionRolePolicy") {
			t.Errorf("filter %s does not wait for the role's policy: %s", id, deps)
		}
	}
	slices.Sort(groups)
	if strings.Join(groups, ",") != "/aws/lambda/orders,/logfan/heartbeat" {
		t.Fatalf("hub filters on %v", groups)
	}
	// AND the role's trust is CloudWatch Logs for this account and region only
	var role map[string]any
	for id, r := range s.resources("AWS::IAM::Role") {
		if strings.HasPrefix(id, "HubSubscriptionRole") {
			role = r
		}
	}
	if role == nil {
		t.Fatal("no hub role")
	}
	want := `{"Statement":[{"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"},"StringLike":{"aws:SourceArn":"arn:aws:logs:us-east-1:123456789012:*"}},"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"}}],"Version":"2012-10-17"}`
	if got := compact(props(role)["AssumeRolePolicyDocument"]); got != want {
		t.Errorf("trust policy\n got %s\nwant %s", got, want)
	}
	var roleID string
	for id := range s.resources("AWS::IAM::Role") {
		if strings.HasPrefix(id, "HubSubscriptionRole") {
			roleID = id
		}
	}
	actions := actionsOn(s.policyStatementsOf(roleID))
	if len(actions) != 2 || !slices.Equal(actions["<"+streamID+".Arn>"], []string{"kinesis:PutRecord"}) {
		t.Errorf("hub role may %v", actions)
	}
	// AND every consumer trusts this account's payloads (and only in hub mode)
	for _, sink := range s.settings.EnabledSinks() {
		env := props(s.function(t, sink))["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env[config.EnvHubAccount] != s.settings.Account {
			t.Errorf("%s: %s=%v", sink, config.EnvHubAccount, env[config.EnvHubAccount])
		}
		plain := props(defaultStack(t).function(t, sink))["Environment"].(map[string]any)["Variables"].(map[string]any)
		if _, set := plain[config.EnvHubAccount]; set {
			t.Errorf("%s outside hub mode: %s is set", sink, config.EnvHubAccount)
		}
	}
	// AND the owner partition is injected, whatever the sender mode
	in := s.glueTable(t, nil)
	p := in["Parameters"].(map[string]any)
	if p["projection.owner.type"] != "injected" || p["projection.owner.values"] != noValue {
		t.Errorf("owner projection %v %v", p["projection.owner.type"], p["projection.owner.values"])
	}
	// AND the outputs name the groups and the role
	s.template.HasOutput(jsii.String("HubLogGroups"), map[string]any{"Value": "/aws/lambda/orders,/logfan/heartbeat"})
	s.template.HasOutput(jsii.String("HubSubscriptionRoleArn"), map[string]any{})
	// AND a stack without hubLogGroups has none of it
	if n := len(defaultStack(t).resources("AWS::Logs::SubscriptionFilter")); n != 0 {
		t.Errorf("%d subscription filters without hubLogGroups", n)
	}
}

// TestGroupTemplateMatches: the loop check's reading of a log-group template.
func TestGroupTemplateMatches(t *testing.T) {
	for _, c := range []struct {
		tmpl, name string
		want       bool
	}{
		{"/logfan/{owner}/{logGroup}", "/logfan/111111111111/aws/lambda/x", true},
		{"/logfan/{owner}/{logGroup}", "/logfan/heartbeat", false},
		{"/logfan/{owner}/{logGroup}", "/logfan/111111111111/", false},
		{"/org/{logGroup}", "/org/a.b", true},
		{"/org.x/{logGroup}", "/orgAx/y", false},
	} {
		if got := groupTemplateMatches(c.tmpl, c.name); got != c.want {
			t.Errorf("%s ~ %s: %v", c.tmpl, c.name, got)
		}
	}
}

// compact is v as compact JSON.
func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestHubLogGroupFilterIDsAreStable: a group's filter keeps its logical ID
// when other groups come or go.
func TestHubLogGroupFilterIDsAreStable(t *testing.T) {
	a, b := hubFilterID("/aws/lambda/orders"), hubFilterID("/aws/lambda/orders-")
	if a == b || !strings.HasPrefix(a, "HubFilterAwsLambdaOrders") {
		t.Errorf("ids %s %s", a, b)
	}
}

// TestHubSettings refuses the log groups that cannot work, each naming why.
func TestHubSettings(t *testing.T) {
	base := map[string]any{CtxSenderAccounts: "111111111111"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	s, err := ParseSettings(lookup(with(CtxHubLogGroups, "/aws/lambda/orders, /logfan/heartbeat")))
	if err != nil || !slices.Equal(s.Hub.LogGroups, []string{"/aws/lambda/orders", "/logfan/heartbeat"}) {
		t.Fatalf("%v %v", s.Hub.LogGroups, err)
	}
	many := make([]string, MaxHubLogGroups+1)
	for i := range many {
		many[i] = fmt.Sprintf("/g/%d", i)
	}
	for _, c := range []struct {
		name string
		ctx  map[string]any
		want string
	}{
		{"a prefix", with(CtxHubLogGroups, "/aws/lambda/*"), "describe-log-groups --region us-east-1 --log-group-name-prefix /aws/lambda/"},
		{"not a name", with(CtxHubLogGroups, "/a b"), "log group names"},
		{"twice", with(CtxHubLogGroups, "/a,/a"), "each log group once"},
		{"the stack's own", with(CtxHubLogGroups, "LogfanRecipient-S3FunctionLogs1234-abcd"), "come back into the stream for ever"},
		{"where the logs sink writes", with(CtxHubLogGroups, "/logfan/111111111111/app"), "the logs sink does not write (it writes /logfan/{owner}/{logGroup} in us-east-1)"},
		{"where a route's logs target writes", with(CtxHubLogGroups, "/security/x", CtxRoutes, `[{"name":"sec","match":{"owners":["111111111111"]},"to":[{"sink":"logs","groupTemplate":"/security/{logGroup}","sharedGroup":true}]},{"name":"rest","to":["s3"]}]`),
			"it writes /security/{logGroup} in us-east-1"},
		{"too many", with(CtxHubLogGroups, strings.Join(many, ",")), fmt.Sprintf("at most %d log groups", MaxHubLogGroups)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSettings(lookup(c.ctx))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), CtxHubLogGroups) {
				t.Errorf("error %v, want one naming %s: %q", err, CtxHubLogGroups, c.want)
			}
		})
	}
	// The logs sink writing in another region is no loop.
	if _, err := ParseSettings(lookup(with(CtxHubLogGroups, "/logfan/111111111111/app", CtxLogsRegion, "eu-west-1"))); err != nil {
		t.Errorf("logs sink in eu-west-1: %v", err)
	}
}
