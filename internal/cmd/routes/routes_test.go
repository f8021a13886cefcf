package routes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/subscription"
)

const table = `[
  {"name": "trail", "match": {"logGroups": ["aws-cloudtrail-logs-*"]}, "to": ["s3", {"sink": "firehose", "stream": "siem"}]},
  {"name": "flows", "match": {"logGroups": ["/vpc/**"]}, "to": []},
  {"name": "apps", "match": {"owners": ["444444444444"]}, "to": [{"sink": "s3", "prefix": "apps"}, {"sink": "logs", "region": "eu-west-1"}]},
  {"name": "rest", "to": []}
]`

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRoutesOverSampleEvents: every log event of every sample file gets one
// line whose route and targets are the table's first match, and the
// summary adds up to the files' counts (events/expected.json).
func TestRoutesOverSampleEvents(t *testing.T) {
	raw, err := os.ReadFile("../../../events/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files []struct {
			File   string `json:"file"`
			Counts struct {
				LogEvents int `json:"logEvents"`
				Poison    int `json:"poisonRecords"`
				Control   int `json:"controlMessages"`
			} `json:"counts"`
		} `json:"files"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	args := []string{"-routes", writeFile(t, "routes.json", table)}
	events, poison, control := 0, 0, 0
	for _, f := range doc.Files {
		args = append(args, "-event", "../../../events/"+f.File)
		events, poison, control = events+f.Counts.LogEvents, poison+f.Counts.Poison, control+f.Counts.Control
	}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != events {
		t.Fatalf("%d lines, want one per log event (%d)", len(lines), events)
	}
	perRoute := map[string]int{}
	for _, l := range lines {
		var ev struct {
			Owner, LogGroup, LogStream, Region, ID, Route string
			Targets                                       []string
		}
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if ev.Owner == "" || ev.LogGroup == "" || ev.LogStream == "" || ev.ID == "" || ev.Targets == nil {
			t.Errorf("incomplete line: %s", l)
		}
		want, targets := "rest", "[]"
		switch {
		case strings.HasPrefix(ev.LogGroup, "aws-cloudtrail-logs-"):
			want, targets = "trail", `["s3","firehose:siem"]`
		case strings.HasPrefix(ev.LogGroup, "/vpc/"):
			want = "flows"
		case ev.Owner == "444444444444":
			want, targets = "apps", `["s3:apps","logs:eu-west-1"]`
		}
		if got, _ := json.Marshal(ev.Targets); ev.Route != want || string(got) != targets {
			t.Errorf("route %s %s, want %s %s: %s", ev.Route, got, want, targets, l)
		}
		perRoute[ev.Route]++
	}
	for _, r := range []string{"trail", "flows", "apps", "rest"} {
		if perRoute[r] == 0 {
			t.Errorf("the sample events exercise no %s route: %v", r, perRoute)
		}
	}
	sum := stderr.String()
	for _, row := range [][]string{
		{"trail", "s3", itoa(perRoute["trail"])}, {"trail", "firehose:siem", itoa(perRoute["trail"])},
		{"flows", "(dropped)", itoa(perRoute["flows"])},
		{"apps", "s3:apps", itoa(perRoute["apps"])}, {"apps", "logs:eu-west-1", itoa(perRoute["apps"])},
		{"rest", "(dropped)", itoa(perRoute["rest"])},
	} {
		if !hasRow(sum, row) {
			t.Errorf("summary lacks row %q:\n%s", row, sum)
		}
	}
	deliveries := 2*perRoute["trail"] + 2*perRoute["apps"]
	dropped := perRoute["flows"] + perRoute["rest"]
	want := "routes: " + itoa(events) + " events, " + itoa(deliveries) + " deliveries, " + itoa(dropped) + " dropped, " +
		itoa(poison) + " undecodable records, " + itoa(control) + " control messages"
	if !strings.Contains(sum, want) {
		t.Errorf("summary lacks %q:\n%s", want, sum)
	}
	if strings.Count(sum, "undecodable, the handler would quarantine it") != poison {
		t.Errorf("want %d undecodable records named:\n%s", poison, sum)
	}
	// AND nothing is unmatched, and every route matched something: no warning
	if strings.Contains(sum, "(unmatched)") || strings.Contains(sum, "warning") {
		t.Errorf("unmatched events or warnings:\n%s", sum)
	}
}

// TestExampleTableMatchesTheSampleEvents: the table of cdk/routes.example.json
// and docs/routes.md exercises every one of its routes with the sample events it
// is documented with, and -strict says so with its exit status.
func TestExampleTableMatchesTheSampleEvents(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"-strict", "-routes", "../../../cdk/routes.example.json", "-event", "../../../events/kinesis-data.json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, row := range [][]string{{"security", "s3", "7"}, {"flows", "(dropped)", "13"}, {"apps", "s3:apps", "5"}, {"rest", "s3", "6"}} {
		if !hasRow(stderr.String(), row) {
			t.Errorf("summary lacks row %q:\n%s", row, stderr.String())
		}
	}
}

// TestReadmeRouteTablesAreAccepted: every route table in the Routes
// section of docs/routes.md parses, so each ends with a catch-all.
func TestReadmeRouteTablesAreAccepted(t *testing.T) {
	raw, err := os.ReadFile("../../../docs/routes.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "\n## Routes\n")
	end := strings.Index(text[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("docs/routes.md has no Routes section")
	}
	n := 0
	for _, block := range strings.Split(text[start:start+1+end], "```json\n")[1:] {
		table, _, _ := strings.Cut(block, "```")
		if _, err := config.ParseRoutes([]byte(table), routes.Defaults{S3Prefix: config.DefaultS3Prefix}); err != nil {
			t.Errorf("%v:\n%s", err, table)
		}
		n++
	}
	if n < 3 {
		t.Errorf("%d route tables in the Routes section of docs/routes.md, want the example and the two from practice", n)
	}
}

