package recipient

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/cdk/sender"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
)

const testEmail = "oncall@example.com"

// healthStack: sender health configured away from every default, the S3
// sink off (so Firehose writes the table), one regional destination, a
// created alarm topic with an e-mail subscription.
func healthStack(t *testing.T) *synthesized {
	return synth(t, "health", map[string]any{
		CtxSenderAccounts:         "111111111111,222222222222",
		CtxDestinationRegions:     testRegion1,
		CtxS3Enabled:              false,
		CtxHeartbeatLogGroup:      "/logfan/heartbeat,/platform/alive",
		CtxHeartbeatMinutes:       2.0,
		CtxSilentAfterMinutes:     "30",
		CtxForgetSendersAfterDays: 3.0,
		CtxExpectedSenders:        "444444444444,333333333333",
		CtxAlarmEmail:             testEmail,
	})
}

// healthVariants are checked by cdk-nag and cfn-lint like allVariants.
var healthVariants = map[string]func(*testing.T) *synthesized{"health": healthStack}

func TestHealthTable(t *testing.T) {
	// GIVEN the default stack
	s := defaultStack(t)
	// THEN the health table has the contract's key schema, on demand,
	// encrypted, with TTL and point-in-time recovery
	s.template.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"KeySchema": []any{
			map[string]any{"AttributeName": "pk", "KeyType": "HASH"},
			map[string]any{"AttributeName": "sk", "KeyType": "RANGE"},
		},
		"AttributeDefinitions": []any{
			map[string]any{"AttributeName": "pk", "AttributeType": "S"},
			map[string]any{"AttributeName": "sk", "AttributeType": "S"},
		},
		"BillingMode":                      "PAY_PER_REQUEST",
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": "expires", "Enabled": true},
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
	})
	// AND the ledger's table is a separate one
	s.template.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(2))
}

// healthTableID returns the health table's logical ID.
func (s *synthesized) healthTableID(t *testing.T) string {
	t.Helper()
	return s.refTo(t, "HealthTable")["Ref"].(string)
}

// dynamoActionsOn lists the DynamoDB actions role's policies allow, by rendered resource.
func (s *synthesized) dynamoActionsOn(role string) map[string][]string {
	out := map[string][]string{}
	for res, actions := range actionsOn(s.policyStatementsOf(role)) {
		for _, a := range actions {
			if strings.HasPrefix(a, "dynamodb:") {
				out[res] = append(out[res], a)
			}
		}
	}
	return out
}

func TestHealthWriterIsOneConsumer(t *testing.T) {
	for _, c := range []struct {
		name   string
		s      func(*testing.T) *synthesized
		writer string
		groups string
	}{
		{"every sink: s3 writes", defaultStack, config.SinkS3, "/logfan/heartbeat"},
		{"no s3: firehose writes", healthStack, config.SinkFirehose, "/logfan/heartbeat,/platform/alive"},
		{"logs only", logsOnlyStack, config.SinkLogs, "/logfan/heartbeat"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.s(t)
			table := s.healthTableID(t)
			for _, sink := range s.settings.EnabledSinks() {
				fn := s.function(t, sink)
				env := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
				got := s.dynamoActionsOn(roleOf(t, fn))["<"+table+".Arn>"]
				// THEN every consumer recognises the heartbeat groups
				if env[config.EnvHeartbeatLogGroup] != c.groups {
					t.Errorf("%s: %s = %v", sink, config.EnvHeartbeatLogGroup, env[config.EnvHeartbeatLogGroup])
				}
				if sink != c.writer {
					// AND the others neither know the table nor may touch it
					if env[config.EnvHealthTable] != nil || got != nil {
						t.Errorf("%s: health table env %v, grants %v", sink, env[config.EnvHealthTable], got)
					}
					continue
				}
				// AND exactly one writes it, with UpdateItem and PutItem on the table ARN only
				if !reflect.DeepEqual(env[config.EnvHealthTable], map[string]any{"Ref": table}) {
					t.Errorf("%s: %s = %v", sink, config.EnvHealthTable, env[config.EnvHealthTable])
				}
				if !reflect.DeepEqual(got, []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}) {
					t.Errorf("%s: grants on the health table %v", sink, got)
				}
				// AND it never runs without that grant
				if deps := mustJSONString(fn["DependsOn"]); !strings.Contains(deps, naming.FunctionLogicalID(sink)+"HealthPolicy") {
					t.Errorf("%s depends on %s", sink, deps)
				}
			}
		})
	}
}

