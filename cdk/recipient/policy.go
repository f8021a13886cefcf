package recipient

import (
	"encoding/json"
	"fmt"
	"strings"
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
	// orgHead + org ID + orgMid + [pathsHead + paths joined by pathsSep + pathsTail] + orgTail.
	orgHead, orgMid, pathsHead, pathsSep, pathsTail, orgTail string
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
		// Organization form: Principal {"AWS":"*"} (a bare "*" is rejected) limited by aws:PrincipalOrgID.
		orgHead:   `{"Version":"2012-10-17","Statement":[{"Sid":"LogfanSenderOrganization","Effect":"Allow","Principal":{"AWS":"*"},"Action":` + actions + `,"Resource":` + resource + `,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"`,
		orgMid:    `"}`,
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
func (p accessPolicy) forOrganization(orgID string, paths []string) string {
	return p.orgHead + orgID + p.orgMid + p.pathsPart(paths) + p.orgTail
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
		return p.forOrganization(s.OrganizationID, s.OrganizationPaths)
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
		"switch to organization mode (-c %s=o-...) or split the senders across destinations", len(s.Accounts), n, MaxAccessPolicyBytes, CtxOrganizationID)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // only called with strings and string slices
	}
	return string(b)
}
