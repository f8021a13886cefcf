package recipient

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/cdk/cdkcontext"
	"github.com/logfan/logfan/internal/ops/naming"
)

// Context keys of the backfill role (`logfan backfill`), off by default.
const (
	// CtxBackfillSenders lists the sender accounts, comma-separated, that may
	// assume the backfill role to put their log history into the stream.
	CtxBackfillSenders = "backfillSenders"
	// CtxBackfillExternalID, if set, is the sts:ExternalId the senders must
	// pass when they assume the role.
	CtxBackfillExternalID = "backfillExternalId"
)

// BackfillSettings configure the role sender accounts assume to write
// their history into the stream; no Senders, no role.
type BackfillSettings struct {
	Senders    []string
	ExternalID string
}

// sts:ExternalId's pattern (AssumeRole: 2-1224 of [\w+=,.@:/-]).
// (RE2 repeats at most 1,000, so the length is checked apart.)
var reExternalID = regexp.MustCompile(`^[\w+=,.@:/-]+$`)

// backfillTrustOverhead is the role's trust policy without its accounts
// and external ID, as IAM counts it (no whitespace), rounded up; each
// account adds its principal ARN and its aws:PrincipalAccount value.
const (
	backfillTrustOverhead   = 230
	backfillTrustPerAccount = len(`"arn:aws-us-gov:iam::111111111111:root",`) + len(`"111111111111",`)
)

// parseBackfillSettings reads the backfill keys into s.Backfill.
func parseBackfillSettings(p *cdkcontext.Parser, s *Settings) {
	b := &s.Backfill
	b.Senders = p.List(CtxBackfillSenders)
	seen := map[string]bool{}
	for _, a := range b.Senders {
		switch {
		case !reAccount.MatchString(a):
			p.Fail(CtxBackfillSenders, a, "12-digit AWS account IDs, comma-separated")
		case seen[a]:
			p.Fail(CtxBackfillSenders, a, "each account once")
		case a == s.Account:
			p.Fail(CtxBackfillSenders, a, "sender accounts: the recipient account writes its stream with its own roles")
		}
		seen[a] = true
	}
	b.ExternalID = p.String(CtxBackfillExternalID, "")
	if b.ExternalID != "" && (!reExternalID.MatchString(b.ExternalID) || len(b.ExternalID) < 2 || len(b.ExternalID) > 1224) {
		p.Fail(CtxBackfillExternalID, b.ExternalID, "2 to 1,224 of letters, digits and + = , . @ : / - _ (what sts:AssumeRole accepts)")
	}
	if b.ExternalID != "" && len(b.Senders) == 0 {
		p.Fail(CtxBackfillExternalID, b.ExternalID, CtxBackfillSenders+" to be set as well: the external ID is for the senders' backfill role")
	}
	if max := (s.TrustPolicyMaxChars - backfillTrustOverhead - len(b.ExternalID)) / backfillTrustPerAccount; len(b.Senders) > max {
		p.Fail(CtxBackfillSenders, strings.Join(b.Senders, ","), fmt.Sprintf("at most %d accounts, what the role's trust policy holds within %s=%d: backfill a few senders at a time (the role is only needed while they backfill)", max, CtxTrustPolicyMaxChars, s.TrustPolicyMaxChars))
	}
}

// newBackfillRole creates, when backfillSenders names accounts, the role
// those accounts assume to put their history into the stream as
// subscription payloads (`logfan backfill -role-arn`): PutRecord and
// PutRecords on this stream alone, plus kms:GenerateDataKey through
// Kinesis when the stream has a customer key. The trust names each account
// and, against the confused deputy, requires aws:PrincipalAccount to be
// one of them and, when set, the external ID.
func newBackfillRole(r *recipientStack) awsiam.Role {
	b := r.s.Backfill
	if len(b.Senders) == 0 {
		return nil
	}
	principals := make([]awsiam.IPrincipal, len(b.Senders))
	for i, a := range b.Senders {
		principals[i] = awsiam.NewAccountPrincipal(jsii.String(a))
	}
	cond := map[string]any{"aws:PrincipalAccount": b.Senders}
	if b.ExternalID != "" {
		cond["sts:ExternalId"] = b.ExternalID
	}
	role := awsiam.NewRole(r.stack, jsii.String("BackfillRole"), &awsiam.RoleProps{
		AssumedBy:          awsiam.NewCompositePrincipal(principals...).WithConditions(&map[string]any{"StringEquals": cond}),
		Description:        jsii.String("logfan backfill: sender accounts put their log history into the stream as subscription payloads"),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(12)),
	})
	statements := []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kinesis:PutRecord", "kinesis:PutRecords"),
		Resources: &[]*string{r.stream.stream.StreamArn()},
	})}
	if r.stream.key != nil {
		statements = append(statements, kmsStatement(awsiam.Effect_ALLOW, "StringEquals", viaService("kinesis", r.s.Region), []string{"kms:GenerateDataKey"}, r.stream.key.KeyArn()))
	}
	awsiam.NewPolicy(r.stack, jsii.String("BackfillRolePolicy"), &awsiam.PolicyProps{Roles: &[]awsiam.IRole{role}, Statements: &statements})
	awscdk.NewCfnOutput(r.stack, jsii.String(naming.OutputBackfillRoleARN), &awscdk.CfnOutputProps{
		Description: jsii.String("The role " + CtxBackfillSenders + " assume to put their log history into the stream: logfan backfill -role-arn"),
		Value:       role.RoleArn(),
	})
	newStreamARNOutput(r)
	return role
}

// newStreamARNOutput publishes the stream's ARN, which `logfan backfill
// -stream` takes (a sender cannot look it up in the recipient account).
// Only with the role: a stack without it is unchanged (a backfill with the
// recipient's own credentials finds the ARN from the StreamName output).
func newStreamARNOutput(r *recipientStack) {
	awscdk.NewCfnOutput(r.stack, jsii.String(naming.OutputStreamARN), &awscdk.CfnOutputProps{
		Description: jsii.String("The Kinesis stream behind the destination, by ARN: logfan backfill -stream"),
		Value:       r.stream.stream.StreamArn(),
	})
}
