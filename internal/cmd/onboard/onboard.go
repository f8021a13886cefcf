// Package onboard prints, for a new sender account and its regions, exactly
// what to run on each side: the recipient's parameter update that admits the
// account to every destination's access policy, then the sender's
// subscriptions in each region (AWS CLI or the sender stack), with that
// region's real destination ARN: the recipient stack's in its home region,
// a regional destination stack's (destinationRegions) elsewhere.
package onboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/logfan/logfan/internal/cli/cliflag"
	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

// SubscriptionRoleName is the role name the CLI commands create in organization mode.
const SubscriptionRoleName = "logfan-subscription"

// HeartbeatName names the heartbeat's EventBridge rule and log resource
// policy that the CLI commands create (the sender stack names its own).
const HeartbeatName = "logfan-heartbeat"

// maxSenderShard is the recipient's recipient.MaxSenderShard (a test keeps them equal).
const maxSenderShard = 60

// maxHeartbeatMinutes is the sender stack's sender.MaxHeartbeatMinutes
// (a test keeps them equal; the CLI does not link the CDK).
const maxHeartbeatMinutes = 60

// Request describes the sender to onboard.
type Request struct {
	// Account is the new sender's.
	Account string
	// Regions are the regions whose log groups the sender subscribes; a log
	// group can only subscribe to a destination of its own region.
	Regions []string
	// DestinationARN, if set, is the recipient's destination in one of
	// Regions; otherwise it is built from RecipientAccount, the region and
	// DestinationName. The other regions' destinations have the same
	// account and name.
	DestinationARN   string
	RecipientAccount string
	// RecipientRegion is the recipient stack's (home) region; the recipient
	// serves the other Regions through regional destination stacks. By
	// default it is DestinationARN's region, or the one region of Regions.
	RecipientRegion string
	DestinationName string
	// Shard is the recipient's sender shard the account joins (its
	// senderShards context): 0, the default, is the SenderAccounts
	// parameter's destination DestinationName; shard N's destination is
	// DestinationName-N in every region, and admits the accounts the
	// context lists for it.
	Shard int
	// RecipientStack is the recipient stack's name (naming.RecipientStack).
	RecipientStack string
	// ExistingSenders, if known, are the accounts the destination admits now;
	// otherwise the printed commands read them from the deployed stack.
	ExistingSenders []string
	// Organization means the destination admits an AWS Organization: no
	// recipient change, and the sender needs a subscription role.
	Organization bool
	// LogGroups are subscribed by name; LogGroupPrefixes are expanded by the
	// printed command.
	LogGroups, LogGroupPrefixes []string
	// AccountPolicy asks, instead of LogGroups and LogGroupPrefixes, for an
	// account-level subscription policy: every log group of the account and
	// region, including groups created later. It is never the default: it
	// sends everything the account logs, which must be a choice.
	AccountPolicy bool
	// Exclude lists log groups an account-level policy must leave out.
	Exclude []string
	// HeartbeatMinutes is the interval of the sender's heartbeat (0: none)
	// and HeartbeatLogGroup the log group it is written to; the defaults
	// are the sender stack's (config.DefaultHeartbeatMinutes, config.DefaultHeartbeatLogGroup).
	HeartbeatMinutes  int
	HeartbeatLogGroup string
}

var (
	reAccount     = regexp.MustCompile(`^\d{12}$`)
	reDestination = regexp.MustCompile(`^arn:(aws[a-z-]*):logs:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):destination:([^:*"\\]{1,512})$`)
	reLogGroup    = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
)

// plan is a validated request.
type plan struct {
	Request
	// home is the recipient stack's region; destinations are by region.
	home                        string
	destinations                map[string]string
	partition, recipientAccount string
}

// regional lists the sender's regions served by regional destination stacks.
func (p *plan) regional() []string {
	var out []string
	for _, r := range p.Regions {
		if r != p.home {
			out = append(out, r)
		}
	}
	return out
}

