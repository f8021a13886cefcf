package recipient

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// MaxAccessPolicyBytes is CloudWatch Logs' limit on a destination access policy.
const MaxAccessPolicyBytes = 5120

// Actions a sender may perform on the destination: subscription filters, and
// account-level subscription policies (PutAccountPolicy).
var senderActions = []string{"logs:PutSubscriptionFilter", "logs:PutAccountPolicy"}

// accessPolicy holds the literal pieces of the destination access policy.
// The same pieces build the Go string (for the size check and tests) and the
// CloudFormation Fn::Join over the SenderAccounts parameter, so what is
// measured at synth is byte for byte what CloudFormation sends.
type accessPolicy struct {
	// accountsHead + `"a1","a2"` joined by accountsSep + accountsTail.
	accountsHead, accountsSep, accountsTail string
	// orgHead + org IDs joined by orgSep + orgMid + [pathsHead + paths joined by pathsSep + pathsTail] + orgTail.
	orgHead, orgSep, orgMid, pathsHead, pathsSep, pathsTail, orgTail string
}

// newAccessPolicy prepares the policy pieces for the destination ARN.
func newAccessPolicy(destinationARN string) accessPolicy {
	actions := mustJSON(senderActions)
	resource := mustJSON(destinationARN)
	return accessPolicy{
		// Bare account IDs: CloudWatch Logs rejects account ARNs here.
		accountsHead: `{"Version":"2012-10-17","Statement":[{"Sid":"LogfanSenderAccounts","Effect":"Allow","Principal":{"AWS":["`,
		accountsSep:  `","`,
		accountsTail: `"]},"Action":` + actions + `,"Resource":` + resource + `}]}`,
		// Organization form: Principal {"AWS":"*"} (a bare "*" is rejected)
		// limited by aws:PrincipalOrgID, one or more organizations (a
		// condition with several values matches any of them).
		orgHead:   `{"Version":"2012-10-17","Statement":[{"Sid":"LogfanSenderOrganization","Effect":"Allow","Principal":{"AWS":"*"},"Action":` + actions + `,"Resource":` + resource + `,"Condition":{"StringEquals":{"aws:PrincipalOrgID":["`,
		orgSep:    `","`,
		orgMid:    `"]}`,
		pathsHead: `,"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["`,
		pathsSep:  `","`,
		pathsTail: `"]}`,
		orgTail:   `}}]}`,
	}
}

// forAccounts renders the account-list form.
func (p accessPolicy) forAccounts(accounts []string) string {
	return p.accountsHead + strings.Join(accounts, p.accountsSep) + p.accountsTail
}

// forOrganization renders the organization form, with optional OU paths.
func (p accessPolicy) forOrganization(orgIDs []string, paths []string) string {
	return p.orgHead + strings.Join(orgIDs, p.orgSep) + p.orgMid + p.pathsPart(paths) + p.orgTail
}

func (p accessPolicy) pathsPart(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return p.pathsHead + strings.Join(paths, p.pathsSep) + p.pathsTail
}

// render returns the policy the senders select.
func (p accessPolicy) render(s Senders) string {
	if s.OrganizationMode() {
		return p.forOrganization(s.OrganizationIDs, s.OrganizationPaths)
	}
	return p.forAccounts(s.Accounts)
}

// AccessPolicyJSON renders the destination access policy CloudFormation will
// apply for these senders (the defaults of the stack's parameters).
func AccessPolicyJSON(destinationARN string, s Senders) string {
	return newAccessPolicy(destinationARN).render(s)
}

// CheckAccessPolicySize returns an error when the policy for these senders
// exceeds CloudWatch Logs' 5,120-byte limit.
func CheckAccessPolicySize(destinationARN string, s Senders) error {
	n := len(AccessPolicyJSON(destinationARN, s))
	if n <= MaxAccessPolicyBytes {
		return nil
	}
	return fmt.Errorf("the destination access policy for %d sender accounts is %d bytes, over CloudWatch Logs' limit of %d bytes: "+
		"switch to organization mode (-c %s=o-...) or move accounts to another shard's destination (%s)", len(s.Accounts), n, MaxAccessPolicyBytes, CtxOrganizationID, CtxSenderShards)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // only called with strings and string slices
	}
	return string(b)
}

// Role trust policy limits (IAM quotas): 2,048 characters by default, 4,096
// at most after a quota increase. IAM does not count whitespace.
const (
	DefaultTrustPolicyMaxChars = 2048
	MaxTrustPolicyMaxChars     = 4096
)

// trustStatement is one statement of the destination role's trust policy:
// CloudWatch Logs may assume the role under condition.
func trustStatement(condition map[string]any) map[string]any {
	return map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "logs.amazonaws.com"},
		"Action":    "sts:AssumeRole",
		"Condition": condition,
	}
}

// orgTrustCondition admits CloudWatch Logs acting for an account of one of
// the organizations orgIDs (a list: several values match any of them) and,
// when paths is not nil, under one of those organization paths
// (aws:SourceOrgPaths is multivalued, hence ForAnyValue).
func orgTrustCondition(orgIDs any, paths any) map[string]any {
	c := map[string]any{"StringEquals": map[string]any{"aws:SourceOrgID": orgIDs}}
	if paths != nil {
		c["ForAnyValue:StringLike"] = map[string]any{"aws:SourceOrgPaths": paths}
	}
	return c
}

