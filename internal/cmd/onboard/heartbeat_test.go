package onboard

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/logfan/logfan/internal/devkit/emulator"
)

// TestHeartbeatCommandsRunOnMoto runs the printed heartbeat commands
// through the real AWS CLI against moto_server, and reads back what they
// built: a log group, a schedule rule every 5 minutes targeting it, and the
// resource policy letting that rule write. (moto cannot subscribe a group to
// a cross-account destination, so the last command, the heartbeat group's
// subscription filter, is checked in the golden files only.)
func TestHeartbeatCommandsRunOnMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs moto_server")
	}
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	srv, err := emulator.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	env := append(os.Environ(), srv.Env("eu-west-1")...)

	// GIVEN the steps printed for a sender subscribing one log group
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/app/api"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	var script []string
	in := false
	for _, l := range strings.Split(out.String(), "\n") {
		switch {
		case strings.HasPrefix(l, "# And the heartbeat"):
			in = true
		case in && strings.HasPrefix(l, "aws logs put-subscription-filter"):
			in = false
		case in && l != "" && !strings.HasPrefix(l, "#"):
			script = append(script, l)
		}
	}
	if len(script) != 6 { // four commands, put-rule on two lines
		t.Fatalf("heartbeat commands:\n%s\nin:\n%s", strings.Join(script, "\n"), out.String())
	}
	// WHEN they run
	cmd := exec.Command(bash, "-euc", strings.Join(script, "\n"))
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	// THEN the rule writes every 5 minutes into the group, which the policy lets exactly that rule write to
	read := func(v any, args ...string) {
		t.Helper()
		c := exec.Command(aws, append(args, "--region", "eu-west-1", "--output", "json")...)
		c.Env = env
		raw, err := c.Output()
		if err != nil {
			t.Fatalf("aws %v: %v", args, err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	var rule struct{ ScheduleExpression, State string }
	read(&rule, "events", "describe-rule", "--name", HeartbeatName)
	if rule.ScheduleExpression != "rate(5 minutes)" || rule.State != "ENABLED" {
		t.Errorf("rule %+v", rule)
	}
	var targets struct {
		Targets []struct {
			Arn         string
			RetryPolicy struct{ MaximumEventAgeInSeconds int }
		}
	}
	read(&targets, "events", "list-targets-by-rule", "--rule", HeartbeatName)
	if len(targets.Targets) != 1 || targets.Targets[0].Arn != "arn:aws:logs:eu-west-1:222222222222:log-group:/logfan/heartbeat" || targets.Targets[0].RetryPolicy.MaximumEventAgeInSeconds != 300 {
		t.Errorf("targets %+v", targets)
	}
	var groups struct {
		LogGroups []struct {
			LogGroupName    string
			RetentionInDays int
		}
	}
	read(&groups, "logs", "describe-log-groups", "--log-group-name-prefix", "/logfan/heartbeat")
	if len(groups.LogGroups) != 1 || groups.LogGroups[0].RetentionInDays != 7 {
		t.Errorf("groups %+v", groups)
	}
	var policies struct {
		ResourcePolicies []struct{ PolicyName, PolicyDocument string }
	}
	read(&policies, "logs", "describe-resource-policies")
	if len(policies.ResourcePolicies) != 1 || policies.ResourcePolicies[0].PolicyName != HeartbeatName {
		t.Fatalf("policies %+v", policies)
	}
	var doc struct {
		Statement []struct {
			Principal struct{ Service []string }
			Action    []string
			Resource  string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(policies.ResourcePolicies[0].PolicyDocument), &doc); err != nil {
		t.Fatal(err)
	}
	st := doc.Statement[0]
	if st.Resource != "arn:aws:logs:eu-west-1:222222222222:log-group:/logfan/heartbeat:*" ||
		st.Condition["ArnEquals"]["aws:SourceArn"] != "arn:aws:events:eu-west-1:222222222222:rule/"+HeartbeatName ||
		strings.Join(st.Principal.Service, ",") != "events.amazonaws.com,delivery.logs.amazonaws.com" {
		t.Errorf("policy %+v", st)
	}
}
