package recipient

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const testDestARN = "arn:aws:logs:us-east-1:123456789012:destination:logfan-destination"

func accountsN(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%012d", 100000000000+i)
	}
	return out
}

func TestAccessPolicyAccountForm(t *testing.T) {
	// GIVEN two sender accounts
	// WHEN the policy is rendered
	raw := AccessPolicyJSON(testDestARN, Senders{Accounts: []string{"111111111111", "222222222222"}})
	var p struct {
		Version   string
		Statement []struct {
			Effect    string
			Principal map[string][]string
			Action    []string
			Resource  string
			Condition map[string]any
		}
	}
	// THEN it is valid JSON with bare account IDs as principals, the two
	// sender actions, the destination as resource, and no condition
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	st := p.Statement[0]
	if len(p.Statement) != 1 || st.Effect != "Allow" || p.Version != "2012-10-17" {
		t.Fatalf("policy %s", raw)
	}
	if got := st.Principal["AWS"]; !reflect.DeepEqual(got, []string{"111111111111", "222222222222"}) {
		t.Errorf("principals %v", got)
	}
	if !reflect.DeepEqual(st.Action, []string{"logs:PutSubscriptionFilter", "logs:PutAccountPolicy"}) {
		t.Errorf("actions %v", st.Action)
	}
	if st.Resource != testDestARN || st.Condition != nil {
		t.Errorf("resource %q condition %v", st.Resource, st.Condition)
	}
}

func TestAccessPolicyOrganizationForm(t *testing.T) {
	cases := []struct {
		name  string
		orgs  []string
		paths []string
		want  map[string]any
	}{
		{"organization", []string{testOrgID}, nil, map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": []any{testOrgID}}}},
		{"two organizations", []string{testOrgID, testOrgID2}, nil, map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": []any{testOrgID, testOrgID2}}}},
		{"organization and OU paths", []string{testOrgID}, []string{testOrgPath}, map[string]any{
			"StringEquals":           map[string]any{"aws:PrincipalOrgID": []any{testOrgID}},
			"ForAnyValue:StringLike": map[string]any{"aws:PrincipalOrgPaths": []any{testOrgPath}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN an organization (and maybe OU paths)
			raw := AccessPolicyJSON(testDestARN, Senders{Accounts: []string{"111111111111"}, OrganizationIDs: c.orgs, OrganizationPaths: c.paths})
			var p map[string]any
			if err := json.Unmarshal([]byte(raw), &p); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			st := p["Statement"].([]any)[0].(map[string]any)
			// THEN the principal is {"AWS":"*"} limited by the organization condition
			if !reflect.DeepEqual(st["Principal"], map[string]any{"AWS": "*"}) {
				t.Errorf("principal %v", st["Principal"])
			}
			if !reflect.DeepEqual(st["Condition"], c.want) {
				t.Errorf("condition %v, want %v", st["Condition"], c.want)
			}
		})
	}
}

func TestAccessPolicySizeLimit(t *testing.T) {
	// GIVEN the largest account list that fits in 5,120 bytes
	fit := 0
	for n := 1; n < 1000; n++ {
		if len(AccessPolicyJSON(testDestARN, Senders{Accounts: accountsN(n)})) > MaxAccessPolicyBytes {
			break
		}
		fit = n
	}
	if fit < 300 {
		t.Fatalf("only %d accounts fit; the policy carries too much overhead", fit)
	}
	// WHEN it is checked, and with one account more
	ok := CheckAccessPolicySize(testDestARN, Senders{Accounts: accountsN(fit)})
	over := CheckAccessPolicySize(testDestARN, Senders{Accounts: accountsN(fit + 1)})
	// THEN the limit is exact and the error says what to do
	if ok != nil {
		t.Errorf("%d accounts: %v", fit, ok)
	}
	if over == nil || !strings.Contains(over.Error(), "5120") || !strings.Contains(over.Error(), "organization mode") {
		t.Errorf("%d accounts: %v", fit+1, over)
	}
	// AND organization mode is small whatever the number of accounts
	if err := CheckAccessPolicySize(testDestARN, Senders{Accounts: accountsN(2000), OrganizationIDs: []string{testOrgID}}); err != nil {
		t.Errorf("organization mode: %v", err)
	}
}

func TestTrustPolicyCapacity(t *testing.T) {
	// GIVEN IAM's default and raised trust policy quotas
	cases := []struct {
		region   string
		maxChars int
		want     int
	}{
		{"us-east-1", DefaultTrustPolicyMaxChars, 45},
		{"us-east-1", MaxTrustPolicyMaxChars, 97},
		// Longer region names leave room for fewer senders.
		{"ap-southeast-2", DefaultTrustPolicyMaxChars, 40},
	}
	for _, c := range cases {
		// WHEN the number of senders that fit is computed
		got := MaxTrustedSenders(c.region, "123456789012", c.maxChars)
		// THEN it is the largest list whose resolved document fits, counted as IAM counts
		if got != c.want {
			t.Errorf("%s, %d characters: %d senders fit, want %d", c.region, c.maxChars, got, c.want)
		}
		fits := IAMPolicyChars(TrustPolicyDocument(c.region, "123456789012", Senders{Accounts: accountsN(got)}))
		over := IAMPolicyChars(TrustPolicyDocument(c.region, "123456789012", Senders{Accounts: accountsN(got + 1)}))
		if fits > c.maxChars || over <= c.maxChars {
			t.Errorf("%s: %d senders take %d characters, %d take %d; limit %d", c.region, got, fits, got+1, over, c.maxChars)
		}
		if CheckTrustPolicySize(c.region, "123456789012", Senders{Accounts: accountsN(got)}, c.maxChars) != nil {
			t.Errorf("%s: %d senders refused", c.region, got)
		}
	}
	// AND organization mode is small whatever the account list
	if err := CheckTrustPolicySize("us-east-1", "123456789012", Senders{Accounts: accountsN(500), OrganizationIDs: []string{testOrgID}}, DefaultTrustPolicyMaxChars); err != nil {
		t.Errorf("organization mode: %v", err)
	}
}

func TestIAMPolicyCharsIgnoresWhitespace(t *testing.T) {
	// GIVEN a document IAM would receive indented or compact
	// THEN both count the same: IAM does not count whitespace
	if got := IAMPolicyChars(map[string]any{"Version": "2012-10-17"}); got != len(`{"Version":"2012-10-17"}`) {
		t.Errorf("IAMPolicyChars = %d", got)
	}
}

func TestFirehoseStreamName(t *testing.T) {
	// GIVEN stack names up to CloudFormation's 128 characters
	// THEN the created stream's name is a valid Firehose name of at most 64 characters
	if got := FirehoseStreamName("LogfanRecipient"); got != "LogfanRecipient-firehose" {
		t.Errorf("name %q", got)
	}
	long := strings.Repeat("a", 128)
	if got := FirehoseStreamName(long); len(got) != 64 || !strings.HasSuffix(got, "-firehose") {
		t.Errorf("name %q (%d)", got, len(got))
	}
}
