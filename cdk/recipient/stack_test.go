package recipient

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

// ---- 1. Kinesis data stream ------------------------------------------------

func TestStreamOnDemandEncryptedByDefault(t *testing.T) {
	// GIVEN the default context
	s := defaultStack(t)
	// THEN the stream is on-demand, keeps records 24 h and is encrypted with the AWS-managed key
	s.template.HasResourceProperties(jsii.String("AWS::Kinesis::Stream"), map[string]any{
		"StreamModeDetails":    map[string]any{"StreamMode": "ON_DEMAND"},
		"RetentionPeriodHours": 24,
		"StreamEncryption":     map[string]any{"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
		"ShardCount":           assertions.Match_Absent(),
	})
}

func TestStreamProvisionedWithCustomerKey(t *testing.T) {
	// GIVEN streamMode=provisioned, shardCount=4 and streamEncryption=kms without a key ARN
	s := orgStack(t)
	keyID, key := s.only(t, "AWS::KMS::Key")
	// THEN the stream has 4 shards and uses a new customer key with rotation on
	s.template.HasResourceProperties(jsii.String("AWS::Kinesis::Stream"), map[string]any{
		"StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"},
		"ShardCount":        4,
		"StreamEncryption":  map[string]any{"EncryptionType": "KMS", "KeyId": map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}}},
	})
	if props(key)["EnableKeyRotation"] != true {
		t.Error("customer key rotation is off")
	}
}

func TestStreamImportedKey(t *testing.T) {
	// GIVEN streamKmsKeyArn naming an existing key
	s := importStack(t)
	// THEN no key is created for it (the alarm topic's own aside) and the stream uses the imported one
	for id := range s.resources("AWS::KMS::Key") {
		if !strings.HasPrefix(id, "AlarmTopicKey") {
			t.Errorf("key %s created", id)
		}
	}
	s.template.HasResourceProperties(jsii.String("AWS::Kinesis::Stream"), map[string]any{
		"StreamEncryption": map[string]any{"EncryptionType": "KMS", "KeyId": testKeyARN},
	})
}

// ---- 2. The role CloudWatch Logs assumes --------------------------------------

// destinationRole returns the destination's role ID and its trust statements for the parameters.
func destinationRole(t *testing.T, s *synthesized, params map[string]string) (string, []any) {
	t.Helper()
	_, dest := s.only(t, "AWS::Logs::Destination")
	roleID := props(dest)["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	role := s.json["Resources"].(map[string]any)[roleID].(map[string]any)
	doc := newEvaluator(s.json, params).eval(t, props(role)["AssumeRolePolicyDocument"]).(map[string]any)
	return roleID, doc["Statement"].([]any)
}

func TestDestinationRoleTrust(t *testing.T) {
	s := defaultStack(t)
	const recipient = "arn:aws:logs:us-east-1:123456789012:*"
	cases := []struct {
		name       string
		params     map[string]string
		conditions []map[string]any
	}{
		{"one sender (default)", nil, []map[string]any{
			{"StringLike": map[string]any{"aws:SourceArn": []any{recipient, "arn:aws:logs:us-east-1:111111111111:*"}}},
		}},
		{"three senders by parameter", map[string]string{ParamSenderAccounts: "111111111111,222222222222,333333333333"}, []map[string]any{
			{"StringLike": map[string]any{"aws:SourceArn": []any{recipient,
				"arn:aws:logs:us-east-1:111111111111:*", "arn:aws:logs:us-east-1:222222222222:*", "arn:aws:logs:us-east-1:333333333333:*"}}},
		}},
		{"organization by parameter", map[string]string{ParamSenderOrganizationID: testOrgID}, []map[string]any{
			{"StringEquals": map[string]any{"aws:SourceOrgID": []any{testOrgID}}},
			{"StringLike": map[string]any{"aws:SourceArn": recipient}},
		}},
		{"two organizations by parameter", map[string]string{ParamSenderOrganizationID: testOrgID + "," + testOrgID2}, []map[string]any{
			{"StringEquals": map[string]any{"aws:SourceOrgID": []any{testOrgID, testOrgID2}}},
			{"StringLike": map[string]any{"aws:SourceArn": recipient}},
		}},
		{"organization narrowed to OU paths", map[string]string{ParamSenderOrganizationID: testOrgID, ParamSenderOrganizationPaths: testOrgPath + "," + testOrgID + "/r-ab12/ou-ab12-22222222/*"}, []map[string]any{
			{"StringEquals": map[string]any{"aws:SourceOrgID": []any{testOrgID}},
				"ForAnyValue:StringLike": map[string]any{"aws:SourceOrgPaths": []any{testOrgPath, testOrgID + "/r-ab12/ou-ab12-22222222/*"}}},
			{"StringLike": map[string]any{"aws:SourceArn": recipient}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN the sender parameters
			// WHEN CloudFormation resolves the trust policy
			_, statements := destinationRole(t, s, c.params)
			// THEN only logs.amazonaws.com may assume the role, acting for those
			// senders or for this account (the test record at creation)
			var want []any
			for _, cond := range c.conditions {
				want = append(want, map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"Service": "logs.amazonaws.com"}, "Condition": cond})
			}
			if !reflect.DeepEqual(statements, want) {
				t.Errorf("trust statements\n%s\nwant\n%s", mustJSONString(statements), mustJSONString(want))
			}
		})
	}
}