func TestIdleRoutesWarnAndStrictFails(t *testing.T) {
	// GIVEN a table whose route "none" matches no sample event, and whose catch-all matches none either
	idle := writeFile(t, "idle.json", `[{"name":"none","match":{"logGroups":["/nothing/**"]},"to":["s3"]},{"name":"all","match":{"logGroups":["**"]},"to":["s3"]},{"name":"rest","to":[]}]`)
	args := []string{"-routes", idle, "-event", "../../../events/kinesis-data.json"}
	var stdout, stderr bytes.Buffer
	// THEN the run succeeds with one warning, for that route only
	if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if want := `warning: route 1 ("none") matches none of the 31 log events given`; !strings.Contains(stderr.String(), want) || strings.Count(stderr.String(), "warning") != 1 {
		t.Errorf("stderr lacks %q alone:\n%s", want, stderr.String())
	}
	// AND -strict makes it fail
	stderr.Reset()
	if err := Run(context.Background(), append([]string{"-strict"}, args...), &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "-strict: 1 routes match none of the 31 log events given") {
		t.Errorf("strict: err = %v", err)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func hasRow(text string, cells []string) bool {
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) == len(cells) && strings.Join(f, " ") == strings.Join(cells, " ") {
			return true
		}
	}
	return false
}

func TestRoutesErrors(t *testing.T) {
	good := writeFile(t, "routes.json", table)
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"no flags":      {nil, "-routes is required"},
		"no event":      {[]string{"-routes", good}, "-event is required"},
		"missing table": {[]string{"-routes", "/nonexistent.json", "-event", "x"}, "no such file"},
		"bad table":     {[]string{"-routes", writeFile(t, "bad.json", `[{"name":"x","to":["kafka"]},{"name":"x","to":[]}]`), "-event", "x"}, `unknown sink "kafka"`},
		"no catch-all": {[]string{"-routes", writeFile(t, "open.json", `[{"name":"x","match":{"owners":["111111111111"]},"to":["s3"]}]`), "-event", "x"},
			`open.json: the table must end with a route without "match" (a catch-all)`},
		"s3 alias": {[]string{"-routes", writeFile(t, "alias.json", `[{"name":"rest","to":["s3",{"sink":"s3","prefix":"logs"}]}]`), "-event", "x"}, "targets s3 and s3:logs both write under S3 prefix logs/"},
		"s3 alias, other default prefix": {[]string{"-s3-prefix", "archive", "-routes", writeFile(t, "alias.json", `[{"name":"rest","to":["s3",{"sink":"s3","prefix":"archive"}]}]`), "-event", "x"},
			"targets s3 and s3:archive both write under S3 prefix archive/"},
		"firehose alias": {[]string{"-firehose-stream", "main", "-routes", writeFile(t, "alias.json", `[{"name":"rest","to":["firehose",{"sink":"firehose","stream":"main"}]}]`), "-event", "x"},
			"targets firehose and firehose:main both deliver to Firehose stream main"},
		"logs group shared": {[]string{"-routes", writeFile(t, "shared.json", `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/all/{logGroup}"}]}]`), "-event", "x"},
			`groupTemplate "/all/{logGroup}" has no {owner}`},
		"missing event":  {[]string{"-routes", good, "-event", "/nonexistent.json"}, "no such file"},
		"not an event":   {[]string{"-routes", good, "-event", writeFile(t, "e.json", `{"hello": 1}`)}, "e.json"},
		"not JSON event": {[]string{"-routes", good, "-event", writeFile(t, "e.json", `routes`)}, "malformed"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), c.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), ": routes: ") {
				t.Errorf("err = %v: the parser's prefix doubles the table's name", err)
			}
		})
	}
}

