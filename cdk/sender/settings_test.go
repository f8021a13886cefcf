package sender

import (
	"strings"
	"testing"
)

const (
	destEU  = "arn:aws:logs:eu-west-1:999999999999:destination:logfan-destination"
	destEU2 = "arn:aws:logs:eu-west-1:888888888888:destination:audit"
	destUS  = "arn:aws:logs:us-east-1:999999999999:destination:logfan-destination"
)

func ctx(kv map[string]any) func(string) any {
	return func(k string) any { return kv[k] }
}

func TestParseSettingsNotRequested(t *testing.T) {
	// GIVEN no senderDestinationArn
	s, err := ParseSettings(ctx(map[string]any{CtxLogGroups: "/a"}))
	// THEN no sender stack is asked for
	if s != nil || err != nil {
		t.Fatalf("got %+v, %v", s, err)
	}
}

func TestParseSettingsDefaults(t *testing.T) {
	// GIVEN a destination and two log groups, as a JSON array from cdk.json
	s, err := ParseSettings(ctx(map[string]any{CtxDestinationARN: destEU, CtxLogGroups: []any{"/aws/lambda/orders", "/app/api"}}))
	if err != nil {
		t.Fatal(err)
	}
	// THEN the defaults apply
	if s.StackName != DefaultStackName || s.Mode != ModeLogGroups || s.FilterName != DefaultFilterName || s.FilterPattern != "" ||
		s.Distribution != "ByLogStream" || s.Organization || s.Account != "" || s.Region != "" {
		t.Fatalf("settings %+v", s)
	}
	if d := s.Destinations[0]; d.Region != "eu-west-1" || d.Account != "999999999999" || d.Name != "logfan-destination" || d.Partition != "aws" {
		t.Fatalf("destination %+v", d)
	}
	if len(s.LogGroups) != 2 || s.FilterNameFor(s.Destinations[0]) != "logfan" {
		t.Fatalf("groups %v", s.LogGroups)
	}
	if s.HeartbeatMinutes != 5 || s.HeartbeatLogGroup != "/logfan/heartbeat" || !s.Heartbeat() {
		t.Fatalf("heartbeat %d into %s", s.HeartbeatMinutes, s.HeartbeatLogGroup)
	}
}

func TestParseSettingsRejects(t *testing.T) {
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/a,/b"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		ctx  map[string]any
		want string
	}{
		{"region typo", base(map[string]any{CtxRegion: "eu-wset-1"}), "did you mean eu-west-1?"},
		{"destination in no region", base(map[string]any{CtxDestinationARN: "arn:aws:logs:eu-wset-1:999999999999:destination:logfan-destination"}), "did you mean eu-west-1?"},
		{"destination in the wrong partition", base(map[string]any{CtxDestinationARN: "arn:aws-cn:logs:eu-west-1:999999999999:destination:logfan-destination"}), "the partition of region eu-west-1 (aws)"},
		{"not a destination ARN", base(map[string]any{CtxDestinationARN: "arn:aws:kinesis:eu-west-1:999999999999:stream/x"}), "destination ARN"},
		{"destination in another region than the stack", base(map[string]any{CtxRegion: "us-east-1"}), "of their own region"},
		{"destinations of two regions", base(map[string]any{CtxDestinationARN: destEU + "," + destUS}), "destinations of one region"},
		{"no log groups", map[string]any{CtxDestinationARN: destEU}, "at least one log group"},
		{"a group listed twice", base(map[string]any{CtxLogGroups: "/a,/b,/a"}), "each log group once"},
		{"a bad group name", base(map[string]any{CtxLogGroups: "/a,bad name"}), "log group names"},
		// The two-filters-per-group limit, counted at synth:
		{"two destinations on a group that has a filter", base(map[string]any{CtxDestinationARN: destEU + "," + destEU2, CtxExistingFilters: "/b=1"}), "/b (1 existing + 2)"},
		{"a group already full", base(map[string]any{CtxExistingFilters: "/a=2"}), "/a (2 existing + 1)"},
		{"three destinations", base(map[string]any{CtxDestinationARN: destEU + "," + destEU2 + ",arn:aws:logs:eu-west-1:777777777777:destination:x"}), "2 subscription filters per log group"},
		{"existing count out of range", base(map[string]any{CtxExistingFilters: "/a=3"}), "group=N"},
		{"exclusions outside account-policy mode", base(map[string]any{CtxExcludeLogGroups: "/x"}), "exclusions only apply"},
		{"account policy with two destinations", map[string]any{CtxDestinationARN: destEU + "," + destEU2, CtxMode: ModeAccountPolicy}, "one account-level subscription policy per region"},
		{"account policy naming groups", map[string]any{CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxLogGroups: "/a"}, "selects every group"},
		{"account policy in the recipient's account", map[string]any{CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxAccount: "999999999999"}, "feed them back"},
		{"unknown mode", base(map[string]any{CtxMode: "prefix"}), "one of log-groups, account-policy"},
		{"bad organization flag", base(map[string]any{CtxOrganization: "maybe"}), "true or false"},
		// Heartbeats:
		{"heartbeat group among the subscribed groups", base(map[string]any{CtxLogGroups: "/a,/logfan/heartbeat"}), "other than the heartbeat group"},
		{"heartbeat group excluded from the account policy", map[string]any{CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxExcludeLogGroups: "/x,/logfan/heartbeat"}, "no heartbeat would reach"},
		{"heartbeat less often than hourly", base(map[string]any{CtxHeartbeatMinutes: "61"}), CtxHeartbeatMinutes},
		{"negative heartbeat", base(map[string]any{CtxHeartbeatMinutes: "-1"}), CtxHeartbeatMinutes},
		{"bad heartbeat group", base(map[string]any{CtxHeartbeatLogGroup: "bad name"}), CtxHeartbeatLogGroup},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a context with one problem WHEN it is parsed THEN the error names it
			_, err := ParseSettings(ctx(tc.ctx))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseSettingsReportsEveryProblemAtOnce(t *testing.T) {
	_, err := ParseSettings(ctx(map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/a,/a", CtxDistribution: "Sideways", CtxStackName: "9bad"}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, key := range []string{CtxLogGroups, CtxDistribution, CtxStackName} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not mention %s: %v", key, err)
		}
	}
}

