package recipient

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/internal/ops/naming"
)

// shardedStack: shard 0 plus shards 1 and 3 (2 left out, as after its
// senders left), with a regional destination stack.
func shardedStack(t *testing.T) *synthesized {
	return synth(t, "sharded", map[string]any{
		CtxSenderAccounts:     "111111111111,222222222222",
		CtxSenderShards:       map[string]any{"1": "333333333333,444444444444", "3": []any{"555555555555"}},
		CtxDestinationRegions: testRegion1,
	})
}

// shardVariants are checked by cdk-nag and cfn-lint like allVariants.
var shardVariants = map[string]func(*testing.T) *synthesized{"sharded": shardedStack}

// resolvedDestination is one destination of a template as CloudFormation
// resolves it for the parameters' defaults.
type resolvedDestination struct {
	logicalID, name, roleID string
	// trust is the role's trust policy, access the text PutDestinationPolicy receives.
	trust  map[string]any
	access string
}

// senders lists the accounts the access policy admits.
func (d resolvedDestination) senders(t *testing.T) []string {
	t.Helper()
	var p struct {
		Statement []struct{ Principal map[string]any }
	}
	if err := json.Unmarshal([]byte(d.access), &p); err != nil {
		t.Fatalf("%s: access policy: %v", d.name, err)
	}
	var out []string
	for _, a := range asList(p.Statement[0].Principal["AWS"]) {
		out = append(out, a.(string))
	}
	return out
}