// logsSourceARN is what aws:SourceArn holds when CloudWatch Logs acts for
// account in region: arn:PARTITION:logs:REGION:ACCOUNT:*.
func logsSourceARN(region, account string) string {
	return "arn:" + partition(region) + ":logs:" + region + ":" + account + ":*"
}

// TrustPolicyDocument is the destination role's trust policy in region as
// CloudFormation resolves it for these senders (the parameters' defaults):
// the document whose size IAM limits. newDestination builds the template's
// Fn::If form from the same statements; a test checks that both agree.
func TrustPolicyDocument(region, account string, s Senders) map[string]any {
	recipient := logsSourceARN(region, account)
	var statements []any
	if s.OrganizationMode() {
		var paths any
		if len(s.OrganizationPaths) > 0 {
			paths = s.OrganizationPaths
		}
		statements = append(statements,
			trustStatement(orgTrustCondition(s.OrganizationIDs, paths)),
			trustStatement(map[string]any{"StringLike": map[string]any{"aws:SourceArn": recipient}}))
	} else {
		arns := []any{recipient}
		for _, a := range s.Accounts {
			arns = append(arns, logsSourceARN(region, a))
		}
		statements = append(statements, trustStatement(map[string]any{"StringLike": map[string]any{"aws:SourceArn": arns}}))
	}
	return map[string]any{"Version": "2012-10-17", "Statement": statements}
}

// IAMPolicyChars counts a policy document the way IAM does against its
// size quotas: the JSON text without whitespace.
func IAMPolicyChars(doc any) int {
	n := 0
	for _, r := range mustJSON(doc) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// CheckTrustPolicySize returns an error when the destination role's trust
// policy in region for these senders exceeds maxChars, naming the size, how
// many senders fit and the ways out.
func CheckTrustPolicySize(region, account string, s Senders, maxChars int) error {
	return checkTrustPolicySize(region, account, s, maxChars, "")
}

// checkTrustPolicySize is CheckTrustPolicySize for the destination role
// described by what ("" for shard 0's).
func checkTrustPolicySize(region, account string, s Senders, maxChars int, what string) error {
	n := IAMPolicyChars(TrustPolicyDocument(region, account, s))
	if n <= maxChars {
		return nil
	}
	fit := MaxTrustedSenders(region, account, maxChars)
	hint := ""
	if maxChars < MaxTrustPolicyMaxChars {
		hint = fmt.Sprintf(", or ask AWS for a higher \"Role trust policy length\" IAM quota (at most %d) and synth with -c %s=%d (%d senders)",
			MaxTrustPolicyMaxChars, CtxTrustPolicyMaxChars, MaxTrustPolicyMaxChars, MaxTrustedSenders(region, account, MaxTrustPolicyMaxChars))
	}
	if what == "" {
		what = "the destination role"
	}
	return fmt.Errorf("the trust policy of %s in %s for %d sender accounts is %d characters (whitespace not counted), over IAM's role trust policy limit of %d (%s): "+
		"at most %d sender accounts fit in %s; switch to organization mode (-c %s=o-...), or move accounts to another shard's destination (%s)%s",
		what, region, len(s.Accounts), n, maxChars, CtxTrustPolicyMaxChars, fit, region, CtxOrganizationID, CtxSenderShards, hint)
}

// MaxTrustedSenders is how many sender accounts the destination role's
// trust policy in region holds within maxChars (account-list mode). Every
// account ID has 12 digits, so the count does not depend on which accounts.
func MaxTrustedSenders(region, account string, maxChars int) int {
	base := IAMPolicyChars(TrustPolicyDocument(region, account, Senders{}))
	one := IAMPolicyChars(TrustPolicyDocument(region, account, Senders{Accounts: []string{account}}))
	if base > maxChars {
		return 0
	}
	return (maxChars - base) / (one - base)
}

// MaxAccessPolicySenders is how many sender accounts the destination access
// policy for destinationARN holds within CloudWatch Logs' 5,120 bytes.
func MaxAccessPolicySenders(destinationARN string) int {
	p := newAccessPolicy(destinationARN)
	one := len(p.forAccounts([]string{"111111111111"}))
	two := len(p.forAccounts([]string{"111111111111", "222222222222"}))
	if one > MaxAccessPolicyBytes {
		return 0
	}
	return 1 + (MaxAccessPolicyBytes-one)/(two-one)
}

// MaxSenderAccounts is how many sender accounts the destination in region
// can admit in account-list mode: the smaller of what its role's trust
// policy and its access policy hold. Zero in organization mode, where the
// account list is not used.
func (s Settings) MaxSenderAccounts(region string) int {
	if s.Senders.OrganizationMode() {
		return 0
	}
	return min(MaxTrustedSenders(region, s.Account, s.TrustPolicyMaxChars), MaxAccessPolicySenders(s.DestinationARNIn(region)))
}
