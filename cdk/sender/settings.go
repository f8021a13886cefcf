package sender

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/logfan/logfan/cdk/cdkcontext"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

// Context keys read by ParseSettings (cdk.json or `-c key=value`). They all
// start with "sender" so that one CDK app can hold the recipient's keys too.
const (
	// CtxDestinationARN is the recipient's destination ARN, or two comma-separated
	// (each subscribed log group gets one filter per destination). Setting it adds the sender stack.
	CtxDestinationARN = "senderDestinationArn"
	// CtxStackName names the stack (default "LogfanSender").
	CtxStackName = "senderStackName"
	// CtxAccount and CtxRegion pin the stack's environment (optional: by default the
	// stack is environment-agnostic and deploys wherever the CLI's credentials point).
	CtxAccount = "senderAccount"
	CtxRegion  = "senderRegion"
	// CtxMode is ModeLogGroups (default) or ModeAccountPolicy.
	CtxMode = "senderMode"
	// CtxLogGroups lists the log groups to subscribe (ModeLogGroups), comma-separated.
	CtxLogGroups = "senderLogGroups"
	// CtxExistingFilters counts filters the groups already have outside this
	// stack, as "group=N,group=N", so synth can enforce the two-per-group limit.
	CtxExistingFilters = "senderExistingFilters"
	// CtxExcludeLogGroups lists log groups an account policy must not select (ModeAccountPolicy).
	CtxExcludeLogGroups = "senderExcludeLogGroups"
	// CtxFilterName names the subscription filters (default "logfan").
	CtxFilterName = "senderFilterName"
	// CtxFilterPattern is the filter pattern (default "": every event).
	CtxFilterPattern = "senderFilterPattern"
	// CtxDistribution is "ByLogStream" (default, CloudWatch Logs' own) or "Random".
	CtxDistribution = "senderDistribution"
	// CtxOrganization creates the subscription role that senders of an
	// organization-mode destination need, and uses it on the filters.
	CtxOrganization = "senderOrganization"
	// CtxPolicyName names the account-level subscription policy (default "logfan-subscription").
	CtxPolicyName = "senderPolicyName"
	// CtxHeartbeatMinutes is how often the stack writes a heartbeat event
	// into CtxHeartbeatLogGroup (default 5; 0 turns heartbeats off).
	CtxHeartbeatMinutes = "senderHeartbeatMinutes"
	// CtxHeartbeatLogGroup names the heartbeat log group. It has no
	// "sender" prefix because the recipient stack reads the same key: its
	// consumers recognise heartbeats by this name.
	CtxHeartbeatLogGroup = "heartbeatLogGroup"
)

// Modes accepted by CtxMode.
const (
	// ModeLogGroups puts one AWS::Logs::SubscriptionFilter on each named log group.
	ModeLogGroups = "log-groups"
	// ModeAccountPolicy sets one AWS::Logs::AccountPolicy of type
	// SUBSCRIPTION_FILTER_POLICY: every log group of the account and region,
	// including groups created later, except the excluded ones.
	ModeAccountPolicy = "account-policy"
)

// Limits CloudWatch Logs enforces.
const (
	// MaxFiltersPerLogGroup is CloudWatch Logs' limit of subscription filters per log group.
	MaxFiltersPerLogGroup = 2
	// MaxSelectionCriteriaBytes bounds an account policy's selection criteria (25 KB, UTF-8).
	MaxSelectionCriteriaBytes = 25 * 1024
	// DefaultStackName, DefaultFilterName and DefaultPolicyName are the defaults of their context keys.
	DefaultStackName  = naming.SenderStack
	DefaultFilterName = naming.SubscriptionFilter
	DefaultPolicyName = naming.SubscriptionPolicy
	// MaxHeartbeatMinutes bounds CtxHeartbeatMinutes: the recipient calls a
	// sender late after two intervals, so hourly is already coarse.
	MaxHeartbeatMinutes = 60
)

// Destination is one recipient destination, parsed from its ARN.
type Destination struct {
	ARN, Partition, Region, Account, Name string
}

