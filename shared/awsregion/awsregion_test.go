package awsregion

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{"eu-west-1", "us-east-1", "ap-southeast-7", "cn-north-1", "us-gov-west-1", "mx-central-1"} {
		if err := Check(ok); err != nil {
			t.Errorf("Check(%q) = %v", ok, err)
		}
	}
	for region, hint := range map[string]string{
		"eu-wset-1":     "did you mean eu-west-1?",
		"not a region":  "",
		"EU-WEST-1":     "did you mean eu-west-1?",
		"eu-west-9":     "did you mean eu-west-1?",
		"us-iso-east-1": "did you mean us-gov-east-1?", // a partition logfan does not serve
		"":              "",
		" eu-west-1":    "did you mean eu-west-1?",
	} {
		err := Check(region)
		if err == nil {
			t.Errorf("Check(%q) = nil", region)
			continue
		}
		if hint != "" && !strings.Contains(err.Error(), hint) {
			t.Errorf("Check(%q) = %v, want it to say %q", region, err, hint)
		}
		if hint == "" && strings.Contains(err.Error(), "did you mean") {
			t.Errorf("Check(%q) = %v, want no guess", region, err)
		}
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"eu-west-1": "aws", "cn-northwest-1": "aws-cn", "us-gov-east-1": "aws-us-gov", "eu-wset-1": ""} {
		if got := Partition(region); got != want {
			t.Errorf("Partition(%q) = %q, want %q", region, got, want)
		}
	}
}

// TestRegionsMatchTheSDK compares the list with the partitions.json of the
// aws-sdk-go-v2 version in go.mod: the SDK resolves endpoints from it, so
// after an SDK bump this test names each region to add or remove.
func TestRegionsMatchTheSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2").Output()
	if err != nil {
		t.Fatalf("go list the SDK module: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "endpoints", "awsrulesfn", "partitions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Partitions []struct {
			ID      string                     `json:"id"`
			Regions map[string]json.RawMessage `json:"regions"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, p := range doc.Partitions {
		ours, served := regions[p.ID]
		if !served {
			continue
		}
		seen++
		var sdk []string
		for r := range p.Regions {
			if !strings.HasSuffix(r, "-global") {
				sdk = append(sdk, r)
			}
		}
		slices.Sort(sdk)
		for _, r := range sdk {
			if !slices.Contains(ours, r) {
				t.Errorf("partition %s: the SDK knows region %s: add it to regions", p.ID, r)
			}
		}
		for _, r := range ours {
			if !slices.Contains(sdk, r) {
				t.Errorf("partition %s: region %s is not in the SDK's list", p.ID, r)
			}
		}
	}
	if seen != len(regions) {
		t.Errorf("the SDK's partitions.json has %d of the %d partitions logfan serves", seen, len(regions))
	}
}
