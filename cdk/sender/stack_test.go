//lint:file-ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage, deprecated in favour of a JavaScript-only type that aws-cdk-go does not generate yet.

package sender

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

func TestMain(m *testing.M) {
	// jsii warns about Node 20 on every start; the Node version is the machine's.
	for k, v := range map[string]string{"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"} {
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// synthesized is one synthesized sender stack.
type synthesized struct {
	stack    awscdk.Stack
	template assertions.Template
	json     map[string]any
}

// synth builds the stack from context kv with cdk-nag's AwsSolutions checks applied.
func synth(t *testing.T, kv map[string]any) *synthesized {
	t.Helper()
	s, err := ParseSettings(ctx(kv))
	if err != nil || s == nil {
		t.Fatalf("settings: %v", err)
	}
	app := awscdk.NewApp(nil)
	stack := AddToApp(app, *s)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	tmpl := assertions.Template_FromStack(stack, nil)
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return &synthesized{stack: stack, template: tmpl, json: doc}
}

// resources returns the template's resources of type typ, by logical ID.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// nagClean asserts cdk-nag's AwsSolutions pack found nothing unsuppressed.
func (s *synthesized) nagClean(t *testing.T) {
	t.Helper()
	a := assertions.Annotations_FromStack(s.stack)
	for _, level := range []*[]*cxapi.SynthesisMessage{
		a.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))),
		a.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))),
	} {
		for _, m := range *level {
			t.Errorf("cdk-nag: %s: %v", *m.Id, m.Entry.Data)
		}
	}
}

// cfnLint runs cfn-lint on the template when it is installed (make test installs it).
func (s *synthesized) cfnLint(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Log("cfn-lint not installed: skipped")
		return
	}
	raw, _ := json.Marshal(s.json)
	path := filepath.Join(t.TempDir(), "sender.template.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--regions", "eu-west-1", "--", path).CombinedOutput(); err != nil {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
}

func TestLogGroupsMode(t *testing.T) {
	// GIVEN three log groups and one destination (account-list mode)
	s := synth(t, map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/aws/lambda/orders,/app/api,/vpc/flow"})
	// THEN each group gets one filter of every event to the destination, without a role,
	// emitting the system fields that name each event's account and region
	// (and the heartbeat group one of its own)
	s.template.ResourceCountIs(jsii.String("AWS::Logs::SubscriptionFilter"), jsii.Number(3+1))
	for _, g := range []string{"/aws/lambda/orders", "/app/api", "/vpc/flow"} {
		s.template.HasResourceProperties(jsii.String("AWS::Logs::SubscriptionFilter"), map[string]any{
			"LogGroupName": g, "FilterName": "logfan", "FilterPattern": "", "DestinationArn": destEU,
			"Distribution": "ByLogStream", "RoleArn": assertions.Match_Absent(),
			"EmitSystemFields": []any{"@aws.account", "@aws.region"},
		})
	}
	for id, f := range s.resources("AWS::Logs::SubscriptionFilter") {
		if got := mustJSON(f["Properties"].(map[string]any)["EmitSystemFields"]); got != `["@aws.account","@aws.region"]` {
			t.Errorf("filter %s emits %s", id, got)
		}
	}
	s.template.ResourceCountIs(jsii.String("AWS::IAM::Role"), jsii.Number(0))
	s.template.ResourceCountIs(jsii.String("AWS::Logs::AccountPolicy"), jsii.Number(0))
	// AND the deploy fails early outside the destination's region
	rule := s.json["Rules"].(map[string]any)["DestinationRules"].(map[string]any)
	assert := rule["Assertions"].([]any)[0].(map[string]any)["Assert"]
	if want := `{"Fn::Equals":[{"Ref":"AWS::Region"},"eu-west-1"]}`; mustJSON(assert) != want {
		t.Fatalf("region rule %s, want %s", mustJSON(assert), want)
	}
	s.template.HasOutput(jsii.String("DestinationArn"), map[string]any{"Value": destEU})
	s.nagClean(t)
	s.cfnLint(t)
}

func TestTwoDestinationsGiveTwoNamedFiltersPerGroup(t *testing.T) {
	// GIVEN two destinations of the region
	s := synth(t, map[string]any{CtxDestinationARN: destEU + "," + destEU2, CtxLogGroups: "/app/api", CtxFilterPattern: "ERROR", CtxDistribution: "Random"})
	// THEN the group has exactly two filters, named after their destinations
	filters := s.resources("AWS::Logs::SubscriptionFilter")
	var names []string
	for _, f := range filters {
		p := f["Properties"].(map[string]any)
		if p["LogGroupName"] != "/app/api" {
			continue // the heartbeat group's (TestHeartbeatInLogGroupsMode)
		}
		names = append(names, p["FilterName"].(string)+"->"+p["DestinationArn"].(string))
		if p["FilterPattern"] != "ERROR" || p["Distribution"] != "Random" {
			t.Errorf("filter %v", p)
		}
	}
	sort.Strings(names)
	if want := []string{"logfan-audit->" + destEU2, "logfan-logfan-destination->" + destEU}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("filters %v, want %v", names, want)
	}
}