func TestDestinationRolePermissions(t *testing.T) {
	cases := []struct {
		name string
		s    func(*testing.T) *synthesized
		want func(s *synthesized) map[string][]string
	}{
		{"AWS-managed stream key", defaultStack, func(s *synthesized) map[string][]string {
			id, _ := s.only(t, "AWS::Kinesis::Stream")
			return map[string][]string{"<" + id + ".Arn>": {"kinesis:PutRecord"}}
		}},
		{"customer stream key", orgStack, func(s *synthesized) map[string][]string {
			id, _ := s.only(t, "AWS::Kinesis::Stream")
			key, _ := s.only(t, "AWS::KMS::Key")
			return map[string][]string{"<" + id + ".Arn>": {"kinesis:PutRecord"}, "<" + key + ".Arn>": {"kms:GenerateDataKey"}}
		}},
		{"imported stream key", importStack, func(s *synthesized) map[string][]string {
			id, _ := s.only(t, "AWS::Kinesis::Stream")
			return map[string][]string{"<" + id + ".Arn>": {"kinesis:PutRecord"}, testKeyARN: {"kms:GenerateDataKey"}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN a stack
			s := c.s(t)
			// WHEN the destination role's policies are collected
			roleID, _ := destinationRole(t, s, nil)
			got := actionsOn(s.policyStatementsOf(roleID))
			// THEN it may put records into this stream only, plus use its customer key
			if want := c.want(s); !reflect.DeepEqual(got, want) {
				t.Errorf("destination role may %v, want %v", got, want)
			}
		})
	}
}

// ---- 3. The CloudWatch Logs destination ----------------------------------------

func TestDestinationWiring(t *testing.T) {
	// GIVEN the default stack
	s := defaultStack(t)
	_, dest := s.only(t, "AWS::Logs::Destination")
	streamID, _ := s.only(t, "AWS::Kinesis::Stream")
	roleID, _ := destinationRole(t, s, nil)
	// THEN the fixed-name destination targets the stream through the role
	if p := props(dest); p["DestinationName"] != "logfan-destination" || render(p["TargetArn"]) != "<"+streamID+".Arn>" || render(p["RoleArn"]) != "<"+roleID+".Arn>" {
		t.Errorf("destination properties %s", mustJSONString(p))
	}
	// AND it is created only after the role's permissions policy, so the
	// test record its creation sends can be written
	var policyID string
	for id, p := range s.resources("AWS::IAM::Policy") {
		if render(props(p)["Roles"].([]any)[0]) == "<"+roleID+">" {
			policyID = id
		}
	}
	if policyID == "" || !slices.Contains(asStrings(dest["DependsOn"]), policyID) {
		t.Errorf("destination DependsOn %v, want the role policy %q", dest["DependsOn"], policyID)
	}
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestDestinationAccessPolicy(t *testing.T) {
	s := defaultStack(t)
	cases := []struct {
		name      string
		params    map[string]string
		principal any
		condition any
	}{
		{"default: account list from context", nil, map[string]any{"AWS": []any{"111111111111"}}, nil},
		{"onboarding by parameter", map[string]string{ParamSenderAccounts: "111111111111,222222222222,333333333333"},
			map[string]any{"AWS": []any{"111111111111", "222222222222", "333333333333"}}, nil},
		{"organization", map[string]string{ParamSenderOrganizationID: testOrgID},
			map[string]any{"AWS": "*"}, map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": []any{testOrgID}}}},
		{"two organizations", map[string]string{ParamSenderOrganizationID: testOrgID + "," + testOrgID2},
			map[string]any{"AWS": "*"}, map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": []any{testOrgID, testOrgID2}}}},
		{"organization with OU paths", map[string]string{ParamSenderOrganizationID: testOrgID, ParamSenderOrganizationPaths: testOrgPath + "," + testOrgID + "/r-ab12/ou-ab12-22222222/*"},
			map[string]any{"AWS": "*"}, map[string]any{
				"StringEquals":           map[string]any{"aws:PrincipalOrgID": []any{testOrgID}},
				"ForAnyValue:StringLike": map[string]any{"aws:PrincipalOrgPaths": []any{testOrgPath, testOrgID + "/r-ab12/ou-ab12-22222222/*"}},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN the sender parameters
			// WHEN CloudFormation resolves what the custom resource sends to PutDestinationPolicy
			policy, call := s.accessPolicyApplied(t, c.params)
			// THEN it is PutDestinationPolicy with forceUpdate (so switching to an organization works)
			params := call["parameters"].(map[string]any)
			if call["action"] != "putDestinationPolicy" || params["forceUpdate"] != true || params["destinationName"] != "<Destination>" {
				t.Errorf("SDK call %s", mustJSONString(call))
			}
			// AND the policy lets exactly these senders subscribe to this destination
			st := policy["Statement"].([]any)[0].(map[string]any)
			if !reflect.DeepEqual(st["Principal"], c.principal) || !reflect.DeepEqual(st["Condition"], c.condition) {
				t.Errorf("statement %s", mustJSONString(st))
			}
			if !reflect.DeepEqual(st["Action"], []any{"logs:PutSubscriptionFilter", "logs:PutAccountPolicy"}) || st["Resource"] != s.settings.DestinationARN() {
				t.Errorf("statement %s", mustJSONString(st))
			}
		})
	}
}

func TestDestinationPolicyMatchesSizeCheckedPolicy(t *testing.T) {
	for _, variant := range []func(*testing.T) *synthesized{defaultStack, threeSenders, orgStack} {
		// GIVEN a stack
		s := variant(t)
		// WHEN the policy CloudFormation applies with the default parameters is rendered
		_, cr := s.only(t, "Custom::LogsDestinationPolicy")
		var call map[string]any
		raw := newEvaluator(s.json, nil).eval(t, props(cr)["Create"]).(string)
		if err := jsonUnmarshal(raw, &call); err != nil {
			t.Fatal(err)
		}
		applied := call["parameters"].(map[string]any)["accessPolicy"].(string)
		// THEN it is byte for byte the policy whose size synth checked
		if want := AccessPolicyJSON(s.settings.DestinationARN(), s.settings.Senders); applied != want {
			t.Errorf("applied policy\n%s\ndiffers from checked policy\n%s", applied, want)
		}
	}
}

func TestDestinationPolicyHandlerMayOnlyPutThisPolicy(t *testing.T) {
	// GIVEN the default stack
	s := defaultStack(t)
	// WHEN the statements of every policy mentioning PutDestinationPolicy are collected
	var found []map[string]any
	for _, p := range s.resources("AWS::IAM::Policy") {
		for _, st := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			if slices.Contains(asStrings(st.(map[string]any)["Action"]), "logs:PutDestinationPolicy") {
				found = append(found, st.(map[string]any))
			}
		}
	}
	// THEN the only one allows exactly that action on this destination
	want := map[string][]string{s.settings.DestinationARN(): {"logs:PutDestinationPolicy"}}
	if got := actionsOn(found); len(found) != 1 || !reflect.DeepEqual(got, want) {
		t.Errorf("PutDestinationPolicy grants %v", got)
	}
}

func TestSendersRule(t *testing.T) {
	// GIVEN the rule that guards the sender parameters
	s := defaultStack(t)
	rule := s.json["Rules"].(map[string]any)["SendersNamed"].(map[string]any)["Assertions"].([]any)[0].(map[string]any)["Assert"]
	cases := []struct {
		params map[string]string
		ok     bool
	}{
		{nil, true},
		{map[string]string{ParamSenderAccounts: ""}, false},
		{map[string]string{ParamSenderAccounts: "", ParamSenderOrganizationID: testOrgID}, true},
	}
	for _, c := range cases {
		// WHEN CloudFormation evaluates it THEN only deployments naming senders pass
		if got := newEvaluator(s.json, c.params).eval(t, rule).(bool); got != c.ok {
			t.Errorf("params %v: rule passes=%v, want %v", c.params, got, c.ok)
		}
	}
}

func TestTrustPolicyCheckedIsWhatCloudFormationResolves(t *testing.T) {
	cases := []struct {
		name    string
		senders Senders
	}{
		{"one sender", Senders{Accounts: []string{"111111111111"}}},
		{"three senders", Senders{Accounts: []string{"111111111111", "222222222222", "333333333333"}}},
		{"organization", Senders{Accounts: []string{"111111111111"}, OrganizationIDs: []string{testOrgID}}},
		{"organization and OU paths", Senders{Accounts: []string{"111111111111"}, OrganizationIDs: []string{testOrgID}, OrganizationPaths: []string{testOrgPath}}},
		{"two organizations", Senders{OrganizationIDs: []string{testOrgID, testOrgID2}}},
		{"two organizations and OU paths", Senders{OrganizationIDs: []string{testOrgID, testOrgID2}, OrganizationPaths: []string{testOrgPath, testOrgID2 + "/r-cd34/*"}}},
	}
	s := defaultStack(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN the parameters CloudFormation receives for these senders
			params := map[string]string{ParamSenderAccounts: strings.Join(c.senders.Accounts, ","), ParamSenderOrganizationID: strings.Join(c.senders.OrganizationIDs, ","),
				ParamSenderOrganizationPaths: strings.Join(c.senders.OrganizationPaths, ",")}
			// WHEN it resolves the role's trust policy
			roleID, _ := destinationRole(t, s, params)
			role := s.json["Resources"].(map[string]any)[roleID].(map[string]any)
			got := newEvaluator(s.json, params).eval(t, props(role)["AssumeRolePolicyDocument"])
			// THEN it is the document the synth-time size check measures
			var want any
			if err := jsonUnmarshal(mustJSON(TrustPolicyDocument("us-east-1", "123456789012", c.senders)), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("resolved trust policy\n%s\nmeasured\n%s", mustJSONString(got), mustJSONString(want))
			}
		})
	}
}

func TestTrustPolicyOverflowFailsSynth(t *testing.T) {
	// GIVEN 45 sender accounts, as many as a 2,048-character trust policy holds in us-east-1
	fits := synth(t, "45-senders", map[string]any{CtxSenderAccounts: strings.Join(accountsN(45), ",")})
	// THEN the app synthesizes
	if got := len(fits.settings.Senders.Accounts); got != 45 {
		t.Fatalf("%d senders", got)
	}
	// GIVEN 60 sender accounts
	ctx := cdkJSONContext(t)
	ctx[CtxSenderAccounts] = strings.Join(accountsN(60), ",")
	ctx[CtxAssetDir] = testAssetDir
	ctx[CtxDisableNag] = true
	settings, err := ParseSettings(lookup(ctx))
	if err != nil {
		t.Fatal(err)
	}
	// WHEN the app is synthesized
	msg := synthPanic(t, ctx, settings)
	// THEN synth fails with the size, the limit, how many fit and the ways out
	for _, want := range []string{"trust policy", "60 sender accounts", "2615 characters", "limit of 2048", "at most 45 sender accounts", "organization mode", CtxTrustPolicyMaxChars + "=4096"} {
		if !strings.Contains(msg, want) {
			t.Errorf("synth error lacks %q: %s", want, msg)
		}
	}
	// AND with the raised quota the same 60 synthesize
	ctx[CtxTrustPolicyMaxChars] = 4096.0
	settings, err = ParseSettings(lookup(ctx))
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
	AddToApp(app, settings)
	app.Synth(nil)
}

func TestPolicyOverflowFailsSynth(t *testing.T) {
	// GIVEN 400 sender accounts, more than a 5,120-byte policy can hold
	ctx := cdkJSONContext(t)
	ctx[CtxSenderAccounts] = strings.Join(accountsN(400), ",")
	ctx[CtxAssetDir] = testAssetDir
	ctx[CtxDisableNag] = true
	settings, err := ParseSettings(lookup(ctx))
	if err != nil {
		t.Fatal(err)
	}
	// WHEN the app is synthesized
	msg := synthPanic(t, ctx, settings)
	// THEN synth fails, saying why and what to do
	if !strings.Contains(msg, "5120") || !strings.Contains(msg, "400 sender accounts") || !strings.Contains(msg, "organization mode") {
		t.Errorf("synth error %q", msg)
	}
}

// ---- 4. Onboarding by parameter -------------------------------------------

func TestSenderParameters(t *testing.T) {
	// GIVEN three senders in context
	s := threeSenders(t)
	// THEN they are the default of a comma-separated parameter, next to the organization parameter
	s.template.HasParameter(jsii.String(ParamSenderAccounts), map[string]any{
		"Type": "String", "Default": "111111111111,222222222222,333333333333",
	})
	s.template.HasParameter(jsii.String(ParamSenderOrganizationID), map[string]any{"Type": "String", "Default": ""})
	// AND organization mode from context moves that parameter's default
	orgStack(t).template.HasParameter(jsii.String(ParamSenderOrganizationID), map[string]any{"Type": "String", "Default": testOrgID})
}

func TestSenderAccountsParameterBoundsTheCount(t *testing.T) {
	// GIVEN the account-list stack in us-east-1 and its SenderAccounts parameter
	p := defaultStack(t).json["Parameters"].(map[string]any)[ParamSenderAccounts].(map[string]any)
	pattern := regexp.MustCompile(p["AllowedPattern"].(string))
	maxLength := int(p["MaxLength"].(float64))
	// WHEN CloudFormation checks a value passed with --parameters
	accepts := func(v string) bool { return pattern.MatchString(v) && len(v) <= maxLength }
	// THEN 45 accounts pass, as the trust policy holds, and 46 are refused
	// before any resource changes, as are malformed lists
	cases := map[string]bool{
		strings.Join(accountsN(45), ","): true,
		strings.Join(accountsN(46), ","): false,
		"":                               true,
		"111111111111":                   true,
		"111111111111,,222222222222":     false,
		"111111111111, 222222222222":     false,
		"11111111111":                    false,
	}
	for v, want := range cases {
		if got := accepts(v); got != want {
			t.Errorf("SenderAccounts of %d characters: accepted=%v, want %v", len(v), got, want)
		}
	}
	if !strings.Contains(p["ConstraintDescription"].(string), "at most 45") {
		t.Errorf("constraint description %q", p["ConstraintDescription"])
	}
	// AND organization mode, which ignores the list, does not bound it
	if m, ok := orgStack(t).json["Parameters"].(map[string]any)[ParamSenderAccounts].(map[string]any)["MaxLength"]; ok {
		t.Errorf("organization mode: MaxLength %v", m)
	}
}

func TestNoSendersSynthesizesButCannotDeploy(t *testing.T) {
	// GIVEN cdk.json as committed, naming no sender
	s := noSendersStack(t)
	// THEN synth succeeds with a warning saying how to deploy
	found := assertions.Annotations_FromStack(s.stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*--parameters SenderAccounts=.*")))
	if len(*found) != 1 {
		t.Errorf("%d no-senders warnings, want 1", len(*found))
	}
	// AND CloudFormation's rule rejects deploying it without senders, but not with one
	rule := s.json["Rules"].(map[string]any)["SendersNamed"].(map[string]any)["Assertions"].([]any)[0].(map[string]any)["Assert"]
	if newEvaluator(s.json, nil).eval(t, rule).(bool) {
		t.Error("a deployment without senders passes the rule")
	}
	if !newEvaluator(s.json, map[string]string{ParamSenderAccounts: "111111111111"}).eval(t, rule).(bool) {
		t.Error("a deployment naming a sender fails the rule")
	}
}

func TestOnboardingReplacesNothing(t *testing.T) {
	// GIVEN the stack synthesized with one sender and with three
	one, three := defaultStack(t), threeSenders(t)
	// THEN destination, stream and role keep their logical IDs and physical names
	for _, typ := range []string{"AWS::Logs::Destination", "AWS::Kinesis::Stream"} {
		id1, r1 := one.only(t, typ)
		id3, r3 := three.only(t, typ)
		if id1 != id3 {
			t.Errorf("%s logical ID %s -> %s", typ, id1, id3)
		}
		for _, name := range []string{"DestinationName", "Name"} {
			if !reflect.DeepEqual(props(r1)[name], props(r3)[name]) {
				t.Errorf("%s %s %v -> %v", typ, name, props(r1)[name], props(r3)[name])
			}
		}
	}
	role1, _ := destinationRole(t, one, nil)
	role3, _ := destinationRole(t, three, nil)
	r := func(s *synthesized, id string) map[string]any {
		return props(s.json["Resources"].(map[string]any)[id].(map[string]any))
	}
	if role1 != role3 || !reflect.DeepEqual(r(one, role1)["RoleName"], r(three, role3)["RoleName"]) {
		t.Errorf("role %s -> %s", role1, role3)
	}
	// AND in fact no resource changes at all: the senders reach resources
	// only through the parameters, whose defaults are all that differ
	if !reflect.DeepEqual(one.json["Resources"], three.json["Resources"]) {
		for id := range one.json["Resources"].(map[string]any) {
			if !reflect.DeepEqual(one.json["Resources"].(map[string]any)[id], three.json["Resources"].(map[string]any)[id]) {
				t.Errorf("resource %s differs between one and three senders", id)
			}
		}
	}
	p1, p3 := one.json["Parameters"].(map[string]any), three.json["Parameters"].(map[string]any)
	for name := range p1 {
		if name != ParamSenderAccounts && !reflect.DeepEqual(p1[name], p3[name]) {
			t.Errorf("parameter %s differs", name)
		}
	}
}

// ---- 5. Consumer functions -----------------------------------------------

func TestOneFunctionPerEnabledSink(t *testing.T) {
	cases := []struct {
		name  string
		s     func(*testing.T) *synthesized
		sinks []string
	}{
		{"cdk.json enables all three", defaultStack, []string{config.SinkS3, config.SinkFirehose, config.SinkLogs}},
		{"logs sink turned off", importStack, []string{config.SinkS3, config.SinkFirehose}},
		{"only the logs sink", logsOnlyStack, []string{config.SinkLogs}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN a stack
			s := c.s(t)
			// THEN there is one function per enabled sink (plus the policy handler), and one mapping each
			var got []string
			for id := range s.resources("AWS::Lambda::Function") {
				for _, sink := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
					if id == naming.FunctionLogicalID(sink) {
						got = append(got, sink)
					}
				}
			}
			slices.Sort(got)
			want := slices.Clone(c.sinks)
			slices.Sort(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("functions for %v, want %v", got, want)
			}
			// (the policy handler and the watchdog besides)
			s.template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(float64(len(c.sinks)+2)))
			s.template.ResourceCountIs(jsii.String("AWS::Lambda::EventSourceMapping"), jsii.Number(float64(len(c.sinks))))
		})
	}
}

