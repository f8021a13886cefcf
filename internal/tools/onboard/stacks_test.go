package onboard

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/logfan/logfan/cdk/recipient"
	"github.com/logfan/logfan/cdk/sender"
)

// TestNamesMatchTheStacks keeps onboard's names and the stacks' in step.
func TestNamesMatchTheStacks(t *testing.T) {
	for _, c := range []struct{ ours, theirs string }{
		{ParamSenderAccounts, recipient.ParamSenderAccounts},
		{CtxSenderAccounts, recipient.CtxSenderAccounts},
		{DefaultSenderStack, sender.DefaultStackName},
		{DefaultFilterName, sender.DefaultFilterName},
		{DefaultPolicyName, sender.DefaultPolicyName},
	} {
		if c.ours != c.theirs {
			t.Errorf("onboard says %q, the stack %q", c.ours, c.theirs)
		}
	}
	// GIVEN the recipient's defaults for account 999999999999 in eu-west-1
	ctx := map[string]any{recipient.CtxAccount: "999999999999", recipient.CtxRegion: "eu-west-1", recipient.CtxSenderAccounts: "111111111111", recipient.CtxAssetDir: t.TempDir()}
	rs, err := recipient.ParseSettings(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	// THEN onboard computes the same destination ARN and stack name
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/a"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "# Destination: "+rs.DestinationARN()+"\n") || rs.StackName != DefaultRecipientStack {
		t.Fatalf("recipient destination %s, stack %s; onboard printed:\n%s", rs.DestinationARN(), rs.StackName, out.String())
	}
}

var reContext = regexp.MustCompile(`-c (\w+)=('[^']*'|"[^"]*"|\S+)`)

// TestPrintedSenderDeploysParse feeds every printed `npx cdk deploy
// LogfanSender` line's context to the sender stack's parser.
func TestPrintedSenderDeploysParse(t *testing.T) {
	for _, args := range [][]string{
		{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/aws/lambda/orders,/app/api#blue"},
		{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-organization", "-exclude", "/noisy"},
	} {
		var out bytes.Buffer
		if err := Run(context.Background(), args, &out, &out); err != nil {
			t.Fatal(err)
		}
		var line string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "npx cdk deploy "+DefaultSenderStack) {
				line = l
			}
		}
		ctx := map[string]any{}
		for _, m := range reContext.FindAllStringSubmatch(line, -1) {
			ctx[m[1]] = strings.Trim(m[2], `'"`)
		}
		s, err := sender.ParseSettings(func(k string) any { return ctx[k] })
		if err != nil || s == nil {
			t.Fatalf("%s\n-> %v", line, err)
		}
		if s.Account != "222222222222" || s.Region != "eu-west-1" || s.Destinations[0].Account != "999999999999" {
			t.Fatalf("parsed %+v", s)
		}
	}
}
