package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/logfan/logfan/cdk/cdkcontext"
)

// TestUnknownContextKeysAreRefused: a mistyped key (-c sharCount=2) fails
// synth with the closest known key, instead of being ignored while the
// default applies.
func TestUnknownContextKeysAreRefused(t *testing.T) {
	for key, want := range map[string]string{
		"sharCount":            `unknown context key "sharCount": did you mean shardCount?`,
		"ShardCount":           `unknown context key "ShardCount": did you mean shardCount?`,
		"s3prefix":             "did you mean s3Prefix?",
		"senderDestinationARN": "did you mean senderDestinationArn?",
		"totallyUnrelated":     `unknown context key "totallyUnrelated" (the keys`,
	} {
		err := checkContext(map[string]any{key: "2", "shardCount": 1})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", key, err, want)
		}
	}
	// CDK's own keys: feature flags, the CLI's settings, cached lookups.
	cdk := map[string]any{"@aws-cdk/core:checkSecretUsage": true, "aws:cdk:enable-path-metadata": true, "cli-telemetry": false,
		"availability-zones:account=123456789012:region=eu-west-1": []any{"eu-west-1a"}}
	if err := checkContext(cdk); err != nil {
		t.Errorf("CDK's keys refused: %v", err)
	}
}

// TestCdkJSONKeysAreKnown: every key cdk.json sets is one the app reads.
func TestCdkJSONKeysAreKnown(t *testing.T) {
	data, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if err := checkContext(doc.Context); err != nil {
		t.Error(err)
	}
}

// TestEveryContextKeyIsDocumented: each key the app reads (knownKeys, the
// settings parsers' own lists) and each key cdk.json sets has a row in a
// table of the README or docs/ naming it as `key`: a key added without its
// line in the docs fails here.
func TestEveryContextKeyIsDocumented(t *testing.T) {
	docs := []string{"../README.md"}
	more, _ := filepath.Glob("../docs/*.md")
	if !slices.Contains(more, "../docs/deploy.md") {
		t.Fatalf("docs/*.md: %v, want docs/deploy.md, whose Configuration tables list the keys", more)
	}
	docs = append(docs, more...)
	documented := map[string]bool{}
	for _, f := range docs {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "|") {
				continue
			}
			// The key column: the row's first cell.
			cells := strings.Split(strings.TrimSpace(line), "|")
			if len(cells) < 3 {
				continue
			}
			for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
				documented[m[1]] = true
			}
		}
	}
	data, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	keys := knownKeys()
	for k := range doc.Context {
		if !cdkcontext.IsCDKKey(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var missing []string
	for _, k := range slices.Compact(keys) {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("context keys without a row in a table of the README or docs/ (| `key` | default | meaning |): %s", strings.Join(missing, ", "))
	}
}

// backticked finds `code` spans (a key column may name several keys).
var backticked = regexp.MustCompile("`([A-Za-z0-9]+)`")

// TestCDKCLIPinned: package.json pins the CDK CLI to one exact version (no
// range that npm could move), package-lock.json holds that version, and the
// README names it.
func TestCDKCLIPinned(t *testing.T) {
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	for file, v := range map[string]any{"../package.json": &pkg, "../package-lock.json": &lock} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatal(err)
		}
	}
	version := pkg.DevDependencies["aws-cdk"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) {
		t.Fatalf("package.json: aws-cdk %q, want an exact version", version)
	}
	if got := lock.Packages["node_modules/aws-cdk"].Version; got != version {
		t.Errorf("package-lock.json: aws-cdk %s, package.json %s", got, version)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "aws-cdk "+version) {
		t.Errorf("the README does not name the pinned CLI, aws-cdk %s", version)
	}
}