// trustedSourceARNs lists the aws:SourceArn values the trust policy admits.
func (d resolvedDestination) trustedSourceARNs() []string {
	var out []string
	for _, st := range d.trust["Statement"].([]any) {
		cond, _ := st.(map[string]any)["Condition"].(map[string]any)
		like, _ := cond["StringLike"].(map[string]any)
		for _, a := range asList(like["aws:SourceArn"]) {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// destinations resolves every destination of the template, by name.
func (s *synthesized) destinations(t *testing.T) map[string]resolvedDestination {
	t.Helper()
	e := newEvaluator(s.json, nil)
	byDest := map[string]string{}
	for id, cr := range s.resources("Custom::LogsDestinationPolicy") {
		var call map[string]any
		if err := json.Unmarshal([]byte(e.eval(t, props(cr)["Create"]).(string)), &call); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		params := call["parameters"].(map[string]any)
		byDest[params["destinationName"].(string)] = params["accessPolicy"].(string)
	}
	out := map[string]resolvedDestination{}
	for id, dest := range s.resources("AWS::Logs::Destination") {
		roleID := props(dest)["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		role := s.json["Resources"].(map[string]any)[roleID].(map[string]any)
		access, ok := byDest["<"+id+">"]
		if !ok {
			t.Fatalf("no access policy applied to %s", id)
		}
		d := resolvedDestination{logicalID: id, name: props(dest)["DestinationName"].(string), roleID: roleID,
			trust: e.eval(t, props(role)["AssumeRolePolicyDocument"]).(map[string]any), access: access}
		out[d.name] = d
	}
	return out
}

// checkShards checks every destination of every stack of s: each within its
// limits measured on the resolved documents, each sender admitted by its
// own shard's destination (access policy and trust) and by no other.
func checkShards(t *testing.T, s *synthesized) {
	t.Helper()
	settings := s.settings
	for _, st := range s.stacks() {
		region := *st.stack.Region()
		dests := st.destinations(t)
		if want := len(settings.Senders.Shards) + 1; len(dests) != want {
			t.Errorf("%s: %d destinations, want %d", region, len(dests), want)
		}
		admitted := map[string][]string{}
		for name, d := range dests {
			if n := len(d.access); n > MaxAccessPolicyBytes {
				t.Errorf("%s %s: access policy %d bytes", region, name, n)
			}
			if n := IAMPolicyChars(d.trust); n > settings.TrustPolicyMaxChars {
				t.Errorf("%s %s: trust policy %d characters", region, name, n)
			}
			trusted := d.trustedSourceARNs()
			for _, a := range d.senders(t) {
				admitted[a] = append(admitted[a], name)
				if !slices.Contains(trusted, logsSourceARN(region, a)) {
					t.Errorf("%s %s admits %s but its role does not trust it", region, name, a)
				}
			}
		}
		for _, a := range append(slices.Clone(settings.Senders.Accounts), settings.Senders.ShardedAccounts()...) {
			want := settings.ShardDestinationName(settings.Senders.ShardOf(a))
			if !reflect.DeepEqual(admitted[a], []string{want}) {
				t.Errorf("%s: %s admitted by %v, want %s only", region, a, admitted[a], want)
			}
		}
	}
}

func TestShardDestinations(t *testing.T) {
	// GIVEN senders in shard 0 and in shards 1 and 3, and a destination region
	s := shardedStack(t)
	// THEN each stack has one destination per shard, each admitting its own
	// senders only, within its limits
	checkShards(t, s)
	for _, st := range s.stacks() {
		region := *st.stack.Region()
		dests := st.destinations(t)
		// AND shard 0 keeps the unsharded stack's name and logical IDs, and
		// shard N's are named from N
		for _, c := range []struct {
			name, logicalID, roleID string
		}{
			{naming.Destination, "Destination", logicalIDLike(t, st, "AWS::IAM::Role", "DestinationRole")},
			{naming.Destination + "-1", "DestinationShard1", logicalIDLike(t, st, "AWS::IAM::Role", "DestinationShard1Role")},
			{naming.Destination + "-3", "DestinationShard3", logicalIDLike(t, st, "AWS::IAM::Role", "DestinationShard3Role")},
		} {
			d, ok := dests[c.name]
			if !ok || d.logicalID != c.logicalID || d.roleID != c.roleID {
				t.Errorf("%s: destination %s: %+v, want logical ID %s, role %s", region, c.name, d, c.logicalID, c.roleID)
			}
		}
		// AND the outputs name every shard's destination and its senders
		outputs := st.json["Outputs"].(map[string]any)
		e := newEvaluator(st.json, nil)
		for key, want := range map[string]string{
			"DestinationSenders":       "111111111111,222222222222",
			"DestinationShard1Senders": "333333333333,444444444444",
			"DestinationShard3Senders": "555555555555",
			"DestinationShard1Arn":     "<DestinationShard1.Arn>",
			"DestinationShard3Arn":     "<DestinationShard3.Arn>",
		} {
			o, ok := outputs[key].(map[string]any)
			if !ok {
				t.Errorf("%s: no output %s", region, key)
				continue
			}
			if got := e.eval(t, o["Value"]); got != want {
				t.Errorf("%s: output %s = %v, want %s", region, key, got, want)
			}
		}
		if _, ok := outputs["DestinationShard2Arn"]; ok {
			t.Errorf("%s: an output for the empty shard 2", region)
		}
	}
}

func TestShardedSendersCommand(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import jmespath").Run()
	}
	if err != nil {
		t.Skip("python3 with jmespath (the AWS CLI's query language, installed with awscli) not found")
	}
	// GIVEN the sharded stack's SendersCommand output
	s := shardedStack(t)
	e := newEvaluator(s.json, nil)
	cmd := e.eval(t, s.json["Outputs"].(map[string]any)["SendersCommand"].(map[string]any)["Value"]).(string)
	head := `-accounts-file=<(aws cloudformation describe-stacks --region us-east-1 --stack-name LogfanRecipient --query "`
	_, query, ok := strings.Cut(cmd, head)
	if !ok || !strings.Contains(cmd, " -accounts=111111111111,222222222222 ") {
		t.Fatalf("command %s", cmd)
	}
	query, _, _ = strings.Cut(query, `"`)
	// WHEN the AWS CLI's query runs over what describe-stacks returns
	var outputs []map[string]string
	for k, o := range s.json["Outputs"].(map[string]any) {
		if v, ok := e.eval(t, o.(map[string]any)["Value"]).(string); ok {
			outputs = append(outputs, map[string]string{"OutputKey": k, "OutputValue": v})
		}
	}
	slices.SortFunc(outputs, func(a, b map[string]string) int { return strings.Compare(a["OutputKey"], b["OutputKey"]) })
	doc, _ := json.Marshal(map[string]any{"Stacks": []any{map[string]any{"Outputs": outputs}}})
	run := exec.Command(py, "-c", "import sys, json, jmespath; print(jmespath.search(sys.argv[1], json.load(sys.stdin)))", query)
	run.Stdin = strings.NewReader(string(doc))
	got, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("jmespath %s: %v\n%s", query, err, got)
	}
	// THEN it yields every account of shards 1 and up, for -accounts-file
	if strings.TrimSpace(string(got)) != "333333333333,444444444444,555555555555" {
		t.Errorf("query %s gives %s", query, got)
	}
}

// logicalIDLike returns the logical ID of the resource of type typ that
// construct id of the stack renders to.
func logicalIDLike(t *testing.T, s *synthesized, typ, id string) string {
	t.Helper()
	c := s.stack.Node().TryFindChild(jsii.String(id))
	if c == nil {
		t.Fatalf("no construct %s", id)
	}
	lid := logicalID(s.stack, c.Node().DefaultChild())
	if r, ok := s.json["Resources"].(map[string]any)[lid].(map[string]any); !ok || r["Type"] != typ {
		t.Fatalf("%s renders to %s, not a %s", id, lid, typ)
	}
	return lid
}

func TestUnshardedStackKeepsItsDestination(t *testing.T) {
	// GIVEN the unsharded stack and the sharded one
	plain, sharded := defaultStack(t), shardedStack(t)
	// THEN shard 0's resources have the logical IDs and names of the
	// unsharded stack: an existing deployment that starts sharding keeps its
	// destination, and its senders their subscriptions
	for _, typ := range []string{"AWS::Logs::Destination", "AWS::IAM::Role", "AWS::IAM::Policy", "Custom::LogsDestinationPolicy"} {
		for id, r := range plain.resources(typ) {
			if !strings.Contains(id, "Destination") {
				continue
			}
			other, ok := sharded.json["Resources"].(map[string]any)[id].(map[string]any)
			if !ok {
				t.Errorf("%s %s is gone once sharded", typ, id)
				continue
			}
			if typ == "AWS::Logs::Destination" && !reflect.DeepEqual(props(r), props(other)) {
				t.Errorf("destination %s changes: %v -> %v", id, props(r), props(other))
			}
		}
	}
}

func TestShardOverflowFailsSynth(t *testing.T) {
	// GIVEN a shard with one account more than its destination role's trust policy holds
	ctx := cdkJSONContext(t)
	ctx[CtxSenderAccounts] = "111111111111"
	accounts := accountsN(50)
	ctx[CtxSenderShards] = map[string]any{"1": strings.Join(accounts[:46], ","), "2": strings.Join(accounts[46:], ",")}
	ctx[CtxAssetDir] = testAssetDir
	ctx[CtxDisableNag] = true
	settings, err := ParseSettings(lookup(ctx))
	if err != nil {
		t.Fatal(err)
	}
	// WHEN it is synthesized
	msg := synthPanic(t, ctx, settings)
	// THEN synth fails naming the shard, the limit, and where the accounts can go
	for _, want := range []string{`senderShards["1"]`, "46 sender accounts", "2048", "2 (41 free)", "start shard 3 (up to 45 accounts)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

// thousandSenders is 1,000 listed senders in us-east-1 and eu-west-1 (45
// fit a destination in each): 45 in shard 0, 45 in each of shards 1 to 21
// and the last 10 in shard 22, plus extra accounts appended to shard 22.
func thousandSenders(t *testing.T, extra int) *synthesized {
	accounts := accountsN(1000 + extra)
	shards := map[string]any{}
	for n, i := 1, 45; i < len(accounts); n, i = n+1, i+45 {
		shards[strconv.Itoa(n)] = strings.Join(accounts[i:min(i+45, len(accounts))], ",")
	}
	return synth(t, fmt.Sprintf("senders-%d", 1000+extra), map[string]any{
		CtxSenderAccounts:     strings.Join(accounts[:45], ","),
		CtxSenderShards:       shards,
		CtxDestinationRegions: testRegion1,
	})
}

func TestThousandSenders(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes two large apps")
	}
	// GIVEN 1,000 listed senders in 23 shards, and the same plus a 1,001st
	// added to the last shard
	s := thousandSenders(t, 0)
	s1001 := thousandSenders(t, 1)
	if n := len(s.settings.Senders.Shards); n != 22 {
		t.Fatalf("%d shards", n)
	}
	// THEN every destination's trust and access policies, resolved as
	// CloudFormation resolves them, are within their limits, and each sender
	// is admitted by its own shard's destination only, in both regions
	checkShards(t, s)
	checkShards(t, s1001)
	for _, st := range s.stacks() {
		raw, err := os.ReadFile(filepath.Join(st.outdir, *st.stack.ArtifactId()+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d resources, %d outputs, template %d bytes", *st.stack.StackName(), len(st.json["Resources"].(map[string]any)), len(st.json["Outputs"].(map[string]any)), len(raw))
	}
	// AND cdk-nag and cfn-lint find nothing
	checkNag(t, s)
	cfnLint(t, s.stacks()...)
	// AND the 1,001st changes no other sender's destination: in both
	// regions, every resource keeps its logical ID and only shard 22's
	// policies (and the lists of expected senders) change
	for i, st := range s.stacks() {
		after := s1001.stacks()[i]
		region := *st.stack.Region()
		before, now := st.destinations(t), after.destinations(t)
		for name, d := range before {
			n := now[name]
			if n.logicalID != d.logicalID || n.roleID != d.roleID {
				t.Errorf("%s: destination %s moved: %s/%s -> %s/%s", region, name, d.logicalID, d.roleID, n.logicalID, n.roleID)
			}
			same := reflect.DeepEqual(n.trust, d.trust) && n.access == d.access
			if name == s.settings.ShardDestinationName(22) {
				if same || !slices.Contains(n.senders(t), accountsN(1001)[1000]) {
					t.Errorf("%s: shard 22 does not admit the 1,001st", region)
				}
			} else if !same {
				t.Errorf("%s: destination %s changed for a sender of shard 22", region, name)
			}
		}
		old, next := st.json["Resources"].(map[string]any), after.json["Resources"].(map[string]any)
		for id, r := range old {
			n, ok := next[id]
			switch {
			case !ok:
				t.Errorf("%s: resource %s removed", region, id)
			case !reflect.DeepEqual(r, n) && !changesWithASender(id):
				t.Errorf("%s: resource %s changed", region, id)
			}
		}
		if len(next) != len(old) {
			t.Errorf("%s: %d resources, then %d", region, len(old), len(next))
		}
	}
}

// changesWithASender reports whether resource id of a sharded stack may
// change when an account joins shard 22: that shard's role and access
// policy, and what lists the expected senders (the watchdog's layer and
// function, the Athena table's owners).
func changesWithASender(id string) bool {
	for _, prefix := range []string{"DestinationShard22Role", "DestinationShard22AccessPolicy", "ExpectedSendersLayer", WatchdogLogicalID, "GlueTable"} {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}

// checkNag fails on any cdk-nag finding or other error or warning
// annotation in s's stacks.
func checkNag(t *testing.T, s *synthesized) {
	t.Helper()
	for _, st := range s.stacks() {
		for _, f := range annotationsOf(st) {
			t.Errorf("%s: %s", *st.stack.StackName(), f)
		}
	}
}

// cfnLint runs cfn-lint with the repository's configuration on the
// templates of stacks, failing on any error or warning.
func cfnLint(t *testing.T, stacks ...*synthesized) {
	t.Helper()
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not installed (pip install cfn-lint)")
	}
	var files []string
	for _, s := range stacks {
		files = append(files, filepath.Join(s.outdir, *s.stack.ArtifactId()+".template.json"))
		if _, err := os.Stat(files[len(files)-1]); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(lint, append([]string{"--config-file", filepath.Join("..", "..", ".cfnlintrc.yaml"), "--"}, files...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	}
}