// validate checks the request in phases, fills in its defaults and
// returns the plan, gathering every problem so that one error reports
// them all.
func (r Request) validate() (*plan, error) {
	var v problems
	r.checkSender(&v)
	r.fillDefaults()
	p := &plan{Request: r, home: r.RecipientRegion, destinations: map[string]string{}}
	p.locateRecipient(&v)
	p.nameDestinations(&v)
	p.checkShard(&v)
	p.checkSubscription(&v)
	p.checkHeartbeat(&v)
	if len(v) > 0 {
		return nil, errors.Join(v...)
	}
	return p, nil
}

// problems gathers what is wrong with a request.
type problems []error

// add records a problem.
func (v *problems) add(format string, args ...any) { *v = append(*v, fmt.Errorf(format, args...)) }

// checkSender checks the sender's account and regions, each region once.
func (r *Request) checkSender(v *problems) {
	if !reAccount.MatchString(r.Account) {
		v.add("-account %q: want the new sender's 12-digit account ID", r.Account)
	}
	var regions []string
	for _, region := range r.Regions {
		if err := config.CheckRegion(region); err != nil {
			v.add("-region: %v", err)
		}
		if !slices.Contains(regions, region) {
			regions = append(regions, region)
		}
	}
	if len(r.Regions) == 0 {
		v.add("-region or -regions is required: the sender's regions")
	}
	r.Regions = regions
}

// fillDefaults names the destination, the recipient stack and the
// heartbeat group as the stacks do by default.
func (r *Request) fillDefaults() {
	if r.DestinationName == "" {
		r.DestinationName = naming.Destination
	}
	if r.RecipientStack == "" {
		r.RecipientStack = naming.RecipientStack
	}
	if r.HeartbeatLogGroup == "" {
		r.HeartbeatLogGroup = config.DefaultHeartbeatLogGroup
	}
}

// locateRecipient finds the recipient's account, partition and home
// region, and the destinations' name, from -destination-arn or
// -recipient-account (with -recipient-region).
func (p *plan) locateRecipient(v *problems) {
	if p.RecipientRegion != "" {
		if err := config.CheckRegion(p.RecipientRegion); err != nil {
			v.add("-recipient-region: %v", err)
		}
	}
	switch {
	case p.DestinationARN != "":
		m := reDestination.FindStringSubmatch(p.DestinationARN)
		if m == nil {
			v.add("-destination-arn %q: want arn:aws:logs:REGION:ACCOUNT:destination:NAME", p.DestinationARN)
			break
		}
		p.partition, p.recipientAccount, p.DestinationName = m[1], m[3], m[4]
		if base, ok := strings.CutSuffix(m[4], fmt.Sprintf("-%d", p.Shard)); p.Shard > 0 && ok {
			// The ARN names shard N's destination: the others are named alike.
			p.DestinationName = base
		} else if p.Shard > 0 {
			v.add("-destination-arn names %s, not shard %d's destination (NAME-%d): give shard %d's ARN, or -recipient-account", m[4], p.Shard, p.Shard, p.Shard)
		}
		if err := config.CheckRegion(m[2]); err != nil {
			v.add("-destination-arn: %v", err)
		}
		if p.home == "" {
			p.home = m[2]
		}
		if !slices.Contains(p.Regions, m[2]) {
			v.add("-destination-arn is in %s, the sender in %s: a log group can only subscribe to a destination of its own region (give that region's destination, or add %s to the recipient's %s)",
				m[2], strings.Join(p.Regions, ","), strings.Join(p.Regions, ","), naming.ContextDestinationRegions)
		}
	case p.RecipientAccount != "":
		if !reAccount.MatchString(p.RecipientAccount) {
			v.add("-recipient-account %q: want a 12-digit account ID", p.RecipientAccount)
		}
		if p.home == "" && len(p.Regions) == 1 {
			p.home = p.Regions[0]
		}
		if p.home == "" && len(p.Regions) > 1 {
			v.add("-recipient-region is required with several regions: the recipient stack's region, whose stream the regional destinations feed")
		}
		p.partition, p.recipientAccount = naming.Partition(p.home), p.RecipientAccount
	default:
		v.add("-destination-arn or -recipient-account is required")
	}
}

