// Package onboard prints, for a new sender account and region, exactly what
// to run on each side: the recipient's parameter update that admits the
// account to the destination's access policy, then the sender's
// subscription (AWS CLI or the sender stack), with the real destination ARN.
package onboard

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Names the recipient and sender stacks use (cdk/recipient, cdk/sender).
const (
	// DefaultDestinationName is the recipient's destination name (context destinationName).
	DefaultDestinationName = "logfan-destination"
	// DefaultRecipientStack and DefaultSenderStack are the stacks' default names.
	DefaultRecipientStack = "LogfanRecipient"
	DefaultSenderStack    = "LogfanSender"
	// ParamSenderAccounts is the recipient stack's parameter listing sender accounts.
	ParamSenderAccounts = "SenderAccounts"
	// CtxSenderAccounts is the recipient's context key holding the parameter's default.
	CtxSenderAccounts = "senderAccounts"
	// DefaultFilterName names the subscription filters (sender context senderFilterName).
	DefaultFilterName = "logfan"
	// DefaultPolicyName names an account-level subscription policy (sender context senderPolicyName).
	DefaultPolicyName = "logfan-subscription"
	// SubscriptionRoleName is the role name the CLI commands create in organization mode.
	SubscriptionRoleName = "logfan-subscription"
)

// Request describes the sender to onboard.
type Request struct {
	// Account and Region are the new sender's.
	Account, Region string
	// DestinationARN, if set, is the recipient's destination; otherwise it is
	// built from RecipientAccount, the sender's region and DestinationName.
	DestinationARN   string
	RecipientAccount string
	// RecipientRegion, if set, must equal Region: a log group can only
	// subscribe to a destination in its own region.
	RecipientRegion string
	DestinationName string
	// RecipientStack is the recipient stack's name (DefaultRecipientStack).
	RecipientStack string
	// ExistingSenders, if known, are the accounts the destination admits now;
	// otherwise the printed commands read them from the deployed stack.
	ExistingSenders []string
	// Organization means the destination admits an AWS Organization: no
	// recipient change, and the sender needs a subscription role.
	Organization bool
	// LogGroups are subscribed by name; LogGroupPrefixes are expanded by the
	// printed command. With neither, an account-level subscription policy is printed.
	LogGroups, LogGroupPrefixes []string
	// Exclude lists log groups an account-level policy must leave out.
	Exclude []string
}

var (
	reAccount     = regexp.MustCompile(`^\d{12}$`)
	reRegion      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
	reDestination = regexp.MustCompile(`^arn:(aws[a-z-]*):logs:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):destination:([^:*"\\]{1,512})$`)
	reLogGroup    = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
)

// plan is a validated request.
type plan struct {
	Request
	destination                 string
	partition, recipientAccount string
}

