package recipient

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

const (
	testRegion1 = "eu-west-1"
	testRegions = "eu-west-1,ap-southeast-2,us-west-2"
)

// Regional variants: cdk.json's configuration with destinationRegions set.

func oneRegion(t *testing.T) *synthesized {
	return synth(t, "regions-1", map[string]any{CtxSenderAccounts: "111111111111", CtxDestinationRegions: testRegion1})
}

func threeRegions(t *testing.T) *synthesized {
	return synth(t, "regions-3", map[string]any{CtxSenderAccounts: "111111111111", CtxDestinationRegions: testRegions})
}

// threeRegionsThreeSenders is threeRegions after onboarding two senders by context.
func threeRegionsThreeSenders(t *testing.T) *synthesized {
	return synth(t, "regions-3-senders-3", map[string]any{CtxSenderAccounts: "111111111111,222222222222,333333333333", CtxDestinationRegions: testRegions})
}

// orgOneRegion is orgStack (organization mode, created stream key) with one region.
func orgOneRegion(t *testing.T) *synthesized {
	return synth(t, "regions-1-org", map[string]any{
		CtxSenderAccounts: "111111111111", CtxOrganizationID: testOrgID, CtxOrganizationPaths: testOrgPath,
		CtxStreamEncryption: EncryptionKMS, CtxDestinationRegions: testRegion1,
	})
}

// importedKeyOneRegion is importStack (imported stream key) with one region.
func importedKeyOneRegion(t *testing.T) *synthesized {
	return synth(t, "regions-1-imported-key", map[string]any{
		CtxSenderAccounts: "111111111111", CtxStreamEncryption: EncryptionKMS, CtxStreamKMSKeyARN: testKeyARN, CtxDestinationRegions: testRegion1,
	})
}

// regionalVariants are checked by cdk-nag and cfn-lint like allVariants.
var regionalVariants = map[string]func(*testing.T) *synthesized{
	"regions-1": oneRegion, "regions-3": threeRegions, "regions-1-org": orgOneRegion,
}