// nameDestinations names the destination of each sender region, all in
// the recipient's partition.
func (p *plan) nameDestinations(v *problems) {
	for _, region := range p.Regions {
		if p.partition != "" && naming.Partition(region) != p.partition {
			v.add("-region %s is outside the recipient's partition %s: a destination cannot feed a stream in another partition", region, p.partition)
		}
		p.destinations[region] = naming.DestinationARN(region, p.recipientAccount, naming.ShardDestination(p.DestinationName, p.Shard))
	}
}

// checkShard checks the sender shard against the other flags, and that
// the sender is not the recipient itself.
func (p *plan) checkShard(v *problems) {
	switch {
	case p.Shard < 0 || p.Shard > maxSenderShard:
		v.add("-shard %d: want the recipient's sender shard, 0 (the default) to %d", p.Shard, maxSenderShard)
	case p.Shard > 0 && p.Organization:
		v.add("-shard %d with -organization: organization members subscribe to shard 0's destination; other shards admit listed accounts", p.Shard)
	case p.Shard > 0 && len(p.ExistingSenders) > 0:
		v.add("-existing-senders applies to shard 0 (the SenderAccounts parameter); shard %d's accounts are in the recipient's senderShards context", p.Shard)
	}
	if p.recipientAccount != "" && p.recipientAccount == p.Account {
		v.add("-account %s is the recipient's own account: subscribe its log groups to the stream directly, not through the cross-account destination", p.Account)
	}
}

// checkSubscription checks the existing senders and what to subscribe:
// named log groups or prefixes, or the account policy and its exclusions.
func (p *plan) checkSubscription(v *problems) {
	for _, a := range p.ExistingSenders {
		if !reAccount.MatchString(a) {
			v.add("-existing-senders %q: want 12-digit account IDs", a)
		}
	}
	for _, list := range [][]string{p.LogGroups, p.LogGroupPrefixes, p.Exclude} {
		for _, g := range list {
			if !reLogGroup.MatchString(g) {
				v.add("log group %q: want 1-512 of . - _ / # letters digits", g)
			}
		}
	}
	groups := len(p.LogGroups) > 0 || len(p.LogGroupPrefixes) > 0
	switch {
	case p.AccountPolicy && groups:
		v.add("-account-policy subscribes every log group of the account: give it, or -log-group/-log-group-prefix, not both")
	case !p.AccountPolicy && !groups:
		v.add("say what to subscribe: -log-group G (repeatable) or -log-group-prefix P for those log groups, or -account-policy for every log group of the account and region, including groups created later")
	}
	if len(p.Exclude) > 0 && !p.AccountPolicy {
		v.add("-exclude applies to -account-policy (the log groups the account-level policy leaves out)")
	}
}

// checkHeartbeat checks the heartbeat's interval and group, which must not
// be subscribed or excluded like the others.
func (p *plan) checkHeartbeat(v *problems) {
	if p.HeartbeatMinutes < 0 || p.HeartbeatMinutes > maxHeartbeatMinutes {
		v.add("-heartbeat-minutes %d: want 0 (no heartbeat) to %d", p.HeartbeatMinutes, maxHeartbeatMinutes)
	}
	if !reLogGroup.MatchString(p.HeartbeatLogGroup) {
		v.add("-heartbeat-log-group %q: want 1-512 of . - _ / # letters digits", p.HeartbeatLogGroup)
	}
	if p.HeartbeatMinutes > 0 && (slices.Contains(p.LogGroups, p.HeartbeatLogGroup) || slices.Contains(p.Exclude, p.HeartbeatLogGroup)) {
		v.add("log group %s is the heartbeat group: the heartbeat commands subscribe it (drop it from -log-group and -exclude, or -heartbeat-minutes 0)", p.HeartbeatLogGroup)
	}
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
	for i, region := range p.Regions {
		p.sender(ew, region, i == 0)
	}
	p.verify(ew)
	return ew.err
}

