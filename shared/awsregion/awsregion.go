// Package awsregion is logfan's one check of an AWS region name, shared by
// the functions' cold start (shared/config), the route parser, the stacks'
// synth (cdk/) and the operator's commands: a region must be one of the
// regions of the aws, aws-cn or aws-us-gov partitions listed here.
//
// The SDK resolves endpoints from the same list (its partitions.json) but
// keeps it in an internal package, so it is copied here; TestRegionsMatchTheSDK
// compares the copy with the SDK version in go.mod, and fails after an SDK
// bump that knows of a new region until the region is added.
package awsregion

import (
	"fmt"
	"slices"
	"strings"

	"github.com/logfan/logfan/shared/suggest"
)

// Partitions logfan serves.
const (
	PartitionAWS      = "aws"
	PartitionChina    = "aws-cn"
	PartitionGovCloud = "aws-us-gov"
)

// regions lists each partition's regions, from aws-sdk-go-v2's
// internal/endpoints/awsrulesfn/partitions.json (the SDK version in go.mod),
// without the "aws-global" pseudo-regions.
var regions = map[string][]string{
	PartitionAWS: {
		"af-south-1",
		"ap-east-1", "ap-east-2",
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-south-1", "ap-south-2",
		"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
		"ca-central-1", "ca-west-1",
		"eu-central-1", "eu-central-2",
		"eu-north-1",
		"eu-south-1", "eu-south-2",
		"eu-west-1", "eu-west-2", "eu-west-3",
		"il-central-1",
		"me-central-1", "me-south-1", "me-west-1",
		"mx-central-1",
		"sa-east-1", "sa-west-1",
		"us-east-1", "us-east-2",
		"us-west-1", "us-west-2",
	},
	PartitionChina:    {"cn-north-1", "cn-northwest-1"},
	PartitionGovCloud: {"us-gov-east-1", "us-gov-west-1"},
}

// Partition returns the partition region belongs to, or "" for a region
// this package does not know.
func Partition(region string) string {
	for p, rs := range regions {
		if slices.Contains(rs, region) {
			return p
		}
	}
	return ""
}

// Known returns every known region, sorted.
func Known() []string {
	var out []string
	for _, rs := range regions {
		out = append(out, rs...)
	}
	slices.Sort(out)
	return out
}

// Check returns nil for a known region, and otherwise an error that names
// the closest known region when there is one ("did you mean eu-west-1?").
func Check(region string) error {
	if Partition(region) != "" {
		return nil
	}
	hint := ""
	if c := suggest.Closest(strings.ToLower(strings.TrimSpace(region)), Known()); c != "" {
		hint = fmt.Sprintf(": did you mean %s?", c)
	}
	return fmt.Errorf("region %q is not an AWS region of the %s, %s or %s partitions%s (one launched after this build of logfan: add it to shared/awsregion)",
		region, PartitionAWS, PartitionChina, PartitionGovCloud, hint)
}
