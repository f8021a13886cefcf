package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
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