func TestSelectionCriteria(t *testing.T) {
	// GIVEN exclusions WHEN the selection is built THEN it uses the only form CloudWatch Logs accepts
	s := &Settings{Exclude: []string{"/aws/lambda/LogfanRecipient-S3Function-1", `/odd"name`}}
	if got, want := s.SelectionCriteria(), `LogGroupName NOT IN ["/aws/lambda/LogfanRecipient-S3Function-1", "/odd\"name"]`; got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if (&Settings{}).SelectionCriteria() != "" {
		t.Fatal("empty exclusions must select everything")
	}
	// AND a selection over 25 KB is refused at synth
	var many []string
	for i := 0; i < 600; i++ {
		many = append(many, "/a/rather/long/log/group/name/number/"+strings.Repeat("x", 20)+string(rune('a'+i%26)))
	}
	_, err := ParseSettings(ctx(map[string]any{CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxExcludeLogGroups: strings.Join(many, ",")}))
	if err == nil || !strings.Contains(err.Error(), "selection criteria of at most") {
		t.Fatalf("error %v", err)
	}
}

func TestFilterIDsAreStable(t *testing.T) {
	a := filterID("/aws/lambda/orders", destEU)
	if a != filterID("/aws/lambda/orders", destEU) || !strings.HasPrefix(a, "FilterAwsLambdaOrders") {
		t.Fatalf("id %s", a)
	}
	if a == filterID("/aws/lambda/orders", destEU2) || a == filterID("/aws/lambda/order-s", destEU) {
		t.Fatal("ids collide")
	}
	long := filterID("/"+strings.Repeat("abc/", 100), destEU)
	if len(long) > 6+48+8 {
		t.Fatalf("id of %d characters", len(long))
	}
}

func TestHeartbeatOffAllowsTheGroupAnywhere(t *testing.T) {
	// GIVEN heartbeats off WHEN the would-be heartbeat group is subscribed like any other THEN that is allowed
	s, err := ParseSettings(ctx(map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/logfan/heartbeat", CtxHeartbeatMinutes: "0"}))
	if err != nil || s.Heartbeat() {
		t.Fatalf("%+v, %v", s, err)
	}
}

func TestScheduleExpression(t *testing.T) {
	for n, want := range map[int]string{1: "rate(1 minute)", 5: "rate(5 minutes)", 60: "rate(60 minutes)"} {
		if got := ScheduleExpression(n); got != want {
			t.Errorf("%d: %s, want %s", n, got, want)
		}
	}
}

// TestIgnoredContextIsWarned: a key the chosen mode ignores is warned about.
func TestIgnoredContextIsWarned(t *testing.T) {
	for _, c := range []struct {
		name string
		ctx  map[string]any
		want string // key warned about, or ""
	}{
		{"policy name with log groups", map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/a", CtxPolicyName: "mine"}, CtxPolicyName},
		{"existing filters with an account policy", map[string]any{CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxExistingFilters: "/a=1"}, CtxExistingFilters},
		{"policy name with an account policy", map[string]any{CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxPolicyName: "mine"}, ""},
		{"defaults", map[string]any{CtxDestinationARN: destEU, CtxLogGroups: "/a", CtxPolicyName: DefaultPolicyName}, ""},
	} {
		s, err := ParseSettings(ctx(c.ctx))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := ""
		for _, w := range s.Warnings {
			got += w.Key
		}
		if got != c.want {
			t.Errorf("%s: warned about %q, want %q (%v)", c.name, got, c.want, s.Warnings)
		}
	}
	// Every key the sender stack reads is known to the app.
	for _, k := range []string{CtxDestinationARN, CtxMode, CtxLogGroups, CtxExistingFilters, CtxPolicyName, CtxRegion, CtxAccount} {
		if !strings.Contains(","+strings.Join(ContextKeys(), ",")+",", ","+k+",") {
			t.Errorf("ContextKeys lacks %s", k)
		}
	}
}
