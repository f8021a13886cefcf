package recipient

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/cdk/cdkcontext"
)

// Sender shards.
//
// One destination admits about 45 listed accounts (its role's trust policy
// names each one's aws:SourceArn within IAM's 2,048 characters), so a
// recipient with more spreads them over shards: shard 0 is the destination
// that existed before (name, logical IDs, SenderAccounts parameter all
// unchanged), shard N the destination DestinationName-N with its own role,
// trust policy and access policy, writing into the same stream.
//
// The assignment is explicit, in the senderShards context, rather than a
// hash of the account ID, because only an explicit assignment keeps every
// promise at once:
//   - a sender's shard changes only when the operator moves it: adding or
//     removing another account touches that account's shard alone;
//   - nothing moves when sharding starts: today's senders stay in shard 0
//     (senderAccounts), where a hash would send most of them elsewhere;
//   - no shard overflows by chance: a hash into B buckets can put one more
//     account into a full bucket, and the only cure, more buckets, moves
//     senders; here a full shard is a synth error naming shards with room;
//   - a shard's resources are named from its number (the key), not from its
//     position or its members, so adding, emptying or removing one shard
//     leaves every other shard's logical IDs and destination as they are.

// parseSenderShards reads the senderShards context: a JSON object whose keys
// are shard numbers (1 to MaxSenderShard) and whose values list the shard's
// accounts (a JSON array, or a comma-separated string). cdk.json may hold
// the object itself; on the command line it is JSON text, or @FILE naming a
// file holding it. seen maps each account already listed to the key listing
// it, so that an account is in one shard only.
func parseSenderShards(p *cdkcontext.Parser, seen map[string]string) []SenderShard {
	doc, ok := senderShardsDoc(p)
	if !ok {
		return nil
	}
	var shards []SenderShard
	for key, v := range doc {
		n, err := strconv.Atoi(key)
		if err != nil || n < 1 || n > MaxSenderShard || strconv.Itoa(n) != key {
			p.Fail(CtxSenderShards, key, fmt.Sprintf("shard numbers from 1 to %d as keys (shard 0 is %s)", MaxSenderShard, CtxSenderAccounts))
			continue
		}
		where := fmt.Sprintf("%s[%q]", CtxSenderShards, key)
		accounts := cdkcontext.NewParser(func(string) any { return v }).List(where)
		for _, a := range accounts {
			switch {
			case !reAccount.MatchString(a):
				p.Fail(where, a, "12-digit AWS account IDs")
			case seen[a] != "":
				p.Fail(where, a, "each account in one shard only (also in "+seen[a]+")")
			}
			seen[a] = where
		}
		if len(accounts) > 0 {
			shards = append(shards, SenderShard{Number: n, Accounts: accounts})
		}
	}
	slices.SortFunc(shards, func(a, b SenderShard) int { return a.Number - b.Number })
	return shards
}

// senderShardsDoc returns the senderShards object, or false when it is
// unset, blank or unreadable (the last recorded as a problem).
func senderShardsDoc(p *cdkcontext.Parser) (map[string]any, bool) {
	var raw []byte
	switch v := p.Value(CtxSenderShards).(type) {
	case nil:
		return nil, false
	case map[string]any:
		return v, true
	case string:
		v = strings.TrimSpace(v)
		if path, isFile := strings.CutPrefix(v, "@"); isFile {
			data, err := os.ReadFile(filepath.Clean(path))
			if err != nil {
				p.Fail(CtxSenderShards, v, "a readable file ("+err.Error()+")")
				return nil, false
			}
			raw = data
		} else {
			raw = []byte(v)
		}
	default:
		p.Fail(CtxSenderShards, fmt.Sprint(v), `a JSON object such as {"1": "111111111111,222222222222"}`)
		return nil, false
	}
	if strings.TrimSpace(string(raw)) == "" {
		return nil, false
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		p.Fail(CtxSenderShards, string(raw), `a JSON object such as {"1": "111111111111,222222222222"} (`+err.Error()+")")
		return nil, false
	}
	return doc, true
}

// StackRegions are the regions with a destination of this recipient: the
// home region and DestinationRegions.
func (s Settings) StackRegions() []string {
	return append([]string{s.Region}, s.DestinationRegions...)
}

// ShardCapacity is how many accounts shard's destination admits in every
// region of the stack: the least, over those regions, of what its role's
// trust policy and its access policy hold.
func (s Settings) ShardCapacity(shard int) int {
	capacity := -1
	for _, region := range s.StackRegions() {
		n := min(MaxTrustedSenders(region, s.Account, s.TrustPolicyMaxChars), MaxAccessPolicySenders(s.ShardDestinationARN(region, shard)))
		if capacity < 0 || n < capacity {
			capacity = n
		}
	}
	return capacity
}

// shardRoom tells where accounts can go instead of a full shard: the
// shards with room left and the lowest unused shard number.
func (s Settings) shardRoom() string {
	var room []string
	used := map[int]bool{0: true}
	for _, sh := range s.Senders.Shards {
		used[sh.Number] = true
		if free := s.ShardCapacity(sh.Number) - len(sh.Accounts); free > 0 {
			room = append(room, fmt.Sprintf("%d (%d free)", sh.Number, free))
		}
	}
	next := ""
	for n := 1; n <= MaxSenderShard; n++ {
		if !used[n] {
			next = fmt.Sprintf("start shard %d (up to %d accounts)", n, s.ShardCapacity(n))
			break
		}
	}
	switch {
	case len(room) > 0 && next != "":
		return fmt.Sprintf("move the accounts added last to a shard with room: %s; or %s", strings.Join(room, ", "), next)
	case len(room) > 0:
		return "move the accounts added last to a shard with room: " + strings.Join(room, ", ")
	case next != "":
		return "move the accounts added last to a new shard: " + next
	}
	return fmt.Sprintf("every shard up to %d is full: use organization mode or another recipient stack", MaxSenderShard)
}

// CloudFormation's limits on one template (CloudFormation User Guide,
// "Understand CloudFormation quotas"; cfn-lint checks the same numbers).
const (
	maxTemplateResources = 500
	maxTemplateOutputs   = 200
)

// templateLimitsValidation fails synth when a stack declares more
// resources or outputs than one template may: every sender shard adds some
// of each, and CloudFormation would refuse the template only at deploy.
type templateLimitsValidation struct {
	stack awscdk.Stack
	s     Settings
}

// Validate implements constructs.IValidation.
func (v *templateLimitsValidation) Validate() *[]*string {
	resources, outputs := 0, 0
	for _, c := range *v.stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		// Nested stacks' constructs would count in their own template; logfan has none.
		switch c.(type) {
		case awscdk.CfnResource:
			resources++
		case awscdk.CfnOutput:
			outputs++
		}
	}
	out := []*string{}
	if resources > maxTemplateResources {
		out = append(out, jsii.String(fmt.Sprintf("stack %s declares %d resources, over CloudFormation's %d per template (%d sender shards add 4 each): fewer, fuller shards (%s), or organization mode",
			*v.stack.StackName(), resources, maxTemplateResources, len(v.s.Senders.Shards), CtxSenderShards)))
	}
	if outputs > maxTemplateOutputs {
		out = append(out, jsii.String(fmt.Sprintf("stack %s declares %d outputs, over CloudFormation's %d per template (%d sender shards add 2 each): fewer, fuller shards (%s)",
			*v.stack.StackName(), outputs, maxTemplateOutputs, len(v.s.Senders.Shards), CtxSenderShards)))
	}
	return &out
}