func TestOrganizationModeSubscriptionRole(t *testing.T) {
	// GIVEN an organization-mode destination
	s := synth(t, map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/app/api,/app/worker", CtxOrganization: true})
	roles := s.resources("AWS::IAM::Role")
	if len(roles) != 1 {
		t.Fatalf("%d roles", len(roles))
	}
	var roleID string
	for id, r := range roles {
		roleID = id
		// THEN CloudWatch Logs may assume it, for this account's log groups only
		trust := mustJSON(r["Properties"].(map[string]any)["AssumeRolePolicyDocument"])
		for _, want := range []string{`"Service":"logs.amazonaws.com"`, `"StringLike":{"aws:SourceArn":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":logs:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":*"]]}}`} {
			if !strings.Contains(trust, want) {
				t.Errorf("trust policy %s lacks %s", trust, want)
			}
		}
	}
	// AND it may put events into exactly the subscribed groups
	policies := s.resources("AWS::IAM::Policy")
	if len(policies) != 1 {
		t.Fatalf("%d policies", len(policies))
	}
	var policyID string
	for id, p := range policies {
		policyID = id
		doc := mustJSON(p["Properties"].(map[string]any)["PolicyDocument"])
		for _, want := range []string{`"Action":"logs:PutLogEvents"`, `":log-group:/app/api:*"`, `":log-group:/app/worker:*"`} {
			if !strings.Contains(doc, want) {
				t.Errorf("permissions %s lack %s", doc, want)
			}
		}
	}
	// AND every filter uses the role and waits for its policy
	for id, f := range s.resources("AWS::Logs::SubscriptionFilter") {
		if got := mustJSON(f["Properties"].(map[string]any)["RoleArn"]); got != `{"Fn::GetAtt":["`+roleID+`","Arn"]}` {
			t.Errorf("%s RoleArn %s", id, got)
		}
		// (the role itself through RoleArn's GetAtt)
		if deps := mustJSON(f["DependsOn"]); !strings.Contains(deps, policyID) {
			t.Errorf("%s depends on %s, want the role's policy", id, deps)
		}
	}
	s.nagClean(t)
	s.cfnLint(t)
}

func TestAccountPolicyMode(t *testing.T) {
	// GIVEN account-policy mode excluding two groups, organization mode on
	s := synth(t, map[string]any{CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxExcludeLogGroups: "/aws/lambda/noisy,/own/group", CtxOrganization: "true"})
	// THEN one subscription filter policy selects every group but those
	s.template.ResourceCountIs(jsii.String("AWS::Logs::SubscriptionFilter"), jsii.Number(0))
	s.template.HasResourceProperties(jsii.String("AWS::Logs::AccountPolicy"), map[string]any{
		"PolicyName": "logfan-subscription", "PolicyType": "SUBSCRIPTION_FILTER_POLICY", "Scope": "ALL",
		"SelectionCriteria": `LogGroupName NOT IN ["/aws/lambda/noisy", "/own/group"]`,
	})
	for _, p := range s.resources("AWS::Logs::AccountPolicy") {
		doc := mustJSON(p["Properties"].(map[string]any)["PolicyDocument"])
		for _, want := range []string{`\"DestinationArn\":\"` + destEU + `\"`, `\"FilterPattern\":\"\"`, `\"Distribution\":\"ByLogStream\"`, `\"RoleArn\":\"`, `"Fn::GetAtt"`} {
			if !strings.Contains(doc, want) {
				t.Errorf("policy document %s lacks %s", doc, want)
			}
		}
		// AND no attribute PutAccountPolicy does not document (it takes no system fields)
		if strings.Contains(doc, "System") {
			t.Errorf("policy document %s names system fields, which subscription policies do not take", doc)
		}
	}
	// AND the deploy refuses the recipient's own account
	rules := mustJSON(s.json["Rules"])
	if !strings.Contains(rules, `{"Fn::Not":[{"Fn::Equals":[{"Ref":"AWS::AccountId"},"999999999999"]}]}`) {
		t.Fatalf("rules %s", rules)
	}
	s.nagClean(t)
	s.cfnLint(t)
}

func TestAddingAGroupReplacesNoFilter(t *testing.T) {
	// GIVEN a stack with two groups WHEN a third is onboarded
	before := synth(t, map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/b,/c"})
	after := synth(t, map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/a,/b,/c", CtxAccount: "222222222222", CtxRegion: "eu-west-1"})
	// THEN the earlier filters keep their logical IDs (CloudFormation updates nothing there)
	for id := range before.resources("AWS::Logs::SubscriptionFilter") {
		if _, ok := after.resources("AWS::Logs::SubscriptionFilter")[id]; !ok {
			t.Errorf("filter %s would be replaced", id)
		}
	}
	if n := len(after.resources("AWS::Logs::SubscriptionFilter")); n != 3+1 {
		t.Fatalf("%d filters", n)
	}
	// AND a pinned environment lands in the stack
	if acc := *after.stack.Account(); acc != "222222222222" {
		t.Fatalf("account %s", acc)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// heartbeatResources returns the heartbeat's log group, rule and resource policy, failing unless there is exactly one of each.
func (s *synthesized) heartbeatResources(t *testing.T) (groupID string, group, rule, policy map[string]any) {
	t.Helper()
	one := func(typ string) (string, map[string]any) {
		rs := s.resources(typ)
		if len(rs) != 1 {
			t.Fatalf("%d %s, want 1", len(rs), typ)
		}
		for id, r := range rs {
			return id, r["Properties"].(map[string]any)
		}
		return "", nil
	}
	groupID, group = one("AWS::Logs::LogGroup")
	_, rule = one("AWS::Events::Rule")
	_, policy = one("AWS::Logs::ResourcePolicy")
	return groupID, group, rule, policy
}

// checkHeartbeat asserts the heartbeat resources common to both modes:
// the group, a schedule rule targeting it, and the resource policy
// letting exactly that rule write into it.
func (s *synthesized) checkHeartbeat(t *testing.T, group string, rate string) string {
	t.Helper()
	groupID, g, rule, policy := s.heartbeatResources(t)
	if g["LogGroupName"] != group || g["RetentionInDays"] != float64(7) {
		t.Errorf("log group %v", g)
	}
	if rule["ScheduleExpression"] != rate || rule["State"] != "ENABLED" {
		t.Errorf("rule %v", rule)
	}
	targets := rule["Targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("targets %v", targets)
	}
	target := mustJSON(targets[0])
	// The target is the group's ARN (no code of ours runs: no Lambda, no role on the target)
	if !strings.Contains(target, `":log-group:",{"Ref":"`+groupID+`"}`) || strings.Contains(target, "RoleArn") {
		t.Errorf("target %s", target)
	}
	s.template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(0))
	s.template.ResourceCountIs(jsii.String("AWS::CloudFormation::CustomResource"), jsii.Number(0))
	doc := mustJSON(policy["PolicyDocument"])
	for _, want := range []string{
		`\"Service\":[\"events.amazonaws.com\",\"delivery.logs.amazonaws.com\"]`,
		`\"Action\":[\"logs:CreateLogStream\",\"logs:PutLogEvents\"]`,
		`\"Resource\":\"",{"Fn::GetAtt":["` + groupID + `","Arn"]}`,
		`\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":\"",{"Fn::GetAtt":["HeartbeatRule","Arn"]}`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("resource policy %s lacks %s", doc, want)
		}
	}
	if name := mustJSON(policy["PolicyName"]); !strings.Contains(name, `{"Ref":"AWS::StackName"},"-heartbeat"`) {
		t.Errorf("policy name %s", name)
	}
	s.template.HasOutput(jsii.String("HeartbeatLogGroupName"), map[string]any{"Value": map[string]any{"Ref": groupID}})
	return groupID
}

func TestHeartbeatInLogGroupsMode(t *testing.T) {
	// GIVEN log-groups mode with two destinations, a filter pattern, the default heartbeat
	s := synth(t, map[string]any{CtxDestinationARN: destEU + "," + destEU2, CtxLogGroups: "/app/api", CtxFilterPattern: "ERROR"})
	// THEN a heartbeat is written every 5 minutes into /logfan/heartbeat
	groupID := s.checkHeartbeat(t, "/logfan/heartbeat", "rate(5 minutes)")
	// AND the group has a filter of its own per destination, passing every
	// event whatever the pattern, with the system fields CloudWatch Logs sets
	var hb []string
	for _, f := range s.resources("AWS::Logs::SubscriptionFilter") {
		p := f["Properties"].(map[string]any)
		if mustJSON(p["LogGroupName"]) != `{"Ref":"`+groupID+`"}` {
			if mustJSON(p["EmitSystemFields"]) != `["@aws.account","@aws.region"]` || p["FilterPattern"] != "ERROR" {
				t.Errorf("a subscribed group's filter changed: %v", p)
			}
			continue
		}
		hb = append(hb, p["DestinationArn"].(string))
		if p["FilterPattern"] != "" || mustJSON(p["EmitSystemFields"]) != `["@aws.account","@aws.region"]` {
			t.Errorf("heartbeat filter %v", p)
		}
	}
	sort.Strings(hb)
	if strings.Join(hb, ",") != destEU2+","+destEU {
		t.Fatalf("heartbeat filters to %v", hb)
	}
	s.nagClean(t)
	s.cfnLint(t)
}

func TestHeartbeatInAccountPolicyMode(t *testing.T) {
	// GIVEN account-policy mode in organization mode, a heartbeat every minute into a group of one's choosing
	s := synth(t, map[string]any{CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxExcludeLogGroups: "/noisy", CtxOrganization: true,
		CtxHeartbeatMinutes: "1", CtxHeartbeatLogGroup: "/platform/alive"})
	// THEN the heartbeat is written every minute
	s.checkHeartbeat(t, "/platform/alive", "rate(1 minute)")
	// AND it reaches the destination through the account policy: no filter of its own, not excluded
	s.template.ResourceCountIs(jsii.String("AWS::Logs::SubscriptionFilter"), jsii.Number(0))
	s.template.HasResourceProperties(jsii.String("AWS::Logs::AccountPolicy"), map[string]any{"SelectionCriteria": `LogGroupName NOT IN ["/noisy"]`})
	// AND retries of a heartbeat stop once the next one is due
	_, _, rule, _ := s.heartbeatResources(t)
	if got := mustJSON(rule["Targets"].([]any)[0].(map[string]any)["RetryPolicy"]); got != `{"MaximumEventAgeInSeconds":60,"MaximumRetryAttempts":3}` {
		t.Errorf("retry policy %s", got)
	}
	s.nagClean(t)
	s.cfnLint(t)
	// AND without a filter pattern there is nothing to warn about
	if w := assertions.Annotations_FromStack(s.stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*heartbeat group.*"))); len(*w) != 0 {
		t.Errorf("warnings %v", *w)
	}
}

func TestHeartbeatWarnsOfAnAccountPolicyPattern(t *testing.T) {
	// GIVEN account-policy mode with a filter pattern
	s := synth(t, map[string]any{CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxFilterPattern: "ERROR"})
	// THEN synth warns that the pattern may drop the heartbeats
	w := assertions.Annotations_FromStack(s.stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*applies to the heartbeat group /logfan/heartbeat.*")))
	if len(*w) != 1 {
		t.Fatalf("%d warnings", len(*w))
	}
}

func TestHeartbeatOff(t *testing.T) {
	for _, mode := range []string{ModeLogGroups, ModeAccountPolicy} {
		t.Run(mode, func(t *testing.T) {
			// GIVEN senderHeartbeatMinutes=0
			kv := map[string]any{CtxDestinationARN: destEU, CtxMode: mode, CtxHeartbeatMinutes: float64(0)}
			if mode == ModeLogGroups {
				kv[CtxLogGroups] = "/app/api"
			}
			s := synth(t, kv)
			// THEN there is no heartbeat resource at all
			for _, typ := range []string{"AWS::Logs::LogGroup", "AWS::Events::Rule", "AWS::Logs::ResourcePolicy"} {
				s.template.ResourceCountIs(jsii.String(typ), jsii.Number(0))
			}
			if mode == ModeLogGroups {
				s.template.ResourceCountIs(jsii.String("AWS::Logs::SubscriptionFilter"), jsii.Number(1))
			}
			if _, ok := s.json["Outputs"].(map[string]any)["HeartbeatLogGroupName"]; ok {
				t.Error("heartbeat output without a heartbeat")
			}
		})
	}
}

func TestHeartbeatGroupInTheOrganizationRole(t *testing.T) {
	// GIVEN log-groups mode in organization mode
	s := synth(t, map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/app/api", CtxOrganization: true})
	// THEN the subscription role may put the heartbeat group's events too, and its filter uses the role
	for _, p := range s.resources("AWS::IAM::Policy") {
		if doc := mustJSON(p["Properties"].(map[string]any)["PolicyDocument"]); !strings.Contains(doc, `":log-group:/logfan/heartbeat:*"`) {
			t.Errorf("permissions %s lack the heartbeat group", doc)
		}
	}
	for id, f := range s.resources("AWS::Logs::SubscriptionFilter") {
		if f["Properties"].(map[string]any)["RoleArn"] == nil {
			t.Errorf("filter %s without the role", id)
		}
	}
	s.nagClean(t)
}