func (p *plan) recipient(w *errWriter) {
	w.printf("# Onboarding sender account %s in %s\n", p.Account, strings.Join(p.Regions, ", "))
	if len(p.Regions) == 1 {
		w.printf("# Destination: %s\n", p.destinations[p.Regions[0]])
	} else {
		for _, region := range p.Regions {
			w.printf("# Destination in %s: %s\n", region, p.destinations[region])
		}
	}
	if p.Shard > 0 {
		w.printf("#   (sender shard %d: the account's own destination, one per region)\n", p.Shard)
	}
	regional := p.regional()
	for _, region := range regional {
		w.printf("#   (%s: regional destination stack %s, feeding the recipient's stream in %s)\n", region, naming.DestinationStack(region), p.home)
	}
	w.printf("\n## 1. Recipient side (account %s, region %s)\n\n", p.recipientAccount, p.home)
	if len(regional) > 0 {
		w.printf("# The recipient's \"%s\" context (cdk.json) must list %s, and those\n", naming.ContextDestinationRegions, strings.Join(regional, ","))
		w.printf("# stacks be deployed (npx cdk deploy --all): every destination takes the same sender parameters.\n")
	}
	if p.Organization {
		w.printf("# Nothing to change: the destination admits the whole organization (SenderOrganizationId);\n")
		w.printf("# check that account %s is a member (or inside SenderOrganizationPaths):\n", p.Account)
		w.printf("aws organizations describe-account --account-id %s\n\n", p.Account)
		return
	}
	if p.Shard > 0 {
		p.shardRecipient(w, regional)
		return
	}
	if slices.Contains(p.ExistingSenders, p.Account) {
		w.printf("# Account %s is already a sender: nothing to change here.\n\n", p.Account)
		return
	}
	w.printf("# Add the account to the destination's access policy: a parameter update, which\n")
	w.printf("# neither replaces the destination nor interrupts the senders already subscribed.\n")
	stackArgs := fmt.Sprintf("-c account=%s -c region=%s", p.recipientAccount, p.home)
	if p.RecipientStack != naming.RecipientStack {
		stackArgs += " -c stackName=" + quote(p.RecipientStack)
	}
	// With regional destinations the parameter must reach every stack: the
	// CLI applies a --parameters value without a stack prefix to all of them.
	stacks := quote(p.RecipientStack)
	if len(regional) > 0 {
		stacks = "--all"
	}
	if len(p.ExistingSenders) > 0 {
		all := strings.Join(append(slices.Clone(p.ExistingSenders), p.Account), ",")
		w.printf("npx cdk deploy %s %s --parameters %s=%s\n", stacks, stackArgs, naming.ParamSenderAccounts, all)
		w.printf("# Keep the default in step (cdk.json): \"%s\": \"%s\"\n\n", naming.ContextSenderAccounts, all)
		return
	}
	w.printf("current=$(aws cloudformation describe-stacks --region %s --stack-name %s \\\n", p.home, quote(p.RecipientStack))
	w.printf("  --query \"Stacks[0].Parameters[?ParameterKey=='%s'].ParameterValue\" --output text)\n", naming.ParamSenderAccounts)
	w.printf("case \",$current,\" in *,%s,*) echo \"already a sender\";; *)\n", p.Account)
	w.printf("  npx cdk deploy %s %s --parameters %s=\"${current:+$current,}%s\";; esac\n", stacks, stackArgs, naming.ParamSenderAccounts, p.Account)
	w.printf("# Keep the default in step: add %s to \"%s\" in cdk.json.\n\n", p.Account, naming.ContextSenderAccounts)
}

// shardRecipient prints the recipient's step for a sender of shard N > 0:
// a context change (the shard's accounts are literals of the templates,
// known at synth), deployed to every stack, since every region has the
// shard's destination.
func (p *plan) shardRecipient(w *errWriter, regional []string) {
	w.printf("# Add the account to sender shard %d: its destination %s admits the accounts\n", p.Shard, naming.ShardDestination(p.DestinationName, p.Shard))
	w.printf("# the \"%s\" context (cdk.json) lists for shard %d. Append %s to that list:\n", naming.ContextSenderShards, p.Shard, p.Account)
	w.printf("#   \"%s\": { ..., \"%d\": \"<its accounts>,%s\" }\n", naming.ContextSenderShards, p.Shard, p.Account)
	w.printf("# Synth refuses a full shard and names the shards with room. No other sender's\n")
	w.printf("# destination changes; shard 0's SenderAccounts keeps its deployed value.\n")
	stackArgs := fmt.Sprintf("-c account=%s -c region=%s", p.recipientAccount, p.home)
	if p.RecipientStack != naming.RecipientStack {
		stackArgs += " -c stackName=" + quote(p.RecipientStack)
	}
	stacks := quote(p.RecipientStack)
	if len(regional) > 0 {
		stacks = "--all"
	}
	w.printf("npx cdk deploy %s %s\n\n", stacks, stackArgs)
}