func (r Request) validate() (*plan, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !reAccount.MatchString(r.Account) {
		bad("-account %q: want the new sender's 12-digit account ID", r.Account)
	}
	if !reRegion.MatchString(r.Region) {
		bad("-region %q: want the sender's region, such as eu-west-1", r.Region)
	}
	if r.DestinationName == "" {
		r.DestinationName = DefaultDestinationName
	}
	if r.RecipientStack == "" {
		r.RecipientStack = DefaultRecipientStack
	}
	p := &plan{Request: r}
	switch {
	case r.DestinationARN != "":
		m := reDestination.FindStringSubmatch(r.DestinationARN)
		if m == nil {
			bad("-destination-arn %q: want arn:aws:logs:REGION:ACCOUNT:destination:NAME", r.DestinationARN)
			break
		}
		p.destination, p.partition, p.recipientAccount = r.DestinationARN, m[1], m[3]
		if m[2] != r.Region {
			bad("-destination-arn is in %s, the sender in %s: a log group can only subscribe to a destination of its own region (deploy a recipient stack in %s)", m[2], r.Region, r.Region)
		}
	case r.RecipientAccount != "":
		if !reAccount.MatchString(r.RecipientAccount) {
			bad("-recipient-account %q: want a 12-digit account ID", r.RecipientAccount)
		}
		if r.RecipientRegion != "" && r.RecipientRegion != r.Region {
			bad("-recipient-region %s differs from -region %s: a log group can only subscribe to a destination of its own region (deploy a recipient stack in %s)", r.RecipientRegion, r.Region, r.Region)
		}
		p.partition, p.recipientAccount = partition(r.Region), r.RecipientAccount
		p.destination = fmt.Sprintf("arn:%s:logs:%s:%s:destination:%s", p.partition, r.Region, r.RecipientAccount, r.DestinationName)
	default:
		bad("-destination-arn or -recipient-account is required")
	}
	if p.recipientAccount != "" && p.recipientAccount == r.Account {
		bad("-account %s is the recipient's own account: subscribe its log groups to the stream directly, not through the cross-account destination", r.Account)
	}
	for _, a := range r.ExistingSenders {
		if !reAccount.MatchString(a) {
			bad("-existing-senders %q: want 12-digit account IDs", a)
		}
	}
	for _, list := range [][]string{r.LogGroups, r.LogGroupPrefixes, r.Exclude} {
		for _, g := range list {
			if !reLogGroup.MatchString(g) {
				bad("log group %q: want 1-512 of . - _ / # letters digits", g)
			}
		}
	}
	if len(r.Exclude) > 0 && (len(r.LogGroups) > 0 || len(r.LogGroupPrefixes) > 0) {
		bad("-exclude applies to an account-level subscription policy, printed only without -log-group and -log-group-prefix")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// partition maps a region to its ARN partition.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// quote quotes s for a POSIX shell when it needs it.
func quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Write prints the onboarding steps for r.
func Write(w io.Writer, r Request) error {
	p, err := r.validate()
	if err != nil {
		return err
	}
	ew := &errWriter{w: w}
	p.recipient(ew)
	p.sender(ew)
	p.verify(ew)
	return ew.err
}

func (p *plan) recipient(w *errWriter) {
	w.printf("# Onboarding sender account %s in %s\n", p.Account, p.Region)
	w.printf("# Destination: %s\n\n", p.destination)
	w.printf("## 1. Recipient side (account %s, region %s)\n\n", p.recipientAccount, p.Region)
	if p.Organization {
		w.printf("# Nothing to change: the destination admits the whole organization (SenderOrganizationId);\n")
		w.printf("# check that account %s is a member (or inside SenderOrganizationPaths):\n", p.Account)
		w.printf("aws organizations describe-account --account-id %s\n\n", p.Account)
		return
	}
	if slices.Contains(p.ExistingSenders, p.Account) {
		w.printf("# Account %s is already a sender: nothing to change here.\n\n", p.Account)
		return
	}
	w.printf("# Add the account to the destination's access policy: a parameter update, which\n")
	w.printf("# neither replaces the destination nor interrupts the senders already subscribed.\n")
	stackArgs := fmt.Sprintf("-c account=%s -c region=%s", p.recipientAccount, p.Region)
	if p.RecipientStack != DefaultRecipientStack {
		stackArgs += " -c stackName=" + quote(p.RecipientStack)
	}
	if len(p.ExistingSenders) > 0 {
		all := strings.Join(append(slices.Clone(p.ExistingSenders), p.Account), ",")
		w.printf("npx cdk deploy %s %s --parameters %s=%s\n", quote(p.RecipientStack), stackArgs, ParamSenderAccounts, all)
		w.printf("# Keep the default in step (cdk.json): \"%s\": \"%s\"\n\n", CtxSenderAccounts, all)
		return
	}
	w.printf("current=$(aws cloudformation describe-stacks --region %s --stack-name %s \\\n", p.Region, quote(p.RecipientStack))
	w.printf("  --query \"Stacks[0].Parameters[?ParameterKey=='%s'].ParameterValue\" --output text)\n", ParamSenderAccounts)
	w.printf("case \",$current,\" in *,%s,*) echo \"already a sender\";; *)\n", p.Account)
	w.printf("  npx cdk deploy %s %s --parameters %s=\"${current:+$current,}%s\";; esac\n", quote(p.RecipientStack), stackArgs, ParamSenderAccounts, p.Account)
	w.printf("# Keep the default in step: add %s to \"%s\" in cdk.json.\n\n", p.Account, CtxSenderAccounts)
}

func (p *plan) sender(w *errWriter) {
	w.printf("## 2. Sender side (account %s, region %s), after step 1\n\n", p.Account, p.Region)
	roleArg := ""
	ctxOrg := ""
	if p.Organization {
		roleARN := fmt.Sprintf("arn:%s:iam::%s:role/%s", p.partition, p.Account, SubscriptionRoleName)
		roleArg = " --role-arn " + roleARN
		ctxOrg = " -c senderOrganization=true"
		groups := "*"
		if len(p.LogGroups) > 0 && len(p.LogGroupPrefixes) == 0 {
			groups = ""
		}
		w.printf("# Organization mode needs a subscription role CloudWatch Logs assumes in this account\n")
		w.printf("# (the sender stack below creates it; with the CLI, create it once):\n")
		trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"aws:SourceArn":"arn:%s:logs:%s:%s:*"}}}]}`, p.partition, p.Region, p.Account)
		var resources []string
		if groups == "*" {
			resources = []string{fmt.Sprintf("arn:%s:logs:%s:%s:log-group:*", p.partition, p.Region, p.Account)}
		} else {
			for _, g := range p.LogGroups {
				resources = append(resources, fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", p.partition, p.Region, p.Account, g))
			}
		}
		perms := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":["%s"]}]}`, strings.Join(resources, `","`))
		w.printf("aws iam create-role --role-name %s --assume-role-policy-document %s\n", SubscriptionRoleName, quote(trust))
		w.printf("aws iam put-role-policy --role-name %s --policy-name put-log-events --policy-document %s\n\n", SubscriptionRoleName, quote(perms))
	}

	switch {
	case len(p.LogGroups) > 0 || len(p.LogGroupPrefixes) > 0:
		groupsArg := strings.Join(p.LogGroups, ",")
		if len(p.LogGroupPrefixes) > 0 {
			w.printf("# CloudFormation cannot list log groups at deploy time: expand the prefixes now\n")
			w.printf("# (groups created later need another run, or the account-level policy instead).\n")
			w.printf("groups=%s\n", quote(groupsArg))
			for _, pre := range p.LogGroupPrefixes {
				w.printf("groups=\"$groups,$(aws logs describe-log-groups --region %s --log-group-name-prefix %s \\\n", p.Region, quote(pre))
				w.printf("  --query 'logGroups[].logGroupName' --output text | tr -s '[:space:]' ',')\"\n")
			}
			w.printf("groups=\"${groups#,}\"; groups=\"${groups%%,}\"\n\n")
			groupsArg = "\"$groups\""
		} else {
			groupsArg = quote(groupsArg)
		}
		w.printf("# Either: the sender stack (one subscription filter per log group; at most two per group)\n")
		w.printf("npx cdk deploy %s -c senderDestinationArn=%s -c senderAccount=%s -c senderRegion=%s -c senderLogGroups=%s%s\n\n",
			DefaultSenderStack, p.destination, p.Account, p.Region, groupsArg, ctxOrg)
		w.printf("# Or: the AWS CLI, one call per log group (LimitExceededException: the group has two filters already)\n")
		if len(p.LogGroupPrefixes) > 0 {
			w.printf("for g in ${groups//,/ }; do\n")
			w.printf("  aws logs put-subscription-filter --region %s --log-group-name \"$g\" --filter-name %s --filter-pattern \"\" \\\n", p.Region, DefaultFilterName)
			w.printf("    --destination-arn %s%s\n", p.destination, roleArg)
			w.printf("done\n\n")
			return
		}
		for _, g := range p.LogGroups {
			w.printf("aws logs put-subscription-filter --region %s --log-group-name %s --filter-name %s --filter-pattern \"\" \\\n", p.Region, quote(g), DefaultFilterName)
			w.printf("  --destination-arn %s%s\n", p.destination, roleArg)
		}
		w.printf("\n")
	default:
		w.printf("# No -log-group given: one account-level subscription policy for every log group of\n")
		w.printf("# the account and region, including groups created later (one such policy per region).\n")
		excl := ""
		criteria := ""
		if len(p.Exclude) > 0 {
			excl = " -c senderExcludeLogGroups=" + quote(strings.Join(p.Exclude, ","))
			q := make([]string, len(p.Exclude))
			for i, g := range p.Exclude {
				q[i] = `"` + g + `"`
			}
			criteria = " \\\n  --selection-criteria " + quote("LogGroupName NOT IN ["+strings.Join(q, ", ")+"]")
		}
		w.printf("# Either: the sender stack\n")
		w.printf("npx cdk deploy %s -c senderDestinationArn=%s -c senderAccount=%s -c senderRegion=%s -c senderMode=account-policy%s%s\n\n",
			DefaultSenderStack, p.destination, p.Account, p.Region, excl, ctxOrg)
		doc := fmt.Sprintf(`{"DestinationArn":"%s","FilterPattern":"","Distribution":"ByLogStream"`, p.destination)
		if p.Organization {
			doc += fmt.Sprintf(`,"RoleArn":"arn:%s:iam::%s:role/%s"`, p.partition, p.Account, SubscriptionRoleName)
		}
		doc += "}"
		w.printf("# Or: the AWS CLI\n")
		w.printf("aws logs put-account-policy --region %s --policy-name %s --policy-type SUBSCRIPTION_FILTER_POLICY --scope ALL \\\n", p.Region, DefaultPolicyName)
		w.printf("  --policy-document %s%s\n\n", quote(doc), criteria)
	}
}