func TestWatchdogFunction(t *testing.T) {
	// GIVEN the default stack
	s := defaultStack(t)
	fn, ok := s.json["Resources"].(map[string]any)[WatchdogLogicalID].(map[string]any)
	if !ok {
		t.Fatalf("no %s", WatchdogLogicalID)
	}
	p := props(fn)
	// THEN it is built like the consumers, from build/watchdog/bootstrap
	if p["Runtime"] != "provided.al2023" || !reflect.DeepEqual(p["Architectures"], []any{"arm64"}) || p["Handler"] != "bootstrap" {
		t.Errorf("runtime %v %v %v", p["Runtime"], p["Architectures"], p["Handler"])
	}
	if lc := p["LoggingConfig"].(map[string]any); lc["LogFormat"] != "JSON" || lc["LogGroup"] == nil {
		t.Errorf("logging %v", lc)
	}
	if got := fn["Metadata"].(map[string]any)["aws:asset:path"]; got == nil {
		t.Error("no asset metadata")
	}
	// AND it may read the health table, nothing more
	table := s.healthTableID(t)
	role := roleOf(t, fn)
	if got := s.dynamoActionsOn(role); !reflect.DeepEqual(got, map[string][]string{"<" + table + ".Arn>": {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}}) {
		t.Errorf("watchdog grants %v", got)
	}
	for res, actions := range actionsOn(s.policyStatementsOf(role)) {
		for _, a := range actions {
			if !strings.HasPrefix(a, "dynamodb:") && !strings.HasPrefix(a, "logs:") {
				t.Errorf("watchdog may %s on %s", a, res)
			}
		}
	}
	// AND its environment is the contract's, defaults from cdk.json
	env := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
	e := newEvaluator(s.json, nil)
	want := map[string]any{
		config.EnvHealthTable:            "<" + table + ">",
		config.EnvExpectedAccounts:       "111111111111",
		config.EnvExpectedRegions:        "us-east-1",
		config.EnvSenderMode:             config.SenderModeAccounts,
		config.EnvHeartbeatMinutes:       "5",
		config.EnvSilentAfterMinutes:     "15",
		config.EnvForgetSendersAfterDays: "7",
		config.EnvGoMemLimit:             config.GoMemLimit(256),
	}
	if got := e.eval(t, env); !reflect.DeepEqual(got, want) {
		t.Errorf("watchdog environment\n%s\nwant\n%s", mustJSONString(got), mustJSONString(want))
	}
	// AND an EventBridge schedule invokes it every 5 minutes, and only that rule may
	ruleID, rule := "", map[string]any(nil)
	for id, r := range s.resources("AWS::Events::Rule") {
		for _, target := range props(r)["Targets"].([]any) {
			if render(target.(map[string]any)["Arn"]) == "<"+WatchdogLogicalID+".Arn>" {
				ruleID, rule = id, r
			}
		}
	}
	if rule == nil || props(rule)["ScheduleExpression"] != "rate(5 minutes)" || props(rule)["State"] != "ENABLED" {
		t.Fatalf("schedule %v", rule)
	}
	s.template.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
		"Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com",
		"FunctionName": map[string]any{"Fn::GetAtt": []any{WatchdogLogicalID, "Arn"}},
		"SourceArn":    map[string]any{"Fn::GetAtt": []any{ruleID, "Arn"}},
	})
}