// stacks returns the main stack followed by the regional ones, by region.
func (s *synthesized) stacks() []*synthesized {
	regions := make([]string, 0, len(s.regional))
	for r := range s.regional {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	out := []*synthesized{s}
	for _, r := range regions {
		out = append(out, s.regional[r])
	}
	return out
}

// streamLookup returns the lookup custom resource's ID and the SDK call it makes.
func (s *synthesized) lookup(t *testing.T, rs *synthesized, logicalID string) (string, map[string]any) {
	t.Helper()
	for id, r := range rs.resources("Custom::LogfanStackResourceLookup") {
		var call map[string]any
		raw := newEvaluator(rs.json, nil).eval(t, props(r)["Create"]).(string)
		if err := json.Unmarshal([]byte(raw), &call); err != nil {
			t.Fatal(err)
		}
		if call["parameters"].(map[string]any)["LogicalResourceId"] == logicalID {
			return id, call
		}
	}
	t.Fatalf("no lookup of %s in the regional stack", logicalID)
	return "", nil
}

func TestRegionalStacksOnePerRegion(t *testing.T) {
	for _, c := range []struct {
		variant func(*testing.T) *synthesized
		regions []string
	}{
		{oneRegion, []string{"eu-west-1"}},
		{threeRegions, []string{"eu-west-1", "ap-southeast-2", "us-west-2"}},
	} {
		// GIVEN destinationRegions
		s := c.variant(t)
		// THEN the app holds one stack per region, named for it, deployed
		// to that region of the recipient account, after the recipient stack
		if len(s.regional) != len(c.regions) {
			t.Fatalf("%d regional stacks, want %v", len(s.regional), c.regions)
		}
		for _, region := range c.regions {
			rs := s.regional[region]
			if rs == nil {
				t.Fatalf("no stack for %s", region)
			}
			if *rs.stack.StackName() != "LogfanDestination-"+region || *rs.stack.Region() != region || *rs.stack.Account() != "123456789012" {
				t.Errorf("stack %s in %s/%s", *rs.stack.StackName(), *rs.stack.Account(), *rs.stack.Region())
			}
			deps := rs.stack.Dependencies()
			if deps == nil || !slices.ContainsFunc(*deps, func(d awscdk.Stack) bool { return *d.StackName() == naming.RecipientStack }) {
				t.Errorf("%s does not depend on the recipient stack", region)
			}
		}
	}
}

func TestRegionalDestinationTargetsTheCentralStream(t *testing.T) {
	for name, variant := range map[string]func(*testing.T) *synthesized{"regions-3": threeRegions, "regions-1-org": orgOneRegion, "regions-1-imported-key": importedKeyOneRegion} {
		s := variant(t)
		streamID, _ := s.only(t, "AWS::Kinesis::Stream")
		for region, rs := range s.regional {
			t.Run(name+"/"+region, func(t *testing.T) {
				// GIVEN a regional stack
				destID, dest := rs.only(t, "AWS::Logs::Destination")
				// THEN the stream is looked up by its logical ID in the recipient
				// stack in the home region, read-only
				lookupID, call := s.lookup(t, rs, streamID)
				if call["service"] != "CloudFormation" || call["action"] != "describeStackResource" || call["region"] != "us-east-1" ||
					call["parameters"].(map[string]any)["StackName"] != "LogfanRecipient" {
					t.Errorf("lookup %s", mustJSONString(call))
				}
				// AND the destination has the fixed name and targets the stream's ARN computed from it
				e := newEvaluator(rs.json, nil)
				stream := "arn:aws:kinesis:us-east-1:123456789012:stream/<" + lookupID + ".StackResourceDetail.PhysicalResourceId>"
				if p := props(dest); p["DestinationName"] != "logfan-destination" || e.eval(t, p["TargetArn"]) != stream {
					t.Errorf("destination %s: %s", destID, mustJSONString(p))
				}
				// AND nothing crosses regions by export, which would pin the stream
				for _, tpl := range []map[string]any{rs.json, s.json} {
					if raw, _ := json.Marshal(tpl); strings.Contains(string(raw), "Fn::ImportValue") || strings.Contains(string(raw), `"Export"`) {
						t.Error("a template exports or imports a value")
					}
				}
				// AND the role may only put records into that stream (and use its customer key)
				roleID, _ := destinationRole(t, rs, nil)
				got := map[string][]string{}
				for _, st := range rs.policyStatementsOf(roleID) {
					res := e.eval(t, st["Resource"]).(string)
					got[res] = append(got[res], asStrings(st["Action"])...)
				}
				want := map[string][]string{stream: {"kinesis:PutRecord"}}
				switch {
				case s.settings.Stream.KMSKeyARN != "":
					want[testKeyARN] = []string{"kms:GenerateDataKey"}
				case s.settings.Stream.Encryption == EncryptionKMS:
					keyLogicalID := s.refTo(t, "StreamKey")["Ref"].(string)
					keyLookup, _ := s.lookup(t, rs, keyLogicalID)
					want["arn:aws:kms:us-east-1:123456789012:key/<"+keyLookup+".StackResourceDetail.PhysicalResourceId>"] = []string{"kms:GenerateDataKey"}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("destination role may %v, want %v", got, want)
				}
				// AND the destination is created only after that permission exists
				var policyID string
				for id, p := range rs.resources("AWS::IAM::Policy") {
					if render(props(p)["Roles"].([]any)[0]) == "<"+roleID+">" {
						policyID = id
					}
				}
				if policyID == "" || !slices.Contains(asStrings(dest["DependsOn"]), policyID) {
					t.Errorf("destination DependsOn %v, want the role policy %q", dest["DependsOn"], policyID)
				}
			})
		}
	}
}

func TestRegionalDestinationRoleTrust(t *testing.T) {
	s := threeRegions(t)
	for region, rs := range s.regional {
		t.Run(region, func(t *testing.T) {
			recipient := "arn:aws:logs:" + region + ":123456789012:*"
			// GIVEN the sender parameters WHEN CloudFormation resolves the trust policy
			_, accounts := destinationRole(t, rs, map[string]string{ParamSenderAccounts: "111111111111,222222222222"})
			_, org := destinationRole(t, rs, map[string]string{ParamSenderOrganizationID: testOrgID})
			// THEN CloudWatch Logs may assume the role only for the senders (or the
			// organization) and the recipient account, in this stack's region
			wantAccounts := []any{map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole",
				"Condition": map[string]any{"StringLike": map[string]any{"aws:SourceArn": []any{recipient, "arn:aws:logs:" + region + ":111111111111:*", "arn:aws:logs:" + region + ":222222222222:*"}}}}}
			if !reflect.DeepEqual(accounts, wantAccounts) {
				t.Errorf("account-mode trust %s", mustJSONString(accounts))
			}
			wantOrg := []any{
				map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole",
					"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceOrgID": []any{testOrgID}}}},
				map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole",
					"Condition": map[string]any{"StringLike": map[string]any{"aws:SourceArn": recipient}}},
			}
			if !reflect.DeepEqual(org, wantOrg) {
				t.Errorf("organization-mode trust %s", mustJSONString(org))
			}
		})
	}
}