func TestFunctionsBuiltAlike(t *testing.T) {
	s := defaultStack(t)
	for _, sink := range s.settings.EnabledSinks() {
		t.Run(sink, func(t *testing.T) {
			// GIVEN sink's function
			p := props(s.function(t, sink))
			// THEN it is Go on provided.al2023/arm64, logging JSON at the configured level to its own group
			if p["Runtime"] != "provided.al2023" || !reflect.DeepEqual(p["Architectures"], []any{"arm64"}) || p["Handler"] != "bootstrap" {
				t.Errorf("runtime %v %v %v", p["Runtime"], p["Architectures"], p["Handler"])
			}
			lc := p["LoggingConfig"].(map[string]any)
			if lc["LogFormat"] != "JSON" || lc["ApplicationLogLevel"] != "INFO" || lc["LogGroup"] == nil {
				t.Errorf("logging %v", lc)
			}
			if p["MemorySize"] != 512.0 || p["Timeout"] != 120.0 {
				t.Errorf("memory %v timeout %v", p["MemorySize"], p["Timeout"])
			}
		})
	}
	// AND the log level is configurable
	if lc := props(orgStack(t).function(t, config.SinkS3))["LoggingConfig"].(map[string]any); lc["ApplicationLogLevel"] != "DEBUG" {
		t.Errorf("logLevel=DEBUG gave %v", lc["ApplicationLogLevel"])
	}
}