func TestWatchdogExpectations(t *testing.T) {
	// GIVEN the health variant: two sender accounts, home plus one region, expectedSenders for organization mode
	s := healthStack(t)
	env := props(s.json["Resources"].(map[string]any)[WatchdogLogicalID].(map[string]any))["Environment"].(map[string]any)["Variables"]
	get := func(params map[string]string, key string) any {
		return newEvaluator(s.json, params).eval(t, env).(map[string]any)[key]
	}
	// THEN in account-list mode the SenderAccounts parameter is expected, in every region of the stack
	if got := get(nil, config.EnvExpectedAccounts); got != "111111111111,222222222222" {
		t.Errorf("expected accounts %v", got)
	}
	if got := get(nil, config.EnvExpectedRegions); got != "us-east-1,eu-west-1" {
		t.Errorf("expected regions %v", got)
	}
	// AND removing an account from the parameter removes it from the expectations
	if got := get(map[string]string{ParamSenderAccounts: "222222222222"}, config.EnvExpectedAccounts); got != "222222222222" {
		t.Errorf("after removing 111111111111: %v", got)
	}
	// AND in organization mode the context's list is expected (sorted), the mode says so
	org := map[string]string{ParamSenderOrganizationID: testOrgID}
	if got, mode := get(org, config.EnvExpectedAccounts), get(org, config.EnvSenderMode); got != "333333333333,444444444444" || mode != config.SenderModeOrganization {
		t.Errorf("organization mode: %v, %v", got, mode)
	}
	// AND the intervals come from the context
	for k, want := range map[string]string{config.EnvHeartbeatMinutes: "2", config.EnvSilentAfterMinutes: "30", config.EnvForgetSendersAfterDays: "3"} {
		if got := get(nil, k); got != want {
			t.Errorf("%s = %v, want %s", k, got, want)
		}
	}
}

func TestAlarmTopicCreated(t *testing.T) {
	// GIVEN a stack without alarmTopicArn
	s := defaultStack(t)
	topicID, topic := s.only(t, "AWS::SNS::Topic")
	// THEN the stack creates the topic, encrypted with a rotating customer key
	keyRef := props(topic)["KmsMasterKeyId"]
	keyID := render(keyRef)
	keyID = strings.TrimSuffix(strings.TrimPrefix(keyID, "<"), ".Arn>")
	key, ok := s.json["Resources"].(map[string]any)[keyID].(map[string]any)
	if !ok || key["Type"] != "AWS::KMS::Key" || props(key)["EnableKeyRotation"] != true {
		t.Fatalf("topic key %v: %v", keyRef, key)
	}
	// AND CloudWatch alarms of this account and region may use the key and publish, nobody else added
	cond := `"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"},"StringEquals":{"aws:SourceAccount":"123456789012"}}`
	if doc := mustJSON(props(key)["KeyPolicy"]); !strings.Contains(doc, `"Action":["kms:Decrypt","kms:GenerateDataKey*"],`+cond+`,"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"}`) {
		t.Errorf("key policy %s", doc)
	}
	_, policy := s.only(t, "AWS::SNS::TopicPolicy")
	doc := mustJSON(props(policy)["PolicyDocument"])
	if !strings.Contains(doc, `"Action":"sns:Publish",`+cond+`,"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"}`) {
		t.Errorf("topic policy lacks the CloudWatch statement: %s", doc)
	}
	// AND it refuses requests without TLS
	if !strings.Contains(doc, `"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Deny"`) {
		t.Errorf("topic policy does not enforce TLS: %s", doc)
	}
	// AND no e-mail is subscribed unless asked, and the ARN is an output
	s.template.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
	if got := render(s.json["Outputs"].(map[string]any)["AlarmTopicArn"].(map[string]any)["Value"]); got != "<"+topicID+">" {
		t.Errorf("AlarmTopicArn output %s", got)
	}
	// AND with alarmEmail the address is subscribed
	h := healthStack(t)
	h.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
		"Protocol": "email", "Endpoint": testEmail, "TopicArn": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("AlarmTopic.*"))},
	})
}

func TestAlarmTopicImported(t *testing.T) {
	// GIVEN alarmTopicArn
	s := orgStack(t)
	// THEN no topic or key is created for it, and the output names the imported one
	s.template.ResourceCountIs(jsii.String("AWS::SNS::Topic"), jsii.Number(0))
	if got := s.json["Outputs"].(map[string]any)["AlarmTopicArn"].(map[string]any)["Value"]; got != testTopicARN {
		t.Errorf("AlarmTopicArn output %v", got)
	}
}

