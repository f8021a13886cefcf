package doctor

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// policy is an IAM policy document (identity, trust or resource policy).
type policy struct {
	Statement statements `json:"Statement"`
}

// statement is one policy statement; the fields that may be a string or a
// list are read as lists.
type statement struct {
	Sid         string                    `json:"Sid"`
	Effect      string                    `json:"Effect"`
	Principal   principal                 `json:"Principal"`
	Action      strList                   `json:"Action"`
	NotAction   strList                   `json:"NotAction"`
	Resource    strList                   `json:"Resource"`
	NotResource strList                   `json:"NotResource"`
	Condition   map[string]map[string]any `json:"Condition"`
}

// statements reads Statement as a list or a single object.
type statements []statement

func (s *statements) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = statements{one}
		return nil
	}
	var many []statement
	err := json.Unmarshal(b, &many)
	*s = many
	return err
}

// strList reads a string or a list of strings.
type strList []string

func (l *strList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = strList{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*l = many
	return err
}

// principal reads "*" or {"AWS": ..., "Service": ..., "Federated": ...}.
type principal map[string]strList

func (p *principal) UnmarshalJSON(b []byte) error {
	var star string
	if err := json.Unmarshal(b, &star); err == nil {
		*p = principal{"AWS": {star}}
		return nil
	}
	var m map[string]strList
	err := json.Unmarshal(b, &m)
	*p = m
	return err
}

// parsePolicy reads a policy document, URL-encoded as IAM returns it or not.
func parsePolicy(doc string) (*policy, error) {
	if strings.HasPrefix(doc, "%7B") || strings.HasPrefix(doc, "%7b") {
		if d, err := url.QueryUnescape(doc); err == nil {
			doc = d
		}
	}
	var p policy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("not a policy document: %w", err)
	}
	return &p, nil
}

// wildcard reports whether s matches IAM's pattern p (* any run, ? one character).
func wildcard(p, s string, fold bool) bool {
	if fold {
		p, s = strings.ToLower(p), strings.ToLower(s)
	}
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(p)) + "$"
	return regexp.MustCompile(re).MatchString(s)
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildcard(p, s, fold) {
			return true
		}
	}
	return false
}

// covers reports whether st applies to action on resource (conditions aside).
func (st *statement) covers(action, resource string) bool {
	if len(st.Action) > 0 && !anyMatch(st.Action, action, true) {
		return false
	}
	if len(st.NotAction) > 0 && anyMatch(st.NotAction, action, true) {
		return false
	}
	if len(st.Resource) > 0 && !anyMatch(st.Resource, resource, false) {
		return false
	}
	if len(st.NotResource) > 0 && anyMatch(st.NotResource, resource, false) {
		return false
	}
	return true
}

// allowed evaluates identity policies as IAM does for one request, without
// their conditions: an explicit Deny wins, else an Allow is needed. It
// returns the verdict and the Sid (or index) of the deciding statement.
func allowed(policies []*policy, action, resource string) (ok bool, by string) {
	var allow string
	for _, p := range policies {
		for i, st := range p.Statement {
			if !st.covers(action, resource) {
				continue
			}
			name := st.Sid
			if name == "" {
				name = fmt.Sprintf("statement %d", i+1)
			}
			if strings.EqualFold(st.Effect, "Deny") && len(st.Condition) == 0 {
				return false, "denied by " + name
			}
			if strings.EqualFold(st.Effect, "Allow") && allow == "" {
				allow = "allowed by " + name
			}
		}
	}
	return allow != "", allow
}

