package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/logfan/logfan/internal/ops/readback"
)

// expectation is the part of events/expected.json these tests read.
type expectation struct {
	File   string `json:"file"`
	Counts struct {
		Records   int `json:"records"`
		LogEvents int `json:"logEvents"`
		Poison    int `json:"poisonRecords"`
	} `json:"counts"`
}

func expectations(t *testing.T) map[string]expectation {
	t.Helper()
	b, err := os.ReadFile("../../../events/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files []expectation `json:"files"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]expectation{}
	for _, e := range doc.Files {
		out[e.File] = e
	}
	return out
}

func TestReplayStdout(t *testing.T) {
	exp := expectations(t)
	if len(exp) < 5 {
		t.Fatalf("events/expected.json lists %d files", len(exp))
	}
	for name, want := range exp {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := Run(context.Background(), []string{"-event", "../../../events/" + name}, &stdout, &stderr); err != nil {
				t.Fatalf("replay: %v\n%s", err, stderr.String())
			}
			recs, err := readback.Decode(&stdout)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != want.Counts.LogEvents {
				t.Errorf("%d records on stdout, want %d events", len(recs), want.Counts.LogEvents)
			}
			if got := strings.Count(stderr.String(), "  poison record "); got != want.Counts.Poison {
				t.Errorf("%d poison records reported, want %d:\n%s", got, want.Counts.Poison, stderr.String())
			}
			if !strings.Contains(stderr.String(), "response: {") {
				t.Errorf("no Lambda response on stderr:\n%s", stderr.String())
			}
		})
	}
}

func TestReplayErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if err := Run(context.Background(), nil, &out, &errb); err == nil {
		t.Error("replay without -event succeeded")
	}
	if err := Run(context.Background(), []string{"-event", "/nonexistent.json"}, &out, &errb); err == nil {
		t.Error("replay of a missing file succeeded")
	}
	if err := Run(context.Background(), []string{"-event", "../../../events/kinesis-data.json", "-timeout", "1ns"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "want at least 10s") {
		t.Errorf("1 ns deadline: err = %v", err)
	}
	if err := Run(context.Background(), []string{"-event", "../../../events/kinesis-data.json", "-sink", "kafka"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "unknown sink") {
		t.Errorf("unknown sink: err = %v", err)
	}
}

// TestReplayRoutes: -routes reads a table; stdout gets the routed events
// with their targets, the summary counts each route and the drops.
func TestReplayRoutes(t *testing.T) {
	exp := expectations(t)["kinesis-data.json"]
	dir := t.TempDir()
	file := dir + "/routes.json"
	table := `[
	  {"name": "trail", "match": {"logGroups": ["aws-cloudtrail-logs-*"]}, "to": ["s3", {"sink": "firehose", "stream": "siem"}]},
	  {"name": "flows", "match": {"logGroups": ["/vpc/**"]}, "to": []},
	  {"name": "lambda", "match": {"logGroups": ["/aws/lambda/**"]}, "to": [{"sink": "s3", "prefix": "apps"}]},
	  {"name": "rest", "to": []}
	]`
	if err := os.WriteFile(file, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), []string{"-event", "../../../events/kinesis-data.json", "-routes", file}, &stdout, &stderr); err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr.String())
	}
	// The generated file's counts per log group (events/expected.json) decide what lands.
	var byGroup map[string]int
	raw, _ := os.ReadFile("../../../events/expected.json")
	var doc struct {
		Files []struct {
			File             string         `json:"file"`
			EventsByLogGroup map[string]int `json:"eventsByLogGroup"`
		} `json:"files"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Files {
		if f.File == exp.File {
			byGroup = f.EventsByLogGroup
		}
	}
	trail, lambda, flows := 0, 0, 0
	for g, n := range byGroup {
		switch {
		case strings.HasPrefix(g, "aws-cloudtrail-logs-"):
			trail += n
		case strings.HasPrefix(g, "/aws/lambda/"):
			lambda += n
		case strings.HasPrefix(g, "/vpc/"):
			flows += n
		}
	}
	if trail == 0 || lambda == 0 || flows == 0 || trail+lambda+flows == exp.Counts.LogEvents {
		t.Fatalf("events/kinesis-data.json no longer exercises every route: %v", byGroup)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	got := map[string]int{}
	for _, l := range lines {
		var ev struct {
			LogGroup string   `json:"logGroup"`
			Targets  []string `json:"targets"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		got[strings.Join(ev.Targets, ",")]++
	}
	if want := map[string]int{"s3,firehose:siem": trail, "s3:apps": lambda}; !maps.Equal(got, want) {
		t.Errorf("lines per targets %v, want %v", got, want)
	}
	dropped := exp.Counts.LogEvents - trail - lambda
	for _, want := range []string{
		fmt.Sprintf("routes: %d events dropped", dropped),
		fmt.Sprintf("route trail: %d events, %d deliveries to s3, firehose:siem", trail, trail),
		fmt.Sprintf("route flows: %d events, 0 deliveries", flows),
		fmt.Sprintf("route rest: %d events, 0 deliveries", exp.Counts.LogEvents-trail-lambda-flows),
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr.String())
		}
	}

	// A bad table fails before anything is delivered, with the parser's message.
	if err := os.WriteFile(file, []byte(`[{"name":"x","to":["kafka"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	err := Run(context.Background(), []string{"-event", "../../../events/kinesis-data.json", "-routes", file}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `unknown sink "kafka"`) || stdout.Len() != 0 {
		t.Errorf("bad table: err = %v, stdout %q", err, stdout.String())
	}
}

// TestReplayFolderAndGlob: -event takes a folder or a glob, as invoke and
// routes do: every event file in turn through one handler, a summary each.
func TestReplayFolderAndGlob(t *testing.T) {
	exp := expectations(t)
	events := 0
	for _, e := range exp {
		events += e.Counts.LogEvents
	}
	for _, args := range [][]string{{"-event", "../../../events"}, {"-event", "../../../events/*.json"}} {
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, stderr.String())
		}
		recs, err := readback.Decode(&stdout)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != events {
			t.Errorf("%q: %d records on stdout, want %d", args, len(recs), events)
		}
		for name := range exp {
			if !strings.Contains(stderr.String(), "replay ../../../events/"+name+": ") {
				t.Errorf("%q: no summary for %s:\n%s", args, name, stderr.String())
			}
		}
	}
}

// TestReplayInlineRoutes: -routes takes inline JSON as the stack does.
func TestReplayInlineRoutes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"-event", "../../../events/kinesis-data.json", "-routes", `[{"name":"rest","to":[{"sink":"s3","prefix":"apps"}]}]`}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"s3:apps"`) {
		t.Errorf("stdout does not name the inline table's target:\n%.300s", stdout.String())
	}
}