func TestEveryAlarmNotifiesTheTopic(t *testing.T) {
	stacks := everyStack(t)
	n := 0
	for name, s := range stacks {
		// GIVEN every alarm of every stack
		want := testTopicARN
		if s.settings.Alarms.TopicARN == "" {
			if ids := s.resources("AWS::SNS::Topic"); len(ids) == 1 {
				for id := range ids {
					want = "<" + id + ">"
				}
			} else if len(s.resources("AWS::CloudWatch::Alarm")) > 0 {
				t.Errorf("%s: alarms but %d topics", name, len(ids))
				continue
			}
		}
		for id, a := range s.resources("AWS::CloudWatch::Alarm") {
			n++
			// THEN it notifies the topic when it fires and when it recovers
			for _, k := range []string{"AlarmActions", "OKActions"} {
				var got []string
				for _, v := range asList(props(a)[k]) {
					got = append(got, render(v))
				}
				if !slices.Equal(got, []string{want}) {
					t.Errorf("%s: alarm %s %s = %v, want [%s]", name, id, k, got, want)
				}
			}
		}
	}
	if n < 13 {
		t.Fatalf("only %d alarms checked", n)
	}
	// AND synthesizing again (cdk-nag's checks, annotations) adds no second action
	s := defaultStack(t)
	s.stack.Node().Root().(awscdk.Stage).Synth(&awscdk.StageSynthesisOptions{Force: jsii.Bool(true)})
	again := assertions.Template_FromStack(s.stack, nil).ToJSON()
	for id, r := range (*again)["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == "AWS::CloudWatch::Alarm" {
			if got := asList(props(r)["AlarmActions"]); len(got) != 1 {
				t.Errorf("after another synth, %s has actions %v", id, got)
			}
		}
	}
}

func TestSilentSendersAlarm(t *testing.T) {
	// GIVEN the default stack THEN one alarm fires when the watchdog counts a silent sender, or stops counting
	s := defaultStack(t)
	s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
		"Namespace": "logfan", "MetricName": "SilentSenders", "Dimensions": assertions.Match_Absent(),
		"Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
		"ComparisonOperator": "GreaterThanThreshold", "Threshold": 0, "TreatMissingData": "breaching",
	})
}

func TestSenderHealthDashboardRow(t *testing.T) {
	// GIVEN the default stack's dashboard
	widgets := dashboardMetrics(t, defaultStack(t))
	var titles []string
	for title := range widgets {
		if strings.HasPrefix(title, "Sender health") {
			titles = append(titles, title)
		}
	}
	all := ""
	for _, title := range titles {
		all += render(widgets[title])
	}
	// THEN a row shows the watchdog's counts, without dimensions, as the watchdog emits them
	for _, m := range []string{MetricSilentSenders, MetricLateSenders, MetricSilentLogGroups, MetricUnexpectedSenders} {
		if !strings.Contains(all, `["logfan","`+m+`",{"stat":"Maximum"}]` /* the widgets' period, 300 s, is the default */) {
			t.Errorf("sender-health row (%v) lacks %s: %s", titles, m, all)
		}
	}
}