// subscriptionRole prints the CLI commands creating the sender's
// subscription role (organization mode): one IAM role serves every region,
// so its trust names each region's CloudWatch Logs and its policy each
// region's log groups.
func (p *plan) subscriptionRole(w *errWriter) {
	var sources, resources []string
	for _, region := range p.Regions {
		sources = append(sources, fmt.Sprintf("arn:%s:logs:%s:%s:*", p.partition, region, p.Account))
		if len(p.LogGroups) > 0 && len(p.LogGroupPrefixes) == 0 {
			groups := p.LogGroups
			if p.heartbeat() {
				groups = append(slices.Clone(groups), p.HeartbeatLogGroup)
			}
			for _, g := range groups {
				resources = append(resources, fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", p.partition, region, p.Account, g))
			}
		} else {
			resources = append(resources, fmt.Sprintf("arn:%s:logs:%s:%s:log-group:*", p.partition, region, p.Account))
		}
	}
	source := `"` + sources[0] + `"`
	if len(sources) > 1 {
		source = `["` + strings.Join(sources, `","`) + `"]`
	}
	w.printf("# Organization mode needs a subscription role CloudWatch Logs assumes in this account\n")
	w.printf("# (the sender stack below creates it; with the CLI, create it once):\n")
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"aws:SourceArn":%s}}}]}`, source)
	perms := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":["%s"]}]}`, strings.Join(resources, `","`))
	w.printf("aws iam create-role --role-name %s --assume-role-policy-document %s\n", SubscriptionRoleName, quote(trust))
	w.printf("aws iam put-role-policy --role-name %s --policy-name put-log-events --policy-document %s\n\n", SubscriptionRoleName, quote(perms))
}

// sender prints the sender's step in region; first carries what is done once.
func (p *plan) sender(w *errWriter, region string, first bool) {
	w.printf("## 2. Sender side (account %s, region %s), after step 1\n\n", p.Account, region)
	roleArg := ""
	ctxOrg := ""
	if p.Organization {
		roleArg = fmt.Sprintf(" --role-arn arn:%s:iam::%s:role/%s", p.partition, p.Account, SubscriptionRoleName)
		ctxOrg = " -c senderOrganization=true"
		if first {
			p.subscriptionRole(w)
		}
	}

	if len(p.LogGroups) > 0 || len(p.LogGroupPrefixes) > 0 {
		p.subscribeLogGroups(w, region, roleArg, ctxOrg)
		return
	}
	p.accountPolicy(w, region, ctxOrg)
}

// subscribeLogGroups prints the commands that subscribe the named log
// groups (and those the prefixes expand to) in region, by the sender stack
// or the AWS CLI, then the heartbeat's.
func (p *plan) subscribeLogGroups(w *errWriter, region, roleArg, ctxOrg string) {
	destination := p.destinations[region]
	groupsArg := quote(strings.Join(p.LogGroups, ","))
	if len(p.LogGroupPrefixes) > 0 {
		groupsArg = p.expandPrefixes(w, region)
	}
	w.printf("# Either: the sender stack (one subscription filter per log group; at most two per group)\n")
	w.printf("npx cdk deploy %s -c senderDestinationArn=%s -c senderAccount=%s -c senderRegion=%s -c senderLogGroups=%s%s%s\n\n",
		naming.SenderStack, destination, p.Account, region, groupsArg, ctxOrg, p.heartbeatContext())
	w.printf("# Or: the AWS CLI, one call per log group (LimitExceededException: the group has two filters already);\n")
	w.printf("# --emit-system-fields gives the recipient each event's account and region.\n")
	if len(p.LogGroupPrefixes) > 0 {
		w.printf("for g in ${groups//,/ }; do\n")
		w.printf("  aws logs put-subscription-filter --region %s --log-group-name \"$g\" --filter-name %s --filter-pattern \"\" \\\n", region, naming.SubscriptionFilter)
		w.printf("    --destination-arn %s%s --emit-system-fields @aws.account @aws.region\n", destination, roleArg)
		w.printf("done\n\n")
	} else {
		for _, g := range p.LogGroups {
			w.printf("aws logs put-subscription-filter --region %s --log-group-name %s --filter-name %s --filter-pattern \"\" \\\n", region, quote(g), naming.SubscriptionFilter)
			w.printf("  --destination-arn %s%s --emit-system-fields @aws.account @aws.region\n", destination, roleArg)
		}
		w.printf("\n")
	}
	p.heartbeatCommands(w, region, roleArg)
}