// Settings is the validated configuration of one sender stack.
type Settings struct {
	StackName string
	// Account and Region are empty for an environment-agnostic stack.
	Account, Region string
	Destinations    []Destination
	Mode            string
	LogGroups       []string
	// ExistingFilters counts filters outside this stack, per log group.
	ExistingFilters map[string]int
	Exclude         []string
	FilterName      string
	FilterPattern   string
	Distribution    string
	Organization    bool
	PolicyName      string
	// Warnings are context values the mode chosen ignores; the stack
	// shows them as synth warnings.
	Warnings []cdkcontext.Warning
	// HeartbeatMinutes is the heartbeat interval; 0: no heartbeat resources.
	HeartbeatMinutes int
	// HeartbeatLogGroup is the log group the heartbeats are written to.
	HeartbeatLogGroup string
}

// Heartbeat reports whether the stack writes heartbeats.
func (s *Settings) Heartbeat() bool { return s.HeartbeatMinutes > 0 }

var (
	reAccount     = regexp.MustCompile(`^\d{12}$`)
	reDestination = regexp.MustCompile(`^arn:(aws[a-z-]*):logs:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):destination:([^:*"\\]{1,512})$`)
	reStackName   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	// Log group names: 1-512 of [.-_/#A-Za-z0-9] (API_CreateLogGroup).
	reLogGroup   = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
	reFilterName = regexp.MustCompile(`^[^:*]{1,512}$`)
	rePolicyName = regexp.MustCompile(`^[A-Za-z0-9_.\-/#]{1,256}$`)
)

// ParseSettings reads the sender stack's context through lookup
// (app.Node().TryGetContext in production). It returns nil, nil when
// CtxDestinationARN is unset: no sender stack was asked for. Every problem
// is reported in one error.
func ParseSettings(lookup func(key string) any) (*Settings, error) {
	return parseSettings(cdkcontext.NewParser(lookup))
}

// ContextKeys lists every context key ParseSettings reads when a sender
// stack is asked for: with the recipient stack's, the keys the app knows
// (cdk/main refuses any other).
func ContextKeys() []string {
	p := cdkcontext.NewParser(func(key string) any {
		if key == CtxDestinationARN {
			return "arn:aws:logs:eu-west-1:999999999999:destination:" + naming.Destination
		}
		return nil
	})
	_, _ = parseSettings(p) // the defaults: only the keys read matter
	return p.Keys()
}

// parseSettings reads every key in phases, each a function reading or
// checking one part of the stack; the order of the phases is the order of
// the errors and warnings a synth reports.
func parseSettings(p *cdkcontext.Parser) (*Settings, error) {
	arns := p.List(CtxDestinationARN)
	if len(arns) == 0 {
		return nil, nil
	}
	s := parseStackSettings(p)
	parseDestinations(p, s, arns)
	parseLogGroups(p, s)
	if s.Heartbeat() {
		checkHeartbeatGroup(p, s)
	}
	switch s.Mode {
	case ModeLogGroups:
		checkLogGroupsMode(p, s)
	case ModeAccountPolicy:
		checkAccountPolicyMode(p, s, arns)
	}
	ignoredSettings(p, s)
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("logfan sender stack context: %w", err)
	}
	s.Warnings = p.Warnings()
	return s, nil
}

// parseStackSettings reads the stack's own keys: its name, account and
// region, the mode, the filter, the policy and the heartbeat.
func parseStackSettings(p *cdkcontext.Parser) *Settings {
	s := &Settings{
		StackName:     p.Match(CtxStackName, DefaultStackName, reStackName, "a CloudFormation stack name"),
		Account:       p.OptionalMatch(CtxAccount, reAccount, "a 12-digit AWS account ID"),
		Region:        p.String(CtxRegion, ""),
		Mode:          p.OneOf(CtxMode, ModeLogGroups, ModeLogGroups, ModeAccountPolicy),
		FilterName:    p.Match(CtxFilterName, DefaultFilterName, reFilterName, "a filter name without ':' or '*'"),
		FilterPattern: p.String(CtxFilterPattern, ""),
		Distribution:  p.OneOf(CtxDistribution, "ByLogStream", "ByLogStream", "Random"),
		Organization:  p.Bool(CtxOrganization, false),
		PolicyName:    p.Match(CtxPolicyName, DefaultPolicyName, rePolicyName, "a policy name"),

		HeartbeatMinutes:  p.Int(CtxHeartbeatMinutes, config.DefaultHeartbeatMinutes, 0, MaxHeartbeatMinutes),
		HeartbeatLogGroup: p.Match(CtxHeartbeatLogGroup, config.DefaultHeartbeatLogGroup, reLogGroup, "a log group name (1-512 of . - _ / # letters digits)"),
	}
	if s.Region != "" {
		p.Check(CtxRegion, s.Region, config.CheckRegion)
	}
	return s
}