func TestHealthSettings(t *testing.T) {
	base := func(kv ...any) map[string]any {
		m := map[string]any{CtxSenderAccounts: "111111111111"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	// GIVEN no health keys THEN the contract's defaults apply
	s, err := ParseSettings(lookup(base()))
	if err != nil {
		t.Fatal(err)
	}
	if want := (HealthSettings{HeartbeatLogGroups: []string{"/logfan/heartbeat"}, HeartbeatMinutes: 5, SilentAfterMinutes: 15, ForgetSendersAfterDays: 7}); !reflect.DeepEqual(s.Health, want) {
		t.Errorf("defaults %+v", s.Health)
	}
	if s.HealthWriter() != config.SinkS3 || !slices.Equal(s.ExpectedRegions(), []string{"us-east-1"}) {
		t.Errorf("writer %s, regions %v", s.HealthWriter(), s.ExpectedRegions())
	}
	// AND bad values name their key
	for _, c := range []struct {
		name string
		ctx  map[string]any
		want string
	}{
		{"heartbeats off on the recipient", base(CtxHeartbeatMinutes, "0"), CtxHeartbeatMinutes},
		{"silence before lateness", base(CtxSilentAfterMinutes, "10"), "more than two heartbeat intervals"},
		{"silence before lateness, slower heartbeats", base(CtxHeartbeatMinutes, "10", CtxSilentAfterMinutes, "15"), "more than two heartbeat intervals"},
		{"bad heartbeat group", base(CtxHeartbeatLogGroup, "/ok,not ok"), CtxHeartbeatLogGroup},
		{"bad expected sender", base(CtxExpectedSenders, "1234"), CtxExpectedSenders},
		{"forget never", base(CtxForgetSendersAfterDays, "0"), CtxForgetSendersAfterDays},
		{"forget after the table does", base(CtxForgetSendersAfterDays, "91"), CtxForgetSendersAfterDays},
		{"bad e-mail", base(CtxAlarmEmail, "oncall"), CtxAlarmEmail},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseSettings(lookup(c.ctx)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}

// TestHeartbeatKeysShared keeps the keys and bounds the sender stack and
// this stack both read from one cdk.json in step.
func TestHeartbeatKeysShared(t *testing.T) {
	if CtxHeartbeatLogGroup != sender.CtxHeartbeatLogGroup || CtxHeartbeatMinutes != sender.CtxHeartbeatMinutes || maxHeartbeatMinutes != sender.MaxHeartbeatMinutes {
		t.Fatalf("recipient %s, %s, max %d; sender %s, %s, max %d", CtxHeartbeatLogGroup, CtxHeartbeatMinutes, maxHeartbeatMinutes,
			sender.CtxHeartbeatLogGroup, sender.CtxHeartbeatMinutes, sender.MaxHeartbeatMinutes)
	}
	// AND cdk.json's values parse on both sides to the same heartbeat
	ctx := cdkJSONContext(t)
	ctx[sender.CtxDestinationARN] = "arn:aws:logs:us-east-1:999999999999:destination:logfan-destination"
	ctx[sender.CtxLogGroups] = "/app/api"
	ss, err := sender.ParseSettings(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseSettings(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	if ss.HeartbeatMinutes != rs.Health.HeartbeatMinutes || !slices.Equal([]string{ss.HeartbeatLogGroup}, rs.Health.HeartbeatLogGroups) {
		t.Errorf("sender %d min into %s; recipient %d min from %v", ss.HeartbeatMinutes, ss.HeartbeatLogGroup, rs.Health.HeartbeatMinutes, rs.Health.HeartbeatLogGroups)
	}
}

// TestWatchdogEnvironmentLoads feeds the watchdog's environment, as the
// stack sets it in either mode, to the watchdog's own loader.
func TestWatchdogEnvironmentLoads(t *testing.T) {
	s := healthStack(t)
	env := props(s.json["Resources"].(map[string]any)[WatchdogLogicalID].(map[string]any))["Environment"].(map[string]any)["Variables"]
	for _, params := range []map[string]string{nil, {ParamSenderOrganizationID: testOrgID}} {
		vars := newEvaluator(s.json, params).eval(t, env).(map[string]any)
		got, err := health.LoadSettings(func(k string) string { v, _ := vars[k].(string); return v })
		if err != nil {
			t.Fatalf("%v: %v", params, err)
		}
		if got.HeartbeatInterval != 2*time.Minute || got.SilentAfter != 30*time.Minute || got.ForgetAfter != 3*24*time.Hour || len(got.Regions) != 2 || len(got.Accounts) != 2 {
			t.Errorf("%v: watchdog settings %+v", params, got)
		}
	}
}

func TestHealthOutputs(t *testing.T) {
	// GIVEN the health variant
	s := healthStack(t)
	outputs := s.json["Outputs"].(map[string]any)
	table := s.healthTableID(t)
	// THEN the table's name is an output
	if got := render(outputs["HealthTableName"].(map[string]any)["Value"]); got != "<"+table+">" {
		t.Errorf("HealthTableName %s", got)
	}
	// AND so is the `logfan senders` command with the stack's expectations, in either mode
	cmd := outputs["SendersCommand"].(map[string]any)["Value"]
	base := "logfan senders -region=us-east-1 -table=<" + table + "> -mode="
	tail := " -regions=us-east-1,eu-west-1 -heartbeat-minutes=2 -silent-after-minutes=30 -forget-after-days=3"
	if got := newEvaluator(s.json, nil).eval(t, cmd); got != base+"accounts -accounts=111111111111,222222222222"+tail {
		t.Errorf("account-list mode: %s", got)
	}
	if got := newEvaluator(s.json, map[string]string{ParamSenderOrganizationID: testOrgID}).eval(t, cmd); got != base+"organization -accounts=333333333333,444444444444"+tail {
		t.Errorf("organization mode: %s", got)
	}
}
