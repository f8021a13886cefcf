package onboard

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/logfan/logfan/cdk/recipient"
	"github.com/logfan/logfan/cdk/sender"
	"github.com/logfan/logfan/internal/ops/naming"
)

// TestDestinationsMatchTheStacks keeps onboard's destination ARNs and the
// recipient stacks' in step, home and regional.
func TestDestinationsMatchTheStacks(t *testing.T) {
	// GIVEN the recipient's settings for account 999999999999 in us-east-1 with two regional destinations
	ctx := map[string]any{recipient.CtxAccount: "999999999999", recipient.CtxRegion: "us-east-1", recipient.CtxSenderAccounts: "111111111111",
		recipient.CtxDestinationRegions: "eu-west-1,ap-southeast-2", recipient.CtxAssetDir: t.TempDir()}
	rs, err := recipient.ParseSettings(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	// WHEN onboard prints the steps for a sender in all three regions
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"-account", "222222222222", "-regions", "us-east-1,eu-west-1,ap-southeast-2", "-recipient-account", "999999999999", "-recipient-region", "us-east-1", "-log-group", "/a"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	// THEN it names the destination each stack creates, and the recipient stack
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2"} {
		if !strings.Contains(out.String(), "# Destination in "+region+": "+rs.DestinationARNIn(region)+"\n") {
			t.Errorf("no destination %s in:\n%s", rs.DestinationARNIn(region), out.String())
		}
	}
	if rs.StackName != naming.RecipientStack || sender.DefaultStackName != naming.SenderStack || sender.DefaultFilterName != naming.SubscriptionFilter {
		t.Errorf("stack names %s, %s; filter %s", rs.StackName, sender.DefaultStackName, sender.DefaultFilterName)
	}
}

// TestShardDestinationsMatchTheStacks keeps onboard's shard destinations,
// and its bound on shard numbers, in step with the recipient stack's.
func TestShardDestinationsMatchTheStacks(t *testing.T) {
	// GIVEN a recipient with shard 4 in two regions
	ctx := map[string]any{recipient.CtxAccount: "999999999999", recipient.CtxRegion: "us-east-1", recipient.CtxSenderAccounts: "111111111111",
		recipient.CtxSenderShards: `{"4": "222222222222"}`, recipient.CtxDestinationRegions: "eu-west-1", recipient.CtxAssetDir: t.TempDir()}
	rs, err := recipient.ParseSettings(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	// WHEN onboard prints the steps for that shard's sender
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"-account", "222222222222", "-regions", "us-east-1,eu-west-1", "-recipient-account", "999999999999", "-recipient-region", "us-east-1", "-shard", "4", "-account-policy"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	// THEN every region's destination is the one the stacks create for shard 4
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		if !strings.Contains(out.String(), "# Destination in "+region+": "+rs.ShardDestinationARN(region, 4)+"\n") {
			t.Errorf("no destination %s in:\n%s", rs.ShardDestinationARN(region, 4), out.String())
		}
	}
	// AND the context key and the shard bound are the stack's
	if !strings.Contains(out.String(), `"`+recipient.CtxSenderShards+`"`) || maxSenderShard != recipient.MaxSenderShard {
		t.Errorf("context %s, bound %d vs %d", recipient.CtxSenderShards, maxSenderShard, recipient.MaxSenderShard)
	}
}

var reContext = regexp.MustCompile(`-c (\w+)=('[^']*'|"[^"]*"|\S+)`)

// TestPrintedSenderDeploysParse feeds every printed `npx cdk deploy
// LogfanSender` line's context to the sender stack's parser.
func TestPrintedSenderDeploysParse(t *testing.T) {
	for _, args := range [][]string{
		{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/aws/lambda/orders,/app/api#blue"},
		{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-organization", "-account-policy", "-exclude", "/noisy"},
		{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-recipient-region", "us-east-1", "-log-group", "/a"},
		{"-account", "222222222222", "-regions", "eu-west-1,us-east-1", "-recipient-account", "999999999999", "-recipient-region", "us-east-1", "-organization", "-account-policy"},
		{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/a", "-heartbeat-minutes", "1", "-heartbeat-log-group", "/platform/alive"},
		{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-heartbeat-minutes", "0", "-account-policy"},
	} {
		want := map[string]any{"minutes": 5, "group": "/logfan/heartbeat"}
		for i, a := range args {
			switch a {
			case "-heartbeat-minutes":
				want["minutes"], _ = strconv.Atoi(args[i+1])
			case "-heartbeat-log-group":
				want["group"] = args[i+1]
			}
		}
		var out bytes.Buffer
		if err := Run(context.Background(), args, &out, &out); err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "npx cdk deploy "+naming.SenderStack) {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			t.Fatalf("no sender deploy in:\n%s", out.String())
		}
		for _, line := range lines {
			ctx := map[string]any{}
			for _, m := range reContext.FindAllStringSubmatch(line, -1) {
				ctx[m[1]] = strings.Trim(m[2], `'"`)
			}
			s, err := sender.ParseSettings(func(k string) any { return ctx[k] })
			if err != nil || s == nil {
				t.Fatalf("%s\n-> %v", line, err)
			}
			// The sender stack deploys per region, against that region's destination.
			if s.Account != "222222222222" || s.Destinations[0].Region != s.Region || s.Destinations[0].Account != "999999999999" {
				t.Fatalf("parsed %+v", s)
			}
			// AND the stack's heartbeat is the one the CLI commands build
			if s.HeartbeatMinutes != want["minutes"] || (s.Heartbeat() && s.HeartbeatLogGroup != want["group"]) {
				t.Fatalf("%s\n-> heartbeat %d into %s, want %v", line, s.HeartbeatMinutes, s.HeartbeatLogGroup, want)
			}
		}
	}
}

// TestHeartbeatLimitsMatchTheStack keeps the CLI's heartbeat bounds and
// schedule in step with the sender stack's (the CLI does not link the CDK).
func TestHeartbeatLimitsMatchTheStack(t *testing.T) {
	if maxHeartbeatMinutes != sender.MaxHeartbeatMinutes {
		t.Fatalf("onboard allows up to %d minutes, the stack %d", maxHeartbeatMinutes, sender.MaxHeartbeatMinutes)
	}
	for _, n := range []int{1, 5, 60} {
		if got, want := "rate("+heartbeatEvery(n)+")", sender.ScheduleExpression(n); got != want {
			t.Errorf("%d minutes: onboard %s, stack %s", n, got, want)
		}
	}
}