// conditionValues collects the values a statement's conditions give key
// under any operator (StringLike, ArnLike, StringEquals, ForAnyValue:...).
func (st *statement) conditionValues(key string) []string {
	var out []string
	for _, kv := range st.Condition {
		for k, v := range kv {
			if !strings.EqualFold(k, key) {
				continue
			}
			switch v := v.(type) {
			case string:
				out = append(out, v)
			case []any:
				for _, x := range v {
					if s, ok := x.(string); ok {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// expected is who a destination must admit: accounts, or organizations.
type expected struct {
	Accounts []string
	Orgs     []string
}

func (e expected) String() string {
	if len(e.Orgs) > 0 {
		return "organization " + strings.Join(e.Orgs, ", ")
	}
	return fmt.Sprintf("%d accounts (%s)", len(e.Accounts), strings.Join(e.Accounts, ", "))
}

// parseExpected reads a senders output ("111111111111,222222222222" or
// "organizations o-a,o-b").
func parseExpected(v string) expected {
	if orgs, ok := strings.CutPrefix(strings.TrimSpace(v), "organizations "); ok {
		return expected{Orgs: splitList(orgs)}
	}
	return expected{Accounts: splitList(v)}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// accessAdmits lists whom a destination access policy lets call
// logs:PutSubscriptionFilter: accounts by principal, organizations by
// aws:PrincipalOrgID, and whether it admits anyone at all ("*" unconditioned).
func accessAdmits(p *policy, destinationARN string) (accounts, orgs []string, anyone bool) {
	for _, st := range p.Statement {
		if !strings.EqualFold(st.Effect, "Allow") || !st.covers("logs:PutSubscriptionFilter", destinationARN) {
			continue
		}
		orgIDs := st.conditionValues("aws:PrincipalOrgID")
		orgs = append(orgs, orgIDs...)
		for _, a := range st.Principal["AWS"] {
			switch {
			case a == "*":
				if len(orgIDs) == 0 && len(st.conditionValues("aws:PrincipalOrgPaths")) == 0 {
					anyone = true
				}
			case regexp.MustCompile(`^\d{12}$`).MatchString(a):
				accounts = append(accounts, a)
			default:
				if m := regexp.MustCompile(`^arn:[^:]+:iam::(\d{12}):`).FindStringSubmatch(a); m != nil {
					accounts = append(accounts, m[1])
				}
			}
		}
	}
	return accounts, orgs, anyone
}

// accessPolicyFor is the destination access policy the stack applies for
// e: what the fix command puts back.
func accessPolicyFor(destinationARN string, e expected) string {
	st := map[string]any{"Effect": "Allow", "Action": "logs:PutSubscriptionFilter", "Resource": destinationARN}
	if len(e.Orgs) > 0 {
		st["Principal"] = map[string]any{"AWS": "*"}
		st["Condition"] = map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": e.Orgs}}
	} else {
		st["Principal"] = map[string]any{"AWS": e.Accounts}
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{st}})
	return string(b)
}

// logsSourceARN is what aws:SourceArn holds when CloudWatch Logs acts for
// account in region (the stack's trust condition names exactly this).
func logsSourceARN(partition, region, account string) string {
	return "arn:" + partition + ":logs:" + region + ":" + account + ":*"
}

// trustPolicyFor is the destination role's trust policy the stack sets for
// e in region, including the recipient account itself (CloudWatch Logs
// acts for it when it sends the test record at the destination's creation).
func trustPolicyFor(partition, region, recipient string, e expected) string {
	stmt := func(cond map[string]any) map[string]any {
		return map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": cond}
	}
	var sts []any
	if len(e.Orgs) > 0 {
		sts = append(sts, stmt(map[string]any{"StringEquals": map[string]any{"aws:SourceOrgID": e.Orgs}}),
			stmt(map[string]any{"StringLike": map[string]any{"aws:SourceArn": []string{logsSourceARN(partition, region, recipient)}}}))
	} else {
		arns := []string{logsSourceARN(partition, region, recipient)}
		for _, a := range e.Accounts {
			arns = append(arns, logsSourceARN(partition, region, a))
		}
		sts = append(sts, stmt(map[string]any{"StringLike": map[string]any{"aws:SourceArn": arns}}))
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": sts})
	return string(b)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