// expandPrefixes prints the shell lines that expand the log-group
// prefixes into $groups (with the groups named), and returns the argument
// that refers to it.
func (p *plan) expandPrefixes(w *errWriter, region string) string {
	w.printf("# CloudFormation cannot list log groups at deploy time: expand the prefixes now\n")
	w.printf("# (groups created later need another run, or the account-level policy instead).\n")
	w.printf("groups=%s\n", quote(strings.Join(p.LogGroups, ",")))
	query := "'logGroups[].logGroupName'"
	if p.heartbeat() {
		// The heartbeat group gets its own filter below, never a second one.
		query = fmt.Sprintf("'logGroups[?logGroupName!=`\"%s\"`].logGroupName'", p.HeartbeatLogGroup)
	}
	for _, pre := range p.LogGroupPrefixes {
		w.printf("groups=\"$groups,$(aws logs describe-log-groups --region %s --log-group-name-prefix %s \\\n", region, quote(pre))
		w.printf("  --query %s --output text | tr -s '[:space:]' ',')\"\n", query)
	}
	w.printf("groups=\"${groups#,}\"; groups=\"${groups%%,}\"\n\n")
	return "\"$groups\""
}

// accountPolicy prints the commands that set the account-level
// subscription policy in region (-account-policy), by the sender stack or
// the AWS CLI, then the heartbeat's.
func (p *plan) accountPolicy(w *errWriter, region, ctxOrg string) {
	destination := p.destinations[region]
	w.printf("# -account-policy: one account-level subscription policy for every log group of\n")
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
	w.printf("npx cdk deploy %s -c senderDestinationArn=%s -c senderAccount=%s -c senderRegion=%s -c senderMode=account-policy%s%s%s\n\n",
		naming.SenderStack, destination, p.Account, region, excl, ctxOrg, p.heartbeatContext())
	doc := fmt.Sprintf(`{"DestinationArn":"%s","FilterPattern":"","Distribution":"ByLogStream"`, destination)
	if p.Organization {
		doc += fmt.Sprintf(`,"RoleArn":"arn:%s:iam::%s:role/%s"`, p.partition, p.Account, SubscriptionRoleName)
	}
	doc += "}"
	w.printf("# Or: the AWS CLI. A subscription policy emits no system fields (PutAccountPolicy takes\n")
	w.printf("# none): these events reach the recipient without their region.\n")
	w.printf("aws logs put-account-policy --region %s --policy-name %s --policy-type SUBSCRIPTION_FILTER_POLICY --scope ALL \\\n", region, naming.SubscriptionPolicy)
	w.printf("  --policy-document %s%s\n\n", quote(doc), criteria)
	p.heartbeatCommands(w, region, "")
}

// heartbeat reports whether the sender writes heartbeats.
func (p *plan) heartbeat() bool { return p.HeartbeatMinutes > 0 }

// heartbeatContext is the sender stack's context for a heartbeat other than the default.
func (p *plan) heartbeatContext() string {
	var ctx string
	if p.HeartbeatMinutes != config.DefaultHeartbeatMinutes {
		ctx += fmt.Sprintf(" -c senderHeartbeatMinutes=%d", p.HeartbeatMinutes)
	}
	if p.heartbeat() && p.HeartbeatLogGroup != config.DefaultHeartbeatLogGroup {
		ctx += " -c heartbeatLogGroup=" + quote(p.HeartbeatLogGroup)
	}
	return ctx
}