func TestFunctionEnvironment(t *testing.T) {
	s := defaultStack(t)
	quarantine := s.refTo(t, "QuarantineBucket")
	cases := map[string]map[string]any{
		config.SinkS3: {
			config.EnvS3Bucket: s.refTo(t, "DataBucket"), config.EnvS3Prefix: "logs",
			config.EnvQuarantineBucket: quarantine, config.EnvQuarantinePrefix: "quarantine/s3",
			config.EnvGoMemLimit: "341MiB",
		},
		config.SinkFirehose: {
			config.EnvFirehoseStream: map[string]any{"Ref": "FirehoseStream"}, config.EnvFirehosePacking: "pack",
			config.EnvQuarantineBucket: quarantine, config.EnvQuarantinePrefix: "quarantine/firehose",
			config.EnvGoMemLimit: "341MiB",
		},
		config.SinkLogs: {
			config.EnvLogsRegion: "us-east-1", config.EnvLogsGroupTemplate: "/logfan/{owner}/{logGroup}",
			config.EnvLogsStreamTemplate: "{logStream}", config.EnvLogsRetentionDays: "30",
			config.EnvQuarantineBucket: quarantine, config.EnvQuarantinePrefix: "quarantine/logs",
			config.EnvGoMemLimit: "341MiB",
		},
	}
	ledger := s.refTo(t, "LedgerTable")
	for _, want := range cases {
		want[config.EnvLedgerTable], want[config.EnvLedgerTTL] = ledger, "24h0m0s"
		// Every function recognises heartbeats; the first sink's alone writes the health table
		want[config.EnvHeartbeatLogGroup] = config.DefaultHeartbeatLogGroup
	}
	cases[config.SinkS3][config.EnvHealthTable] = s.refTo(t, "HealthTable")
	for sink, want := range cases {
		t.Run(sink, func(t *testing.T) {
			// GIVEN sink's function THEN its environment uses the shared config names, and only those
			got := props(s.function(t, sink))["Environment"].(map[string]any)["Variables"]
			if !reflect.DeepEqual(got, want) {
				t.Errorf("environment\n%s\nwant\n%s", mustJSONString(got), mustJSONString(want))
			}
		})
	}
	// AND imports and keys reach the environment too
	imp := props(importStack(t).function(t, config.SinkS3))["Environment"].(map[string]any)["Variables"].(map[string]any)
	if imp[config.EnvS3Bucket] != testBucket {
		t.Errorf("imported bucket env %v", imp[config.EnvS3Bucket])
	}
	if v := props(importStack(t).function(t, config.SinkFirehose))["Environment"].(map[string]any)["Variables"].(map[string]any)[config.EnvFirehoseStream]; v != "existing-stream" {
		t.Errorf("imported Firehose env %v", v)
	}
	if v := props(orgStack(t).function(t, config.SinkS3))["Environment"].(map[string]any)["Variables"].(map[string]any)[config.EnvS3KMSKeyID]; v != testKeyARN {
		t.Errorf("S3 KMS key env %v", v)
	}
	// AND every function writes quarantine entries with the quarantine's own key, when one is set
	for _, sink := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		if v := props(orgStack(t).function(t, sink))["Environment"].(map[string]any)["Variables"].(map[string]any)[config.EnvQuarantineKMSKeyID]; v != testKeyARN {
			t.Errorf("%s: quarantine KMS key env %v", sink, v)
		}
	}
}

