package routes

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in   string
		want Target
	}{
		{"s3", Target{Sink: SinkS3}},
		{"s3:replayed", Target{Sink: SinkS3, Prefix: "replayed"}},
		{"s3:/a/b/", Target{Sink: SinkS3, Prefix: "a/b"}},
		{"firehose", Target{Sink: SinkFirehose}},
		{"firehose:siem", Target{Sink: SinkFirehose, Stream: "siem"}},
		{"logs", Target{Sink: SinkLogs}},
		{"logs:eu-west-1", Target{Sink: SinkLogs, Region: "eu-west-1"}},
		{"logs:eu-west-1:/security/{owner}/{logGroup}", Target{Sink: SinkLogs, Region: "eu-west-1", GroupTemplate: "/security/{owner}/{logGroup}"}},
		{"logs:eu-west-1:/s/{owner}:{logStream}-x", Target{Sink: SinkLogs, Region: "eu-west-1", GroupTemplate: "/s/{owner}", StreamTemplate: "{logStream}-x"}},
		{"logs:/security/{owner}", Target{Sink: SinkLogs, GroupTemplate: "/security/{owner}"}},
		{"logs::/security/{owner}", Target{Sink: SinkLogs, GroupTemplate: "/security/{owner}"}},
	}
	for _, c := range cases {
		got, err := ParseTarget(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q: got %+v, want %+v", c.in, got, c.want)
		}
		// Name writes what ParseTarget reads.
		if back, err := ParseTarget(got.Name()); err != nil || back != got {
			t.Errorf("%q: Name %q reads back as %+v, %v", c.in, got.Name(), back, err)
		}
	}
}

func TestParseTargetErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "unknown sink",
		"kinesis:x":               "unknown sink",
		"s3:a:b":                  "at most a key prefix",
		"s3:a b":                  "prefix",
		"firehose:a:b":            "at most a stream name",
		"firehose:bad name":       "not a Firehose stream name",
		"logs:eu-west-1:/a:b:c":   "at most a region",
		"firehose:siem:eu-west-1": "at most a stream name",
	} {
		_, err := ParseTarget(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error with %q", in, err, want)
		}
	}
}

func TestPattern(t *testing.T) {
	p, err := CompileLogGroupPattern("/aws/lambda/*")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Match("/aws/lambda/orders") || p.Match("/aws/lambda/a/b") || p.Match("/demo/x") {
		t.Error("/aws/lambda/* matched wrongly")
	}
	if _, lit := p.Literal(); lit {
		t.Error("a wildcard pattern is not literal")
	}
	q, err := CompileLogGroupPattern("/demo/cloudtrail")
	if err != nil {
		t.Fatal(err)
	}
	if name, lit := q.Literal(); !lit || name != "/demo/cloudtrail" {
		t.Errorf("literal: got %q %t", name, lit)
	}
	for _, bad := range []string{"/aws/lambda/?", "/a/{b,c}", "", "/a**"} {
		if _, err := CompileLogGroupPattern(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestParseTargetRegionTypo(t *testing.T) {
	_, err := ParseTarget("logs:eu-wset-1:/s/{owner}")
	if err == nil || !strings.Contains(err.Error(), "eu-west-1") {
		t.Errorf("got %v, want the region checked with a suggestion", err)
	}
}