// heartbeatCommands prints, for the CLI route, what the sender stack's
// heartbeat builds: the log group, an EventBridge schedule rule writing its
// Scheduled Event (account, region, time) there, the resource policy that
// lets exactly that rule write, and in log-group mode the group's own
// subscription filter (an account-level policy selects it already).
// roleArg is the filters' --role-arn, if any.
func (p *plan) heartbeatCommands(w *errWriter, region, roleArg string) {
	if !p.heartbeat() {
		return
	}
	g := p.HeartbeatLogGroup
	groupARN := fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", p.partition, region, p.Account, g)
	ruleARN := fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", p.partition, region, p.Account, HeartbeatName)
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"LogfanHeartbeat","Effect":"Allow",`+
		`"Principal":{"Service":["events.amazonaws.com","delivery.logs.amazonaws.com"]},"Action":["logs:CreateLogStream","logs:PutLogEvents"],`+
		`"Resource":"%s:*","Condition":{"ArnEquals":{"aws:SourceArn":"%s"}}}]}`, groupARN, ruleARN)
	targets := fmt.Sprintf(`[{"Id":"HeartbeatLogGroup","Arn":"%s","RetryPolicy":{"MaximumRetryAttempts":3,"MaximumEventAgeInSeconds":%d}}]`,
		groupARN, max(60, p.HeartbeatMinutes*60))
	w.printf("# And the heartbeat (the sender stack builds it too): every %s EventBridge writes\n", heartbeatEvery(p.HeartbeatMinutes))
	w.printf("# its scheduled event (account, region, time) into %s, which reaches the destination\n", g)
	w.printf("# like the other groups; the recipient reports the sender silent when none arrives.\n")
	w.printf("# No code runs in this account. A region holds at most 10 log resource policies.\n")
	if g != config.DefaultHeartbeatLogGroup {
		w.printf("# The recipient recognises heartbeats by group name: its heartbeatLogGroup context must list %s.\n", g)
	}
	w.printf("aws logs create-log-group --region %s --log-group-name %s\n", region, quote(g))
	w.printf("aws logs put-retention-policy --region %s --log-group-name %s --retention-in-days 7\n", region, quote(g))
	w.printf("aws events put-rule --region %s --name %s --schedule-expression %s \\\n", region, HeartbeatName, quote("rate("+heartbeatEvery(p.HeartbeatMinutes)+")"))
	w.printf("  --description 'logfan heartbeat: the recipient knows this sender is alive'\n")
	w.printf("aws logs put-resource-policy --region %s --policy-name %s --policy-document %s\n", region, HeartbeatName, quote(policy))
	w.printf("aws events put-targets --region %s --rule %s --targets %s\n", region, HeartbeatName, quote(targets))
	if len(p.LogGroups) > 0 || len(p.LogGroupPrefixes) > 0 {
		// Every event whatever other filters keep, with the account and
		// region CloudWatch Logs itself reports.
		w.printf("aws logs put-subscription-filter --region %s --log-group-name %s --filter-name %s --filter-pattern \"\" \\\n", region, quote(g), naming.SubscriptionFilter)
		w.printf("  --destination-arn %s%s --emit-system-fields @aws.account @aws.region\n", p.destinations[region], roleArg)
	}
	w.printf("\n")
}

// heartbeatEvery is the interval as EventBridge's rate expression writes it.
func heartbeatEvery(minutes int) string {
	if minutes == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", minutes)
}

func (p *plan) verify(w *errWriter) {
	w.printf("## 3. Check\n\n")
	for _, region := range p.Regions {
		if len(p.LogGroups) > 0 {
			w.printf("aws logs describe-subscription-filters --region %s --log-group-name %s\n", region, quote(p.LogGroups[0]))
		} else if len(p.LogGroupPrefixes) == 0 {
			w.printf("aws logs describe-account-policies --region %s --policy-type SUBSCRIPTION_FILTER_POLICY\n", region)
		}
	}
	if p.heartbeat() {
		w.printf("# Heartbeats written in the last 15 minutes (one every %s):\n", heartbeatEvery(p.HeartbeatMinutes))
		for _, region := range p.Regions {
			w.printf("aws logs filter-log-events --region %s --log-group-name %s --start-time $(( ($(date +%%s) - 900) * 1000 )) --query 'events[].message'\n", region, quote(p.HeartbeatLogGroup))
		}
	}
	w.printf("# Then, in the recipient account, events from owner %s appear in the logfan metrics\n", p.Account)
	w.printf("# (namespace logfan, dimension owner) within a few minutes")
	if p.heartbeat() {
		w.printf(", and `logfan senders` shows it ok")
	}
	w.printf(".\n")
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

// onboardUsage is what -h prints above the flags.
const onboardUsage = `usage: logfan onboard -account ID (-region R | -regions R1,R2) (-destination-arn ARN | -recipient-account ID [-recipient-region H]) [-shard N] (-log-group G ... | -log-group-prefix P | -account-policy [-exclude G]) [-organization] [-heartbeat-minutes N] [-heartbeat-log-group G]