// refTo returns {"Ref": id} for the one resource whose logical ID starts with prefix.
func (s *synthesized) refTo(t *testing.T, prefix string) map[string]any {
	t.Helper()
	var ids []string
	for id := range s.json["Resources"].(map[string]any) {
		if strings.HasPrefix(id, prefix) && !strings.Contains(id[len(prefix):], "Policy") {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("resources starting with %s: %v", prefix, ids)
	}
	return map[string]any{"Ref": ids[0]}
}

func TestEventSourceMappings(t *testing.T) {
	s := defaultStack(t)
	streamID, _ := s.only(t, "AWS::Kinesis::Stream")
	quarantine := s.refTo(t, "QuarantineBucket")["Ref"].(string)
	for id, m := range s.resources("AWS::Lambda::EventSourceMapping") {
		t.Run(id, func(t *testing.T) {
			// GIVEN a function's event source mapping
			p := props(m)
			// THEN it reads the stream in bounded batches, bisects failures, retries a
			// finite number of times up to a maximum age, reports item failures,
			// and sends what still fails, whole, to the quarantine bucket
			want := map[string]any{
				"EventSourceArn":                 map[string]any{"Fn::GetAtt": []any{streamID, "Arn"}},
				"BatchSize":                      1000.0,
				"MaximumBatchingWindowInSeconds": 5.0,
				"ParallelizationFactor":          1.0,
				"BisectBatchOnFunctionError":     true,
				"MaximumRetryAttempts":           10.0,
				"MaximumRecordAgeInSeconds":      21600.0,
				"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
				"StartingPosition":               "TRIM_HORIZON",
				"DestinationConfig":              map[string]any{"OnFailure": map[string]any{"Destination": map[string]any{"Fn::GetAtt": []any{quarantine, "Arn"}}}},
			}
			for k, v := range want {
				if !reflect.DeepEqual(p[k], v) {
					t.Errorf("%s = %v, want %v", k, mustJSONString(p[k]), mustJSONString(v))
				}
			}
		})
	}
}

func TestEventSourceMappingsConfigurable(t *testing.T) {
	// GIVEN batch settings in context
	s := synth(t, "batching", map[string]any{CtxBatchSize: 250.0, CtxBatchWindowSeconds: "0", CtxParallelization: 4.0,
		CtxRetryAttempts: 3.0, CtxMaxRecordAgeSeconds: 3600.0, CtxStartingPosition: "LATEST", CtxS3Enabled: false, CtxFirehoseEnabled: false})
	// THEN the mapping carries them
	s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
		"BatchSize": 250, "MaximumBatchingWindowInSeconds": 0, "ParallelizationFactor": 4,
		"MaximumRetryAttempts": 3, "MaximumRecordAgeInSeconds": 3600, "StartingPosition": "LATEST",
	})
}

func TestEnhancedFanOut(t *testing.T) {
	// GIVEN enhancedFanOut=true
	s := orgStack(t)
	streamID, _ := s.only(t, "AWS::Kinesis::Stream")
	consumers := s.resources("AWS::Kinesis::StreamConsumer")
	// THEN every function has its own registered consumer of the stream
	if len(consumers) != 3 {
		t.Fatalf("%d stream consumers, want 3", len(consumers))
	}
	names := map[string]string{}
	for id, c := range consumers {
		if render(props(c)["StreamARN"]) != "<"+streamID+".Arn>" {
			t.Errorf("consumer %s reads %v", id, props(c)["StreamARN"])
		}
		names[id] = props(c)["ConsumerName"].(string)
	}
	// AND each mapping reads through one of them, never the shared iterator
	used := map[string]bool{}
	for id, m := range s.resources("AWS::Lambda::EventSourceMapping") {
		arn := props(m)["EventSourceArn"].(map[string]any)["Fn::GetAtt"].([]any)
		if _, ok := consumers[arn[0].(string)]; !ok || arn[1] != "ConsumerARN" {
			t.Errorf("mapping %s reads %v", id, arn)
		}
		used[arn[0].(string)] = true
	}
	if len(used) != 3 {
		t.Errorf("mappings share consumers: %v", used)
	}
	for _, sink := range s.settings.EnabledSinks() {
		if !slices.Contains(mapValues(names), "logfan-"+sink) {
			t.Errorf("no consumer named logfan-%s in %v", sink, names)
		}
	}
	// AND the function may subscribe through its consumer
	fn := s.function(t, config.SinkS3)
	got := actionsOn(s.policyStatementsOf(roleOf(t, fn)))
	found := false
	for res, actions := range got {
		if strings.Contains(res, "ConsumerARN") && slices.Contains(actions, "kinesis:SubscribeToShard") {
			found = true
		}
	}
	if !found {
		t.Errorf("s3 function cannot SubscribeToShard through its consumer: %v", got)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// ---- 6. Sink resources and grants ----------------------------------------

func TestBucketsAreLockedDown(t *testing.T) {
	for _, variant := range []func(*testing.T) *synthesized{defaultStack, logsOnlyStack} {
		s := variant(t)
		policies := s.resources("AWS::S3::BucketPolicy")
		for id, b := range s.resources("AWS::S3::Bucket") {
			t.Run(id, func(t *testing.T) {
				// GIVEN a bucket the stack creates
				p := props(b)
				// THEN public access is blocked, objects are encrypted, a lifecycle applies
				if !reflect.DeepEqual(p["PublicAccessBlockConfiguration"], map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}) {
					t.Errorf("public access block %v", p["PublicAccessBlockConfiguration"])
				}
				if p["BucketEncryption"] == nil {
					t.Error("no default encryption")
				}
				rules := render(p["LifecycleConfiguration"])
				if !strings.Contains(rules, "AbortIncompleteMultipartUpload") {
					t.Errorf("lifecycle %s", rules)
				}
				// AND a bucket policy denies requests without TLS
				tls := false
				for _, bp := range policies {
					if render(props(bp)["Bucket"]) == "<"+id+">" && strings.Contains(render(props(bp)["PolicyDocument"]), `"aws:SecureTransport":"false"`) {
						tls = true
					}
				}
				if !tls {
					t.Error("no TLS-only bucket policy")
				}
			})
		}
	}
}

func TestBucketLifecycles(t *testing.T) {
	s := defaultStack(t)
	// GIVEN the data bucket THEN objects move to Standard-IA after 30 days
	s.template.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{map[string]any{
			"Id": "infrequent-access", "Status": "Enabled",
			"Transitions": []any{map[string]any{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}},
		}})},
	})
	// AND the quarantine bucket keeps failed records a year and counts writes for the on-failure alarm
	s.template.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{map[string]any{
			"Id": "expire-failed-records", "Status": "Enabled", "ExpirationInDays": 365,
		}})},
		"MetricsConfigurations": []any{map[string]any{"Id": quarantineMetricsFilter}},
	})
}

