//lint:file-ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage, deprecated in favour of a JavaScript-only type that aws-cdk-go does not generate yet.

package recipient

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

// allVariants are the configurations the checks below run on.
var allVariants = map[string]func(*testing.T) *synthesized{
	"default": defaultStack, "org": orgStack, "imports": importStack, "logs-only": logsOnlyStack, "parquet": parquetStack, "hub": hubStack,
}

// everyStack lists every stack of every variant, regional stacks included, by name.
func everyStack(t *testing.T) map[string]*synthesized {
	out := map[string]*synthesized{}
	for _, variants := range []map[string]func(*testing.T) *synthesized{allVariants, regionalVariants, routedVariants, healthVariants, shardVariants, backfillVariants} {
		for name, variant := range variants {
			for _, s := range variant(t).stacks() {
				out[name+"/"+*s.stack.StackName()] = s
			}
		}
	}
	return out
}

func TestCdkNagAwsSolutions(t *testing.T) {
	for name, s := range everyStack(t) {
		t.Run(name, func(t *testing.T) {
			// GIVEN the stack with cdk-nag's AwsSolutions pack applied as main applies it
			if !s.settings.Nag {
				t.Fatal("nag is off in this variant")
			}
			// THEN nothing is reported unsuppressed, neither error nor
			// warning, and nor is any other error or warning (CDK's own)
			for _, f := range annotationsOf(s) {
				t.Error(f)
			}
		})
	}
}

// annotationsOf lists the stack's unsuppressed cdk-nag findings and any
// other error or warning annotation.
func annotationsOf(s *synthesized) []string {
	var out []string
	ann := assertions.Annotations_FromStack(s.stack)
	for _, level := range []struct {
		name  string
		found *[]*cxapi.SynthesisMessage
	}{
		{"error", ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))},
		{"warning", ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))},
	} {
		for _, f := range *level.found {
			out = append(out, fmt.Sprintf("unsuppressed cdk-nag %s at %s: %v", level.name, *f.Id, f.Entry.Data))
		}
	}
	for _, f := range *ann.FindError(jsii.String("*"), assertions.Match_AnyValue()) {
		out = append(out, fmt.Sprintf("error annotation at %s: %v", *f.Id, f.Entry.Data))
	}
	for _, f := range *ann.FindWarning(jsii.String("*"), assertions.Match_AnyValue()) {
		out = append(out, fmt.Sprintf("warning annotation at %s: %v", *f.Id, f.Entry.Data))
	}
	return out
}

func TestCdkNagSuppressionsStateReasons(t *testing.T) {
	for name, s := range everyStack(t) {
		t.Run(name, func(t *testing.T) {
			// GIVEN every cdk-nag suppression in the template
			n := 0
			for id, r := range s.json["Resources"].(map[string]any) {
				meta, _ := r.(map[string]any)["Metadata"].(map[string]any)
				nag, _ := meta["cdk_nag"].(map[string]any)
				rules, _ := nag["rules_to_suppress"].([]any)
				for _, rule := range rules {
					rule := rule.(map[string]any)
					n++
					// THEN each names an AwsSolutions rule and states a reason in a sentence
					reason, _ := rule["reason"].(string)
					if !strings.HasPrefix(rule["id"].(string), "AwsSolutions-") || len(strings.Fields(reason)) < 8 {
						t.Errorf("%s: suppression %v lacks a real reason", id, rule)
					}
					// AND a wildcard suppression lists exactly what it covers
					if rule["id"] == "AwsSolutions-IAM5" && rule["applies_to"] == nil {
						t.Errorf("%s: IAM5 suppressed for every finding instead of named ones", id)
					}
				}
			}
			if n == 0 {
				t.Error("no suppressions found; the metadata path changed?")
			}
		})
	}
}

func TestAssetPathsForSAM(t *testing.T) {
	// GIVEN the default stack synthesized the way `cdk synth` does
	s := defaultStack(t)
	// AND the template CDK wrote next to the staged assets
	raw, err := os.ReadFile(filepath.Join(s.outdir, s.settings.StackName+".template.json"))
	if err != nil {
		t.Fatalf("template file: %v", err)
	}
	var written map[string]any
	if err := json.Unmarshal(raw, &written); err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		t.Run(sink, func(t *testing.T) {
			fn := written["Resources"].(map[string]any)[naming.FunctionLogicalID(sink)].(map[string]any)
			meta := fn["Metadata"].(map[string]any)
			// THEN the function's asset metadata names its Code property and a
			// directory, relative to the template, holding that sink's bootstrap:
			// what `sam local invoke -t cdk.out/<stack>.template.json` follows
			if meta["aws:asset:property"] != "Code" {
				t.Errorf("aws:asset:property = %v", meta["aws:asset:property"])
			}
			rel, _ := meta["aws:asset:path"].(string)
			if rel == "" || filepath.IsAbs(rel) {
				t.Fatalf("aws:asset:path = %q, want a path relative to the template", rel)
			}
			got, err := os.ReadFile(filepath.Join(s.outdir, rel, "bootstrap"))
			if err != nil {
				t.Fatalf("asset %s: %v", rel, err)
			}
			if string(got) != placeholderBinary(sink) {
				t.Errorf("asset %s holds %q, want the %s build", rel, got, sink)
			}
			if info, err := os.Stat(filepath.Join(s.outdir, rel, "bootstrap")); err != nil || info.Mode()&0o111 == 0 {
				t.Errorf("bootstrap in %s is not executable", rel)
			}
			// AND the function is addressable by its stable logical ID
			if fn["Type"] != "AWS::Lambda::Function" || props(fn)["Handler"] != "bootstrap" {
				t.Errorf("function %s: %v", naming.FunctionLogicalID(sink), fn["Type"])
			}
		})
	}
	if !reflect.DeepEqual(written["Resources"], s.json["Resources"]) {
		t.Error("written template differs from the synthesized one")
	}
}

func TestCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not installed (pip install cfn-lint); make lint-cfn runs it on cdk.out")
	}
	// GIVEN every variant's template, written where cfn-lint can read it
	dir := t.TempDir()
	var files []string
	stacks := everyStack(t)
	stacks["no-senders"] = noSendersStack(t)
	for name, s := range stacks {
		raw, err := os.ReadFile(filepath.Join(s.outdir, *s.stack.ArtifactId()+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, strings.ReplaceAll(name, "/", "-")+".template.json")
		if err := os.WriteFile(f, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// WHEN cfn-lint checks them with the repository's configuration
	cmd := exec.Command(lint, append([]string{"--config-file", filepath.Join("..", "..", ".cfnlintrc.yaml"), "--"}, files...)...)
	out, err := cmd.CombinedOutput()
	// THEN there is no error and no warning
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	}
}