func (p *plan) verify(w *errWriter) {
	w.printf("## 3. Check\n\n")
	if len(p.LogGroups) > 0 {
		w.printf("aws logs describe-subscription-filters --region %s --log-group-name %s\n", p.Region, quote(p.LogGroups[0]))
	} else if len(p.LogGroupPrefixes) == 0 {
		w.printf("aws logs describe-account-policies --region %s --policy-type SUBSCRIPTION_FILTER_POLICY\n", p.Region)
	}
	w.printf("# Then, in the recipient account, events from owner %s appear in the logfan metrics\n", p.Account)
	w.printf("# (namespace logfan, dimension owner) within a few minutes.\n")
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// listFlag collects a repeatable, comma-separable flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// Run is `logfan onboard`.
func Run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("onboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var r Request
	var groups, prefixes, existing, exclude listFlag
	fs.StringVar(&r.Account, "account", "", "the new sender's account ID (required)")
	fs.StringVar(&r.Region, "region", "", "the sender's region (required); the destination must be in the same region")
	fs.StringVar(&r.DestinationARN, "destination-arn", "", "the recipient's destination ARN (or give -recipient-account)")
	fs.StringVar(&r.RecipientAccount, "recipient-account", "", "the recipient account, to build the destination ARN")
	fs.StringVar(&r.RecipientRegion, "recipient-region", "", "the recipient stack's region (must equal -region)")
	fs.StringVar(&r.DestinationName, "destination-name", DefaultDestinationName, "the destination's name")
	fs.StringVar(&r.RecipientStack, "recipient-stack", DefaultRecipientStack, "the recipient stack's name")
	fs.BoolVar(&r.Organization, "organization", false, "the destination admits an AWS Organization (organizationId): no recipient change; the sender needs a subscription role")
	fs.Var(&existing, "existing-senders", "accounts the destination admits now (default: read from the deployed stack by the printed command)")
	fs.Var(&groups, "log-group", "log group to subscribe (repeatable or comma-separated)")
	fs.Var(&prefixes, "log-group-prefix", "subscribe the log groups whose names start with this (expanded by the printed command)")
	fs.Var(&exclude, "exclude", "without -log-group: log groups the account-level policy must leave out")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: logfan onboard -account ID -region R (-destination-arn ARN | -recipient-account ID) [-log-group G ...] [-log-group-prefix P] [-organization]")
		fmt.Fprintln(stderr, "\nPrints what to run on the recipient side, then on the sender side, to start sending a new account's logs.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	r.LogGroups, r.LogGroupPrefixes, r.ExistingSenders, r.Exclude = groups, prefixes, existing, exclude
	return Write(stdout, r)
}