func TestDataAndQuarantineBucketsVersioned(t *testing.T) {
	s := defaultStack(t)
	for _, name := range []string{"DataBucket", "QuarantineBucket"} {
		// GIVEN the data and quarantine buckets the stack creates
		b := props(s.json["Resources"].(map[string]any)[s.refTo(t, name)["Ref"].(string)].(map[string]any))
		// THEN they are versioned, and old versions and lone delete markers expire after 30 days
		if render(b["VersioningConfiguration"]) != `{"Status":"Enabled"}` {
			t.Errorf("%s versioning %v", name, b["VersioningConfiguration"])
		}
		want := `{"ExpiredObjectDeleteMarker":true,"Id":"expire-noncurrent-versions","NoncurrentVersionExpiration":{"NoncurrentDays":30},"Status":"Enabled"}`
		if rules := render(b["LifecycleConfiguration"]); !strings.Contains(rules, want) {
			t.Errorf("%s lifecycle %s", name, rules)
		}
		// AND without Object Lock unless asked for
		if b["ObjectLockEnabled"] != nil {
			t.Errorf("%s object lock %v", name, b["ObjectLockEnabled"])
		}
	}
}

func TestObjectLockOnTheDataBucket(t *testing.T) {
	// GIVEN s3ObjectLockDays=365 in compliance mode and noncurrent versions kept 90 days
	s := orgStack(t)
	b := props(s.json["Resources"].(map[string]any)[s.refTo(t, "DataBucket")["Ref"].(string)].(map[string]any))
	// THEN the data bucket is created with Object Lock and that default retention
	if b["ObjectLockEnabled"] != true || render(b["ObjectLockConfiguration"]) != `{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Days":365,"Mode":"COMPLIANCE"}}}` {
		t.Errorf("object lock %v %s", b["ObjectLockEnabled"], render(b["ObjectLockConfiguration"]))
	}
	if !strings.Contains(render(b["LifecycleConfiguration"]), `"NoncurrentVersionExpiration":{"NoncurrentDays":90}`) {
		t.Errorf("lifecycle %s", render(b["LifecycleConfiguration"]))
	}
	// AND the quarantine bucket is versioned without a lock
	q := props(s.json["Resources"].(map[string]any)[s.refTo(t, "QuarantineBucket")["Ref"].(string)].(map[string]any))
	if q["ObjectLockEnabled"] != nil || render(q["VersioningConfiguration"]) != `{"Status":"Enabled"}` {
		t.Errorf("quarantine bucket %v %v", q["ObjectLockEnabled"], q["VersioningConfiguration"])
	}
	// AND an imported bucket cannot be given Object Lock by the stack
	if _, err := ParseSettings(lookup(map[string]any{CtxS3ObjectLockDays: "30", CtxS3BucketName: testBucket})); err == nil || !strings.Contains(err.Error(), CtxS3ObjectLockDays) {
		t.Errorf("object lock on an imported bucket: %v", err)
	}
	// AND noncurrentVersionExpirationDays=0 keeps old versions (no rule)
	z, err := ParseSettings(lookup(map[string]any{CtxNoncurrentVersionExpirationDays: "0"}))
	if err != nil || noncurrentVersionRule(z) != nil {
		t.Errorf("0 days: %v %v", err, noncurrentVersionRule(z))
	}
}

func TestImportedSinks(t *testing.T) {
	// GIVEN s3BucketName and firehoseStreamArn
	s := importStack(t)
	// THEN neither a data bucket nor a Firehose stream is created
	s.template.ResourceCountIs(jsii.String("AWS::KinesisFirehose::DeliveryStream"), jsii.Number(0))
	for id := range s.resources("AWS::S3::Bucket") {
		if strings.HasPrefix(id, "DataBucket") {
			t.Errorf("data bucket %s created although imported", id)
		}
	}
	// AND the grants name the imported resources exactly
	s3 := actionsOn(s.policyStatementsOf(roleOf(t, s.function(t, config.SinkS3))))
	if got := s3["arn:aws:s3:::"+testBucket+"/logs/*"]; !reflect.DeepEqual(got, []string{"s3:PutObject"}) {
		t.Errorf("imported bucket grant %v (all: %v)", got, s3)
	}
	fh := actionsOn(s.policyStatementsOf(roleOf(t, s.function(t, config.SinkFirehose))))
	if got := fh[testFirehoseAR]; !reflect.DeepEqual(got, []string{"firehose:PutRecordBatch"}) {
		t.Errorf("imported Firehose grant %v (all: %v)", got, fh)
	}
}

func TestCreatedFirehoseDeliversToS3(t *testing.T) {
	// GIVEN the default stack
	s := defaultStack(t)
	_, fh := s.only(t, "AWS::KinesisFirehose::DeliveryStream")
	data := s.refTo(t, "DataBucket")["Ref"].(string)
	p := props(fh)
	// THEN the stream is direct-put, encrypted, and delivers gzip objects under its prefix of the data bucket
	s3 := p["ExtendedS3DestinationConfiguration"].(map[string]any)
	if p["DeliveryStreamType"] != "DirectPut" || render(p["DeliveryStreamEncryptionConfigurationInput"]) != `{"KeyType":"AWS_OWNED_CMK"}` {
		t.Errorf("stream %s", mustJSONString(p))
	}
	if render(s3["BucketARN"]) != "<"+data+".Arn>" || s3["Prefix"] != "firehose/" || s3["CompressionFormat"] != "GZIP" {
		t.Errorf("S3 destination %s", mustJSONString(s3))
	}
	// AND its role may write only those prefixes, and only Firehose of this account may assume it
	roleID := s3["RoleARN"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	got := actionsOn(s.policyStatementsOf(roleID))
	for res := range got {
		if strings.HasPrefix(res, "<"+data+".Arn>/") && !strings.HasPrefix(res, "<"+data+".Arn>/firehose") {
			t.Errorf("Firehose role reaches %s", res)
		}
	}
	// (this stream by its ARN: its name is fixed, so the ARN is known before it exists)
	if p["DeliveryStreamName"] != "LogfanRecipient-firehose" {
		t.Errorf("stream name %v", p["DeliveryStreamName"])
	}
	trust := props(s.json["Resources"].(map[string]any)[roleID].(map[string]any))["AssumeRolePolicyDocument"].(map[string]any)["Statement"]
	want := []any{map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "firehose.amazonaws.com"},
		"Condition": map[string]any{"StringEquals": map[string]any{
			"aws:SourceAccount": "123456789012",
			"aws:SourceArn":     "arn:aws:firehose:us-east-1:123456789012:deliverystream/LogfanRecipient-firehose",
		}}}}
	if !reflect.DeepEqual(trust, want) {
		t.Errorf("Firehose role trust %s", mustJSONString(trust))
	}
	if got := newEvaluator(s.json, nil).eval(t, props(fh)["DeliveryStreamName"]); got != "LogfanRecipient-firehose" {
		t.Errorf("name %v", got)
	}
}