Prints what to run on the recipient side, then on the sender side, to start sending a new account's logs.
`

// Run is `logfan onboard`.
func Run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := usage.NewFlagSet("onboard", stderr, onboardUsage)
	var r Request
	var groups, prefixes, existing, exclude, regions cliflag.List
	fs.StringVar(&r.Account, "account", "", "the new sender's account ID (required)")
	fs.Var(&regions, "region", "the sender's region (required, or -regions); a log group subscribes to the destination of its own region")
	fs.Var(&regions, "regions", "the sender's regions, comma-separated: the recipient serves those other than its own through regional destination stacks (destinationRegions)")
	fs.StringVar(&r.DestinationARN, "destination-arn", "", "the recipient's destination ARN (or give -recipient-account)")
	fs.StringVar(&r.RecipientAccount, "recipient-account", "", "the recipient account, to build the destination ARN")
	fs.StringVar(&r.RecipientRegion, "recipient-region", "", "the recipient stack's (home) region (default: the destination ARN's, or the one sender region)")
	fs.StringVar(&r.DestinationName, "destination-name", naming.Destination, "the destination's name")
	fs.IntVar(&r.Shard, "shard", 0, "the recipient's sender shard the account joins (senderShards context): 0 is the SenderAccounts parameter's destination, N>0 the destination NAME-N")
	fs.StringVar(&r.RecipientStack, "recipient-stack", naming.RecipientStack, "the recipient stack's name")
	fs.BoolVar(&r.Organization, "organization", false, "the destination admits an AWS Organization (organizationId): no recipient change; the sender needs a subscription role")
	fs.Var(&existing, "existing-senders", "accounts the destination admits now (default: read from the deployed stack by the printed command)")
	fs.Var(&groups, "log-group", "log group to subscribe (repeatable or comma-separated)")
	fs.Var(&prefixes, "log-group-prefix", "subscribe the log groups whose names start with this (expanded by the printed command)")
	fs.BoolVar(&r.AccountPolicy, "account-policy", false, "subscribe every log group of the account and region, including groups created later (an account-level subscription policy), instead of -log-group")
	fs.Var(&exclude, "exclude", "with -account-policy: log groups the policy must leave out")
	fs.IntVar(&r.HeartbeatMinutes, "heartbeat-minutes", config.DefaultHeartbeatMinutes, fmt.Sprintf("the sender's heartbeat interval, 1 to %d minutes; 0: no heartbeat (the recipient cannot tell silence from a broken pipe)", maxHeartbeatMinutes))
	fs.StringVar(&r.HeartbeatLogGroup, "heartbeat-log-group", config.DefaultHeartbeatLogGroup, "the heartbeat's log group (the recipient's heartbeatLogGroup)")
	if err := usage.Parse(fs, args); err != nil {
		return err
	}
	if err := usage.NoArgs(fs); err != nil {
		return err
	}
	r.Regions, r.LogGroups, r.LogGroupPrefixes, r.ExistingSenders, r.Exclude = regions, groups, prefixes, existing, exclude
	if _, err := r.validate(); err != nil {
		return usage.Wrap(err)
	}
	return Write(stdout, r)
}