// parseDestinations reads the destination ARNs into s.Destinations: each
// once, all in one region of their partition, the stack's if it names one.
func parseDestinations(p *cdkcontext.Parser, s *Settings, arns []string) {
	seenDest := map[string]bool{}
	for _, a := range arns {
		m := reDestination.FindStringSubmatch(a)
		if m == nil {
			p.Fail(CtxDestinationARN, a, "a CloudWatch Logs destination ARN such as arn:aws:logs:eu-west-1:999999999999:destination:logfan-destination")
			continue
		}
		if seenDest[a] {
			p.Fail(CtxDestinationARN, a, "each destination once")
		}
		seenDest[a] = true
		d := Destination{ARN: a, Partition: m[1], Region: m[2], Account: m[3], Name: m[4]}
		if err := config.CheckRegion(d.Region); err != nil {
			p.Fail(CtxDestinationARN, a, "a destination in an AWS region: "+err.Error())
		} else if naming.Partition(d.Region) != d.Partition {
			p.Fail(CtxDestinationARN, a, "the partition of region "+d.Region+" ("+naming.Partition(d.Region)+")")
		}
		// A subscription filter and its destination must be in the same region.
		if s.Region != "" && d.Region != s.Region {
			p.Fail(CtxDestinationARN, a, "a destination in "+CtxRegion+" "+s.Region+": log groups can only subscribe to a destination of their own region")
		}
		if len(s.Destinations) > 0 && d.Region != s.Destinations[0].Region {
			p.Fail(CtxDestinationARN, a, "destinations of one region (the stack's)")
		}
		s.Destinations = append(s.Destinations, d)
	}
}

// parseLogGroups reads the log groups to subscribe, the filters they
// already have, and the groups an account policy excludes.
func parseLogGroups(p *cdkcontext.Parser, s *Settings) {
	s.LogGroups = p.List(CtxLogGroups)
	seen := map[string]bool{}
	for _, g := range s.LogGroups {
		if !reLogGroup.MatchString(g) {
			p.Fail(CtxLogGroups, g, "log group names (1-512 of . - _ / # letters digits)")
		}
		if seen[g] {
			p.Fail(CtxLogGroups, g, "each log group once (a group listed twice would get two filters per destination)")
		}
		seen[g] = true
	}
	s.ExistingFilters = map[string]int{}
	for _, item := range p.List(CtxExistingFilters) {
		g, n, ok := strings.Cut(item, "=")
		c, err := strconv.Atoi(n)
		if !ok || err != nil || c < 0 || c > MaxFiltersPerLogGroup || !reLogGroup.MatchString(g) {
			p.Fail(CtxExistingFilters, item, fmt.Sprintf("group=N with N from 0 to %d", MaxFiltersPerLogGroup))
			continue
		}
		s.ExistingFilters[g] = c
	}
	s.Exclude = p.List(CtxExcludeLogGroups)
	for _, g := range s.Exclude {
		if !reLogGroup.MatchString(g) {
			p.Fail(CtxExcludeLogGroups, g, "log group names")
		}
	}
}

// checkHeartbeatGroup keeps the heartbeat group out of the groups listed
// and excluded. The stack creates the heartbeat group and its filters
// itself: named among the subscribed groups it would get a second filter
// per destination; excluded from the account policy, no heartbeat would
// reach the recipient.
func checkHeartbeatGroup(p *cdkcontext.Parser, s *Settings) {
	if slices.Contains(s.LogGroups, s.HeartbeatLogGroup) {
		p.Fail(CtxLogGroups, s.HeartbeatLogGroup, "log groups other than the heartbeat group "+CtxHeartbeatLogGroup+", which the stack creates and subscribes itself")
	}
	if slices.Contains(s.Exclude, s.HeartbeatLogGroup) {
		p.Fail(CtxExcludeLogGroups, s.HeartbeatLogGroup, "log groups other than the heartbeat group "+CtxHeartbeatLogGroup+": excluded, no heartbeat would reach the recipient (or "+CtxHeartbeatMinutes+"=0)")
	}
}