func TestSinkGrantsAreExact(t *testing.T) {
	s := defaultStack(t)
	data := s.refTo(t, "DataBucket")["Ref"].(string)
	quarantine := s.refTo(t, "QuarantineBucket")["Ref"].(string)
	ledger := s.refTo(t, "LedgerTable")["Ref"].(string)
	health := "<" + s.healthTableID(t) + ".Arn>"
	shared := map[string][]string{
		"<" + quarantine + ".Arn>/aws/lambda/*": {"s3:PutObject"},
		"<" + quarantine + ".Arn>":              {"s3:ListBucket"},
		"<" + ledger + ".Arn>":                  {"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"},
	}
	group := "arn:aws:logs:us-east-1:123456789012:log-group:/logfan/*"
	logsActions := []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:PutRetentionPolicy"}
	own := func(sink string) string { return "<" + quarantine + ".Arn>/quarantine/" + sink + "/*" }
	cases := map[string]map[string][]string{
		// (the S3 function writes the health table: TestHealthWriterIsOneConsumer)
		config.SinkS3:       {"<" + data + ".Arn>/logs/*": {"s3:PutObject"}, own(config.SinkS3): {"s3:PutObject"}, health: {"dynamodb:PutItem", "dynamodb:UpdateItem"}},
		config.SinkFirehose: {"<FirehoseStream.Arn>": {"firehose:PutRecordBatch"}, own(config.SinkFirehose): {"s3:PutObject"}},
		config.SinkLogs:     {group: logsActions, group + ":log-stream:*": logsActions, own(config.SinkLogs): {"s3:PutObject"}},
	}
	for sink, want := range cases {
		t.Run(sink, func(t *testing.T) {
			// GIVEN sink's function role
			fn := s.function(t, sink)
			got := actionsOn(s.policyStatementsOf(roleOf(t, fn)))
			// THEN beyond reading the stream and writing its own log group, it may
			// do exactly what its sink and the quarantine need, on exact ARNs
			for res, actions := range got {
				if strings.HasPrefix(res, "<Stream") || strings.HasSuffix(res, "Logs") || strings.Contains(res, "FunctionLogs") {
					continue
				}
				expected, ok := want[res]
				if !ok {
					expected, ok = shared[res]
				}
				if !ok || !reflect.DeepEqual(actions, expected) {
					t.Errorf("%s may %v on %s", sink, actions, res)
				}
			}
			for res := range want {
				if _, ok := got[res]; !ok {
					t.Errorf("%s lacks its grant on %s", sink, res)
				}
			}
		})
	}
	// AND the logs grant follows the target region
	o := orgStack(t)
	if got := actionsOn(o.policyStatementsOf(roleOf(t, o.function(t, config.SinkLogs)))); got["arn:aws:logs:eu-west-1:123456789012:log-group:/logfan/*"] == nil {
		t.Errorf("logsRegion=eu-west-1 not in the grant: %v", got)
	}
	// AND the S3 sink may use the bucket's customer key to encrypt, not to decrypt
	// (the org variant uses the same key for the quarantine: one grant each)
	if got := actionsOn(o.policyStatementsOf(roleOf(t, o.function(t, config.SinkS3)))); len(got[testKeyARN]) == 0 || slices.ContainsFunc(got[testKeyARN], func(a string) bool { return a != "kms:GenerateDataKey" }) {
		t.Errorf("S3 key grant %v", got[testKeyARN])
	}
}

func TestQuarantineGrantsPerFunction(t *testing.T) {
	s := defaultStack(t)
	q := "<" + s.refTo(t, "QuarantineBucket")["Ref"].(string) + ".Arn>"
	lambdaOnly := map[string]any{"Null": map[string]any{"lambda:SourceFunctionArn": "true"}}
	for _, sink := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		t.Run(sink, func(t *testing.T) {
			// GIVEN sink's function role and every statement on the quarantine bucket
			got := map[string]any{}
			for _, st := range s.policyStatementsOf(roleOf(t, s.function(t, sink))) {
				for _, res := range asList(st["Resource"]) {
					if r := render(res); strings.HasPrefix(r, q) {
						got[strings.Join(asStrings(st["Action"]), ",")+" "+r] = st["Condition"]
					}
				}
			}
			// THEN its code may write its own prefix only, and Lambda (whose
			// requests carry no lambda:SourceFunctionArn) the on-failure records
			want := map[string]any{
				"s3:PutObject " + q + "/quarantine/" + sink + "/*": nil,
				"s3:PutObject " + q + "/aws/lambda/*":              lambdaOnly,
				"s3:ListBucket " + q:                               lambdaOnly,
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("quarantine grants\n%s\nwant\n%s", mustJSONString(got), mustJSONString(want))
			}
		})
	}
}

func TestKMSGrantsOnlyThroughTheService(t *testing.T) {
	for name, variant := range map[string]func(*testing.T) *synthesized{"org": orgStack, "imports": importStack} {
		s := variant(t)
		t.Run(name, func(t *testing.T) {
			// GIVEN every statement of the stack's IAM policies that names a KMS action
			for id, p := range s.resources("AWS::IAM::Policy") {
				statements := props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any)
				narrowed := map[string]bool{}
				for _, st := range statements {
					if st := st.(map[string]any); st["Effect"] == "Deny" {
						for _, a := range asStrings(st["Action"]) {
							narrowed[a+" "+render(st["Resource"])] = true
						}
					}
				}
				for _, st := range statements {
					st := st.(map[string]any)
					if !strings.Contains(render(st["Action"]), "kms:") {
						continue
					}
					// THEN it allows the key only in requests Kinesis or S3 make in the
					// stack's region, or denies it in any other request; an
					// unconditional Allow (the one the Kinesis event source adds) must
					// be narrowed by such a Deny in the same policy
					cond := render(st["Condition"])
					if st["Effect"] == "Allow" && st["Condition"] == nil {
						for _, a := range asStrings(st["Action"]) {
							if !narrowed[a+" "+render(st["Resource"])] {
								t.Errorf("%s: %s on %s with no condition and no Deny narrowing it", id, a, render(st["Resource"]))
							}
						}
						continue
					}
					want := map[string]string{"Allow": `{"StringEquals":{"kms:ViaService":`, "Deny": `{"StringNotEquals":{"kms:ViaService":`}[st["Effect"].(string)]
					if !strings.HasPrefix(cond, want+`"kinesis.us-east-1.amazonaws.com"}}`) && !strings.HasPrefix(cond, want+`"s3.us-east-1.amazonaws.com"}}`) {
						t.Errorf("%s: %s %s on %s under %s", id, st["Effect"], render(st["Action"]), render(st["Resource"]), cond)
					}
				}
			}
		})
	}
	// AND the destination role's grant goes through Kinesis, the S3 sink's through S3
	o := orgStack(t)
	key, _ := o.only(t, "AWS::KMS::Key")
	roleID, _ := destinationRole(t, o, nil)
	wantVia := func(role, keyRef, via string, effect string, actions ...string) {
		t.Helper()
		for _, st := range o.policyStatementsOf(role) {
			if render(st["Resource"]) == keyRef && st["Effect"] == effect && reflect.DeepEqual(asStrings(st["Action"]), actions) && strings.Contains(render(st["Condition"]), `"`+via+`"`) {
				return
			}
		}
		t.Errorf("%s: no %s %v on %s via %s in %s", role, effect, actions, keyRef, via, mustJSONString(o.policyStatementsOf(role)))
	}
	wantVia(roleID, "<"+key+".Arn>", "kinesis.us-east-1.amazonaws.com", "Allow", "kms:GenerateDataKey")
	for _, sink := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		// the event source's kms:Decrypt on the stream key, narrowed to Kinesis
		wantVia(roleOf(t, o.function(t, sink)), "<"+key+".Arn>", "kinesis.us-east-1.amazonaws.com", "Deny", "kms:Decrypt")
	}
	wantVia(roleOf(t, o.function(t, config.SinkS3)), testKeyARN, "s3.us-east-1.amazonaws.com", "Allow", "kms:GenerateDataKey")
}

