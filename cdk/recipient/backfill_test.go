package recipient

import (
	"fmt"
	"strings"
	"testing"

	"github.com/logfan/logfan/internal/ops/naming"
)

// backfillVariants are checked by cdk-nag and cfn-lint with every other variant (everyStack).
var backfillVariants = map[string]func(*testing.T) *synthesized{"backfill": backfillStack}

// backfillStack lets two sender accounts backfill, with an external ID,
// into a stream under a customer key the stack creates.
func backfillStack(t *testing.T) *synthesized {
	return synth(t, "backfill", map[string]any{
		CtxSenderAccounts: "111111111111", CtxBackfillSenders: "444444444444,555555555555", CtxBackfillExternalID: "logfan-backfill-1",
		CtxStreamEncryption: EncryptionKMS,
	})
}

// backfillRole returns the logical ID and resource of the backfill role, nil if none.
func (s *synthesized) backfillRole() (string, map[string]any) {
	for id, r := range s.resources("AWS::IAM::Role") {
		if strings.HasPrefix(id, "BackfillRole") {
			return id, r
		}
	}
	return "", nil
}

func TestBackfillRoleOffByDefault(t *testing.T) {
	// GIVEN the default context (no backfillSenders)
	s := defaultStack(t)
	// THEN there is no backfill role and no output of it (the template is
	// the one deployed before backfill existed: TestTemplatesUnchanged)
	if id, _ := s.backfillRole(); id != "" {
		t.Errorf("backfill role %s without %s", id, CtxBackfillSenders)
	}
	outs := s.json["Outputs"].(map[string]any)
	for _, o := range []string{naming.OutputBackfillRoleARN, naming.OutputStreamARN} {
		if _, ok := outs[o]; ok {
			t.Errorf("%s output without a backfill role", o)
		}
	}
}

func TestBackfillRole(t *testing.T) {
	// GIVEN backfillSenders, an external ID and a customer-keyed stream
	s := backfillStack(t)
	id, role := s.backfillRole()
	if id == "" {
		t.Fatal("no backfill role")
	}
	// THEN only the two accounts may assume it, each through aws:PrincipalAccount and the external ID
	trust := props(role)["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
	if len(trust) != 1 {
		t.Fatalf("trust statements %v", trust)
	}
	st := trust[0].(map[string]any)
	var principals []string
	for _, p := range asList(st["Principal"].(map[string]any)["AWS"]) {
		principals = append(principals, render(p))
	}
	got := fmt.Sprint(principals, st["Action"], st["Condition"])
	for _, want := range []string{"444444444444:root", "555555555555:root", "sts:AssumeRole",
		"aws:PrincipalAccount:[444444444444 555555555555]", "sts:ExternalId:logfan-backfill-1"} {
		if !strings.Contains(got, want) {
			t.Errorf("trust %s lacks %s", got, want)
		}
	}
	if len(principals) != 2 {
		t.Errorf("principals %v, want the two accounts", principals)
	}
	// AND it may put records into the stream and have Kinesis encrypt them, nothing else
	acts := actionsOn(s.policyStatementsOf(id))
	var lines []string
	for res, a := range acts {
		lines = append(lines, res+" "+strings.Join(a, ","))
	}
	if len(acts) != 2 {
		t.Errorf("the role's grants: %v, want the stream and its key", lines)
	}
	for res, a := range acts {
		switch strings.Join(a, ",") {
		case "kinesis:PutRecord,kinesis:PutRecords":
			if !strings.HasPrefix(res, "<Stream") || strings.Contains(res, "Key") {
				t.Errorf("Kinesis actions on %s", res)
			}
		case "kms:GenerateDataKey":
			if !strings.HasPrefix(res, "<StreamKey") {
				t.Errorf("kms:GenerateDataKey on %s", res)
			}
		default:
			t.Errorf("unexpected grant %s on %s", a, res)
		}
	}
	for _, st := range s.policyStatementsOf(id) {
		if fmt.Sprint(st["Action"]) == "kms:GenerateDataKey" && !strings.Contains(fmt.Sprint(st["Condition"]), "kinesis.us-east-1.amazonaws.com") {
			t.Errorf("the key grant is not limited to Kinesis: %v", st["Condition"])
		}
	}
	// AND its ARN and the stream's are outputs for logfan backfill -role-arn and -stream
	for _, o := range []string{naming.OutputBackfillRoleARN, naming.OutputStreamARN} {
		if _, ok := s.json["Outputs"].(map[string]any)[o]; !ok {
			t.Errorf("no %s output", o)
		}
	}
}

func TestBackfillSettingsErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		ctx  map[string]any
		want string
	}{
		{"bad account", map[string]any{CtxBackfillSenders: "1234"}, "12-digit"},
		{"twice", map[string]any{CtxBackfillSenders: "444444444444,444444444444"}, "each account once"},
		{"the recipient", map[string]any{CtxBackfillSenders: "123456789012"}, "sender accounts"},
		{"external ID alone", map[string]any{CtxBackfillExternalID: "abc"}, CtxBackfillSenders + " to be set"},
		{"bad external ID", map[string]any{CtxBackfillSenders: "444444444444", CtxBackfillExternalID: "a b"}, "sts:AssumeRole accepts"},
		{"too many", map[string]any{CtxBackfillSenders: manyAccounts(40)}, "backfill a few senders at a time"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := map[string]any{CtxSenderAccounts: "111111111111", CtxAccount: "123456789012"}
			for k, v := range c.ctx {
				ctx[k] = v
			}
			_, err := ParseSettings(lookup(ctx))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}

func manyAccounts(n int) string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%012d", 400000000000+i))
	}
	return strings.Join(out, ",")
}