func TestRegionalAccessPolicy(t *testing.T) {
	s := threeRegions(t)
	for region, rs := range s.regional {
		t.Run(region, func(t *testing.T) {
			arn := "arn:aws:logs:" + region + ":123456789012:destination:logfan-destination"
			// GIVEN the same sender parameters as the recipient stack's
			for _, c := range []struct {
				params    map[string]string
				principal any
			}{
				{nil, map[string]any{"AWS": []any{"111111111111"}}},
				{map[string]string{ParamSenderAccounts: "111111111111,222222222222"}, map[string]any{"AWS": []any{"111111111111", "222222222222"}}},
				{map[string]string{ParamSenderOrganizationID: testOrgID}, map[string]any{"AWS": "*"}},
			} {
				// WHEN CloudFormation resolves what the custom resource sends
				policy, call := rs.accessPolicyApplied(t, c.params)
				// THEN it is PutDestinationPolicy with forceUpdate, for this region's destination
				params := call["parameters"].(map[string]any)
				if call["action"] != "putDestinationPolicy" || params["forceUpdate"] != true {
					t.Errorf("SDK call %s", mustJSONString(call))
				}
				st := policy["Statement"].([]any)[0].(map[string]any)
				if !reflect.DeepEqual(st["Principal"], c.principal) || st["Resource"] != arn {
					t.Errorf("statement %s", mustJSONString(st))
				}
			}
			// AND the policy applied with the defaults is the one whose size synth checked
			_, cr := rs.only(t, "Custom::LogsDestinationPolicy")
			var call map[string]any
			if err := jsonUnmarshal(newEvaluator(rs.json, nil).eval(t, props(cr)["Create"]).(string), &call); err != nil {
				t.Fatal(err)
			}
			if got, want := call["parameters"].(map[string]any)["accessPolicy"], AccessPolicyJSON(arn, s.settings.Senders); got != want {
				t.Errorf("applied %v, checked %v", got, want)
			}
		})
	}
}