// TestRoutesFlagForms: -routes takes the stack's forms (inline JSON,
// @FILE) and a path; -event a folder, a quoted glob or the shell's
// expansion of one. Every spelling routes the same events the same way.
func TestRoutesFlagForms(t *testing.T) {
	file := writeFile(t, "routes.json", table)
	matches, err := filepath.Glob("../../../events/*.json")
	if err != nil || len(matches) < 6 {
		t.Fatalf("events/*.json: %q, %v", matches, err)
	}
	var want string
	for i, args := range [][]string{
		{"-routes", file, "-event", "../../../events"},
		{"-routes", "@" + file, "-event", "../../../events/*.json"},
		{"-routes", table, "-event", "../../../events/"},
		append([]string{"-routes", file, "-event"}, matches...), // -event events/*.json, unquoted
	} {
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "expected.json: not a Lambda event") {
			t.Errorf("%q: no note that expected.json is left out:\n%s", args, stderr.String())
		}
		if i == 0 {
			want = stdout.String()
			if strings.Count(want, "\n") < 50 {
				t.Fatalf("%d lines", strings.Count(want, "\n"))
			}
		} else if stdout.String() != want {
			t.Errorf("%q routes differently from a folder and a file", args)
		}
	}
}

// TestHubAccount routes a hub's events by the source account and region
// their system fields name, as the functions do with LOGFAN_HUB_ACCOUNT,
// and a sender's by its own account whatever it names.
func TestHubAccount(t *testing.T) {
	const hub = "999999999999"
	tbl := writeFile(t, "routes.json", `[
	  {"name": "eu", "match": {"regions": ["eu-west-1"]}, "to": ["s3"]},
	  {"name": "b", "match": {"owners": ["222222222222"]}, "to": ["s3"]},
	  {"name": "rest", "to": []}
	]`)
	msg := func(owner string, sources ...[2]string) *subscription.Message {
		m := &subscription.Message{MessageType: subscription.DataMessage, Owner: owner, LogGroup: "/g", LogStream: "s", SubscriptionFilters: []string{"f"}}
		for i, s := range sources {
			m.LogEvents = append(m.LogEvents, subscription.LogEvent{ID: fmt.Sprint(owner, i), Timestamp: 1, Message: "m",
				ExtractedFields: json.RawMessage(`{"@aws.account":"` + s[0] + `","@aws.region":"` + s[1] + `"}`)})
		}
		return m
	}
	ev, err := invocation.KinesisEventJSON(invocation.Stream{}, [][]byte{
		eventgen.MustPayload(msg(hub, [2]string{"111111111111", "eu-west-1"}, [2]string{"222222222222", "us-east-2"})),
		eventgen.MustPayload(msg("333333333333", [2]string{"222222222222", "us-east-2"})),
	})
	if err != nil {
		t.Fatal(err)
	}
	events := writeFile(t, "event.json", string(ev))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-hub-account", hub}, "111111111111/eu-west-1/eu 222222222222/us-east-2/b 333333333333/us-east-2/rest"},
		{nil, hub + "/eu-west-1/eu " + hub + "/us-east-2/rest 333333333333/us-east-2/rest"},
	} {
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), append([]string{"-routes", tbl, "-event", events}, c.args...), &stdout, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			var e struct{ Owner, Region, Route string }
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Owner+"/"+e.Region+"/"+e.Route)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%v: got %v, want %s", c.args, got, c.want)
		}
	}
	var stderr bytes.Buffer
	if err := Run(context.Background(), []string{"-routes", tbl, "-event", events, "-hub-account", "12"}, io.Discard, &stderr); err == nil {
		t.Error("a bad -hub-account was accepted")
	}
}
