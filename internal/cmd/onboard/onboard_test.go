package onboard

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"account-list-log-groups", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/aws/lambda/orders", "-log-group", "/app/api#blue"}},
		{"known-senders-destination-arn", []string{"-account", "222222222222", "-region", "eu-west-1", "-destination-arn", "arn:aws:logs:eu-west-1:999999999999:destination:central", "-existing-senders", "111111111111,333333333333", "-log-group", "/aws/lambda/orders"}},
		{"already-a-sender", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-existing-senders", "222222222222", "-log-group", "/a"}},
		{"organization-prefix", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-organization", "-log-group-prefix", "/aws/lambda/", "-log-group", "/app/api"}},
		{"account-policy", []string{"-account", "444444444444", "-region", "cn-north-1", "-recipient-account", "999999999999", "-account-policy", "-exclude", "/aws/lambda/noisy,/own/group"}},
		{"organization-account-policy", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-recipient-stack", "Central", "-organization", "-account-policy"}},
		{"regional-destination", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-recipient-region", "us-east-1", "-log-group", "/aws/lambda/orders"}},
		{"regions-log-groups", []string{"-account", "222222222222", "-regions", "eu-west-1,us-east-1,ap-southeast-2", "-recipient-account", "999999999999", "-recipient-region", "us-east-1", "-log-group", "/aws/lambda/orders"}},
		{"regions-organization-prefix", []string{"-account", "222222222222", "-regions", "eu-west-1,ap-southeast-2", "-destination-arn", "arn:aws:logs:ap-southeast-2:999999999999:destination:central", "-recipient-region", "us-east-1", "-organization", "-log-group-prefix", "/app/"}},
		{"no-heartbeat", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/a", "-heartbeat-minutes", "0"}},
		{"heartbeat-every-minute-own-group", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-heartbeat-minutes", "1", "-heartbeat-log-group", "/platform/alive", "-account-policy"}},
		{"shard-regions-log-groups", []string{"-account", "222222222222", "-regions", "eu-west-1,us-east-1", "-recipient-account", "999999999999", "-recipient-region", "us-east-1", "-shard", "7", "-log-group", "/aws/lambda/orders"}},
		{"shard-destination-arn-account-policy", []string{"-account", "222222222222", "-region", "eu-west-1", "-destination-arn", "arn:aws:logs:eu-west-1:999999999999:destination:logfan-destination-12", "-shard", "12", "-account-policy"}},
		{"regions-known-senders-account-policy", []string{"-account", "222222222222", "-regions", "us-east-1,eu-west-1", "-destination-arn", "arn:aws:logs:us-east-1:999999999999:destination:logfan-destination", "-existing-senders", "111111111111", "-account-policy"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN the flags WHEN onboard runs
			var out, errOut bytes.Buffer
			if err := Run(context.Background(), tc.args, &out, &errOut); err != nil {
				t.Fatalf("onboard %v: %v\n%s", tc.args, err, errOut.String())
			}
			// THEN it prints exactly the golden steps
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update once)", err)
			}
			if out.String() != string(want) {
				t.Fatalf("output differs from %s:\n%s", path, out.String())
			}
			// AND what it prints is valid shell
			if bash, err := exec.LookPath("bash"); err == nil {
				if msg, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
					t.Fatalf("bash -n %s: %v\n%s", path, err, msg)
				}
			}
		})
	}
}

func TestRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no destination", []string{"-account", "222222222222", "-region", "eu-west-1"}, "-destination-arn or -recipient-account is required"},
		{"region typo", []string{"-account", "222222222222", "-region", "eu-wset-1", "-recipient-account", "999999999999"}, "-region: region \"eu-wset-1\" is not an AWS region of the aws, aws-cn or aws-us-gov partitions: did you mean eu-west-1?"},
		{"not a region", []string{"-account", "222222222222", "-regions", "eu-west-1,not a region", "-recipient-account", "999999999999", "-recipient-region", "eu-west-1"}, `region "not a region" is not an AWS region`},
		{"recipient region typo", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-recipient-region", "us-esat-1"}, "did you mean us-east-1?"},
		{"destination in no region", []string{"-account", "222222222222", "-region", "eu-west-1", "-destination-arn", "arn:aws:logs:eu-wset-1:999999999999:destination:logfan-destination"}, "-destination-arn: region \"eu-wset-1\""},
		{"bad account", []string{"-account", "2222", "-region", "eu-west-1", "-recipient-account", "999999999999"}, "12-digit"},
		{"destination in another region", []string{"-account", "222222222222", "-region", "eu-west-1", "-destination-arn", "arn:aws:logs:us-east-1:999999999999:destination:logfan-destination"}, "its own region"},
		{"several regions, no home", []string{"-account", "222222222222", "-regions", "eu-west-1,us-east-1", "-recipient-account", "999999999999"}, "-recipient-region is required"},
		{"no region", []string{"-account", "222222222222", "-recipient-account", "999999999999"}, "-region or -regions is required"},
		{"another partition", []string{"-account", "222222222222", "-regions", "eu-west-1,cn-north-1", "-recipient-account", "999999999999", "-recipient-region", "eu-west-1"}, "partition"},
		{"the recipient itself", []string{"-account", "999999999999", "-region", "eu-west-1", "-recipient-account", "999999999999"}, "recipient's own account"},
		{"bad log group", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "bad name"}, "log group"},
		{"heartbeat group subscribed", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/a,/logfan/heartbeat"}, "is the heartbeat group"},
		{"heartbeat group excluded", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-account-policy", "-exclude", "/logfan/heartbeat"}, "is the heartbeat group"},
		{"nothing to subscribe", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999"}, "-log-group G (repeatable) or -log-group-prefix P for those log groups, or -account-policy for every log group"},
		{"groups and account policy", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/a", "-account-policy"}, "not both"},
		{"exclude without account policy", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-exclude", "/b"}, "-exclude applies to -account-policy"},
		{"heartbeat too rare", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-heartbeat-minutes", "61"}, "-heartbeat-minutes 61"},
		{"bad heartbeat group", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-heartbeat-log-group", "no spaces"}, "-heartbeat-log-group"},
		{"shard out of range", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-shard", "61"}, "-shard 61"},
		{"shard in organization mode", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-shard", "2", "-organization"}, "organization members subscribe to shard 0"},
		{"shard and another shard's ARN", []string{"-account", "222222222222", "-region", "eu-west-1", "-destination-arn", "arn:aws:logs:eu-west-1:999999999999:destination:logfan-destination-2", "-shard", "3"}, "not shard 3's destination"},
		{"shard and existing senders", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-shard", "2", "-existing-senders", "111111111111"}, "-existing-senders applies to shard 0"},
		{"exclude with groups", []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/a", "-exclude", "/b"}, "-exclude applies"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(context.Background(), tc.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Fatalf("printed steps despite the error:\n%s", out.String())
			}
		})
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/aws/lambda/orders": "/aws/lambda/orders",
		"/app/api#blue":      "'/app/api#blue'",
		"it's":               `'it'\''s'`,
		"":                   "''",
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestRecipientStepRuns executes the printed recipient step with stand-ins
// for aws and npx: the parameter update appends the new account to whatever
// the deployed stack holds, once.
func TestRecipientStepRuns(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"-account", "222222222222", "-region", "eu-west-1", "-recipient-account", "999999999999", "-log-group", "/a"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	step, _, _ := strings.Cut(out.String(), "## 2.")
	bin := t.TempDir()
	stub := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stub("aws", `printf '%s\n' "$CURRENT"`)
	stub("npx", `echo "npx $*"`)
	tests := []struct{ current, want string }{
		{"111111111111,333333333333", "--parameters SenderAccounts=111111111111,333333333333,222222222222"},
		{"", "--parameters SenderAccounts=222222222222"},
		{"111111111111,222222222222", "already a sender"},
	}
	for _, tc := range tests {
		cmd := exec.Command(bash, "-c", step)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "CURRENT="+tc.current)
		got, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(got), tc.want) {
			t.Errorf("current %q: %v\n%s\nwant %q", tc.current, err, got, tc.want)
		}
	}
}