func TestRegionalPolicyOverflowFailsSynth(t *testing.T) {
	// GIVEN senders whose policy just fits for the home destination (us-east-1)
	// but not for ap-southeast-2's ARN, five bytes longer
	var senders Senders
	for i := 0; ; i++ {
		next := append(slices.Clone(senders.Accounts), fmt.Sprintf("%012d", 100000000000+i))
		if len(AccessPolicyJSON(naming.DestinationARN("us-east-1", "123456789012", "x"), Senders{Accounts: next})) > MaxAccessPolicyBytes-5 {
			break
		}
		senders.Accounts = next
	}
	base := len(AccessPolicyJSON(naming.DestinationARN("us-east-1", "123456789012", "x"), senders))
	name := "x" + strings.Repeat("y", MaxAccessPolicyBytes-base-2)
	ctx := cdkJSONContext(t)
	ctx[CtxAssetDir] = testAssetDir
	ctx[CtxDestinationName] = name
	ctx[CtxSenderAccounts] = strings.Join(senders.Accounts, ",")
	ctx[CtxDestinationRegions] = "ap-southeast-2"
	settings, err := ParseSettings(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckAccessPolicySize(settings.DestinationARN(), settings.Senders); err != nil {
		t.Fatalf("home policy should fit: %v", err)
	}
	// WHEN the app is synthesized THEN the regional stack's own size check fails it
	if msg := synthPanic(t, ctx, settings); !strings.Contains(msg, "over CloudWatch Logs' limit") {
		t.Errorf("synth failed with %q", msg)
	}
}

func TestRegionalOutputs(t *testing.T) {
	s := threeRegions(t)
	for region, rs := range s.regional {
		outputs := rs.json["Outputs"].(map[string]any)
		// THEN each regional stack outputs its destination's ARN
		if render(outputs["DestinationArn"].(map[string]any)["Value"]) != "<Destination.Arn>" {
			t.Errorf("%s: DestinationArn output %v", region, outputs["DestinationArn"])
		}
		// AND the exact command a sender of that region runs
		cmd := newEvaluator(rs.json, nil).eval(t, outputs["SubscriptionFilterCommand"].(map[string]any)["Value"])
		want := `aws logs put-subscription-filter --region ` + region + ` --log-group-name <LOG_GROUP> --filter-name logfan --filter-pattern "" --destination-arn arn:aws:logs:` + region + `:123456789012:destination:logfan-destination`
		if cmd != want {
			t.Errorf("%s: command\n%s\nwant\n%s", region, cmd, want)
		}
	}
}

func TestRegionalOnboardingAndRegionsReplaceNothing(t *testing.T) {
	// GIVEN no regions, one region, three regions, and three regions after onboarding two senders
	none, one, three, onboarded := defaultStack(t), oneRegion(t), threeRegions(t), threeRegionsThreeSenders(t)
	// THEN adding regions leaves every resource of the recipient stack as it
	// was, except the dashboard, whose text names the destinations
	for _, s := range []*synthesized{one, three} {
		a, b := none.json["Resources"].(map[string]any), s.json["Resources"].(map[string]any)
		if len(a) != len(b) {
			t.Errorf("recipient stack has %d resources, %d without regions", len(b), len(a))
		}
		for id, r := range a {
			if typ := r.(map[string]any)["Type"]; typ != "AWS::CloudWatch::Dashboard" && !reflect.DeepEqual(withoutExpectedRegions(r), withoutExpectedRegions(b[id])) {
				t.Errorf("recipient stack resource %s (%s) changes when regions are added", id, typ)
			}
		}
		// (the watchdog expects every sender in the new regions too)
		if got := newEvaluator(s.json, nil).eval(t, props(b[WatchdogLogicalID].(map[string]any))["Environment"]).(map[string]any)["Variables"].(map[string]any)[config.EnvExpectedRegions]; got != strings.Join(s.settings.ExpectedRegions(), ",") {
			t.Errorf("watchdog expects regions %v", got)
		}
	}
	// AND adding a region leaves the existing regional stack byte for byte as it was
	if !reflect.DeepEqual(one.regional[testRegion1].json, three.regional[testRegion1].json) {
		t.Error("eu-west-1's stack changes when two regions are added")
	}
	// AND onboarding senders changes only parameter defaults in every stack,
	// and every destination's policy then lists the new senders
	for region, rs := range three.regional {
		after := onboarded.regional[region]
		if !reflect.DeepEqual(rs.json["Resources"], after.json["Resources"]) {
			t.Errorf("%s: resources change when senders are onboarded", region)
		}
		p1, p3 := rs.json["Parameters"].(map[string]any), after.json["Parameters"].(map[string]any)
		for name := range p1 {
			if name != ParamSenderAccounts && !reflect.DeepEqual(p1[name], p3[name]) {
				t.Errorf("%s: parameter %s differs", region, name)
			}
		}
		policy, _ := after.accessPolicyApplied(t, nil)
		if got := policy["Statement"].([]any)[0].(map[string]any)["Principal"]; !reflect.DeepEqual(got, map[string]any{"AWS": []any{"111111111111", "222222222222", "333333333333"}}) {
			t.Errorf("%s: onboarded policy admits %v", region, got)
		}
	}
}

// withoutExpectedRegions is a resource without the watchdog's
// LOGFAN_EXPECTED_REGIONS, which names every region on purpose.
func withoutExpectedRegions(r any) any {
	raw, _ := json.Marshal(r)
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	if env, ok := props(c)["Environment"].(map[string]any); ok {
		if vars, ok := env["Variables"].(map[string]any); ok {
			delete(vars, config.EnvExpectedRegions)
		}
	}
	return c
}

func TestRegionalSettingsRejected(t *testing.T) {
	for _, c := range []struct{ regions, want string }{
		{"us-east-1", "regions other than the stack's own"},
		{"eu-west-1,eu-west-1", "each region once"},
		{"cn-north-1", "partition"},
		{"europe", `region "europe" is not an AWS region`},
		{"eu-wset-1", "did you mean eu-west-1?"},
	} {
		_, err := ParseSettings(lookup(map[string]any{CtxDestinationRegions: c.regions}))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.regions, err, c.want)
		}
	}
}