// checkLogGroupsMode checks the keys of log-groups mode: groups named,
// none excluded, and room for this stack's filters on each group.
func checkLogGroupsMode(p *cdkcontext.Parser, s *Settings) {
	if len(s.LogGroups) == 0 {
		p.Report(fmt.Errorf("%s: at least one log group is required in %s mode (or %s=%s)", CtxLogGroups, ModeLogGroups, CtxMode, ModeAccountPolicy))
	}
	if len(s.Exclude) > 0 {
		p.Fail(CtxExcludeLogGroups, strings.Join(s.Exclude, ","), CtxMode+"="+ModeAccountPolicy+" (exclusions only apply to an account policy)")
	}
	// CloudWatch Logs allows two subscription filters per log group: this
	// stack adds one per destination to whatever the group already has.
	var over []string
	for _, g := range s.LogGroups {
		if n := s.ExistingFilters[g] + len(s.Destinations); n > MaxFiltersPerLogGroup {
			over = append(over, fmt.Sprintf("%s (%d existing + %d)", g, s.ExistingFilters[g], len(s.Destinations)))
		}
	}
	if len(over) > 0 {
		sort.Strings(over)
		p.Report(fmt.Errorf("%s: CloudWatch Logs allows %d subscription filters per log group; these would have more: %s",
			CtxLogGroups, MaxFiltersPerLogGroup, strings.Join(over, ", ")))
	}
}

// checkAccountPolicyMode checks the keys of account-policy mode: one
// destination, no groups named, criteria within the policy's size, and
// not the recipient's own account.
func checkAccountPolicyMode(p *cdkcontext.Parser, s *Settings, arns []string) {
	if len(s.Destinations) > 1 {
		p.Fail(CtxDestinationARN, strings.Join(arns, ","), "one destination in "+ModeAccountPolicy+" mode (one account-level subscription policy per region)")
	}
	if len(s.LogGroups) > 0 {
		p.Fail(CtxLogGroups, strings.Join(s.LogGroups, ","), CtxMode+"="+ModeLogGroups+" (an account policy selects every group but the excluded ones)")
	}
	if n := len(s.SelectionCriteria()); n > MaxSelectionCriteriaBytes {
		p.Fail(CtxExcludeLogGroups, fmt.Sprintf("%d groups", len(s.Exclude)), fmt.Sprintf("selection criteria of at most %d bytes (this is %d)", MaxSelectionCriteriaBytes, n))
	}
	for _, d := range s.Destinations {
		if s.Account != "" && d.Account == s.Account {
			p.Fail(CtxMode, s.Mode, "log-groups mode in the recipient's own account: logfan's own log groups are named at run time and an account policy can only exclude exact names, so it would feed them back into the stream")
		}
	}
}

// ignoredSettings warns about a key the mode chosen ignores: a value that
// does nothing is likely meant to do something.
func ignoredSettings(p *cdkcontext.Parser, s *Settings) {
	switch s.Mode {
	case ModeLogGroups:
		p.Ignored(CtxPolicyName, DefaultPolicyName, "it names the account-level subscription policy of "+CtxMode+"="+ModeAccountPolicy+"; "+ModeLogGroups+" mode puts filters on the named groups")
	case ModeAccountPolicy:
		p.Ignored(CtxExistingFilters, "", "it counts filters on named log groups ("+CtxMode+"="+ModeLogGroups+"); an account policy adds none to a group")
	}
}

// SelectionCriteria is the account policy's selection: every log group
// except the excluded ones (`LogGroupName NOT IN [...]`, the only criteria a
// subscription filter policy accepts), or "" when nothing is excluded.
func (s *Settings) SelectionCriteria() string {
	if len(s.Exclude) == 0 {
		return ""
	}
	quoted := make([]string, len(s.Exclude))
	for i, g := range s.Exclude {
		quoted[i] = strconv.Quote(g)
	}
	return "LogGroupName NOT IN [" + strings.Join(quoted, ", ") + "]"
}

// FilterNameFor names the filter for destination d: FilterName alone with
// one destination, FilterName-<destination name> with two.
func (s *Settings) FilterNameFor(d Destination) string {
	if len(s.Destinations) == 1 {
		return s.FilterName
	}
	return s.FilterName + "-" + d.Name
}