func TestNoWildcardOrManagedPolicies(t *testing.T) {
	for _, variant := range []func(*testing.T) *synthesized{defaultStack, orgStack, importStack} {
		s := variant(t)
		// GIVEN every IAM policy and role of the stack
		for id, p := range s.resources("AWS::IAM::Policy") {
			for _, st := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				// THEN no statement allows every resource or every action of a service
				for _, r := range asList(st["Resource"]) {
					if r == "*" {
						t.Errorf("%s allows %v on *", id, st["Action"])
					}
				}
				for _, a := range asStrings(st["Action"]) {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s allows %s", id, a)
					}
				}
			}
		}
		// AND no role carries a managed policy
		for id, r := range s.resources("AWS::IAM::Role") {
			if props(r)["ManagedPolicyArns"] != nil {
				t.Errorf("role %s has managed policies %v", id, props(r)["ManagedPolicyArns"])
			}
		}
	}
}

// ---- 7. Alarms and dashboard ---------------------------------------------

func TestAlarms(t *testing.T) {
	// GIVEN the default stack
	s := defaultStack(t)
	count := map[string]int{}
	for _, a := range s.resources("AWS::CloudWatch::Alarm") {
		count[props(a)["Namespace"].(string)+"/"+props(a)["MetricName"].(string)]++
	}
	// THEN each function has iterator-age, error and on-failure-delivery alarms,
	// the stream has read and write throughput alarms, and writes to the
	// quarantine bucket (on-failure records) raise one
	want := map[string]int{
		"AWS/Lambda/IteratorAge": 3, "AWS/Lambda/Errors": 3, "AWS/Lambda/DestinationDeliveryFailures": 3,
		"AWS/Kinesis/ReadProvisionedThroughputExceeded": 1, "AWS/Kinesis/WriteProvisionedThroughputExceeded": 1,
		"AWS/S3/PutRequests": 1, "logfan/SilentSenders": 1,
	}
	if !reflect.DeepEqual(count, want) {
		t.Errorf("alarms %v, want %v", count, want)
	}
	s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
		"MetricName": "IteratorAge", "Statistic": "Maximum", "Threshold": 300000,
	})
	s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
		"MetricName": "PutRequests",
		"Dimensions": assertions.Match_ArrayWith(&[]any{map[string]any{"Name": "FilterId", "Value": quarantineMetricsFilter}}),
	})
	// AND with alarmTopicArn every alarm notifies the topic
	for id, a := range orgStack(t).resources("AWS::CloudWatch::Alarm") {
		if !reflect.DeepEqual(props(a)["AlarmActions"], []any{testTopicARN}) {
			t.Errorf("alarm %s actions %v", id, props(a)["AlarmActions"])
		}
	}
}

// dashboardMetrics returns every metric definition of the dashboard's widgets, by widget title.
func dashboardMetrics(t *testing.T, s *synthesized) map[string][]any {
	t.Helper()
	_, d := s.only(t, "AWS::CloudWatch::Dashboard")
	body := newEvaluator(s.json, nil).eval(t, props(d)["DashboardBody"]).(string)
	var doc struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics []any
			}
		}
	}
	if err := jsonUnmarshal(body, &doc); err != nil {
		t.Fatalf("dashboard body: %v", err)
	}
	out := map[string][]any{}
	for _, w := range doc.Widgets {
		out[w.Properties.Title] = w.Properties.Metrics
	}
	return out
}

func TestDashboard(t *testing.T) {
	// GIVEN the default stack's dashboard
	s := defaultStack(t)
	widgets := dashboardMetrics(t, s)
	all := render(widgets)
	// THEN it shows throughput per sink from the functions' EMF metrics
	for _, sink := range s.settings.EnabledSinks() {
		for _, m := range []string{"Delivered", "Bytes", "Quarantined", "Rejected", "Retried"} {
			expr := `SUM(SEARCH('{logfan,sink} MetricName=\"` + m + `\" sink=\"` + sink + `\"', 'Sum', 300))`
			if !strings.Contains(all, expr) {
				t.Errorf("no per-sink %s series for %s (%s)", m, sink, expr)
			}
		}
		// AND per sender: one SEARCH series per owner for each sink
		perSender := render(widgets["Per sender ("+sink+"): events and bytes in"])
		if !strings.Contains(perSender, `SEARCH('{logfan,owner,sink} MetricName=\"Events\" sink=\"`+sink+`\"', 'Sum', 300)`) {
			t.Errorf("per-sender widget for %s: %s", sink, perSender)
		}
	}
	// AND the stream's throughput and throttling
	for _, m := range []string{"IncomingBytes", "ReadProvisionedThroughputExceeded", "WriteProvisionedThroughputExceeded"} {
		if !strings.Contains(all, m) {
			t.Errorf("dashboard lacks %s", m)
		}
	}
}

// ---- 8. Outputs ----------------------------------------------------------

func TestOutputs(t *testing.T) {
	// GIVEN the default stack
	s := defaultStack(t)
	outputs := s.json["Outputs"].(map[string]any)
	// THEN it outputs the destination ARN
	if render(outputs["DestinationArn"].(map[string]any)["Value"]) != "<Destination.Arn>" {
		t.Errorf("DestinationArn output %v", outputs["DestinationArn"])
	}
	cmd := outputs["SubscriptionFilterCommand"].(map[string]any)["Value"]
	// AND the exact command a sender runs, with the destination ARN, in both modes
	accounts := newEvaluator(s.json, nil).eval(t, cmd).(string)
	org := newEvaluator(s.json, map[string]string{ParamSenderOrganizationID: testOrgID}).eval(t, cmd).(string)
	want := `aws logs put-subscription-filter --region us-east-1 --log-group-name <LOG_GROUP> --filter-name logfan --filter-pattern "" --destination-arn ` + s.settings.DestinationARN()
	if accounts != want {
		t.Errorf("account-mode command\n%s\nwant\n%s", accounts, want)
	}
	if org != want+" --role-arn arn:aws:iam::<SENDER_ACCOUNT>:role/<SUBSCRIPTION_ROLE>" {
		t.Errorf("organization-mode command %s", org)
	}
}

func TestIgnoredContextIsASynthWarning(t *testing.T) {
	// GIVEN shardCount set with an on-demand stream
	s := synth(t, "ignored-shards", map[string]any{CtxShardCount: "4"})
	// THEN synth warns that it does nothing, and how to use it
	found := assertions.Annotations_FromStack(s.stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("shardCount=4 is ignored: streamMode is on-demand.*streamMode=provisioned.*")))
	if len(*found) != 1 {
		t.Errorf("%d warnings about shardCount, want 1", len(*found))
	}
}
