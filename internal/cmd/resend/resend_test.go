package resend

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/subscription"
)

func input(to ...string) parseInput {
	vars := map[string]string{config.EnvQuarantineBucket: "quarantine-bucket", config.EnvLogsRegion: "eu-west-1"}
	return parseInput{to: to, bucket: "archive-bucket", prefix: "logs", parallel: 4, attempts: 5, timeout: time.Minute,
		getenv: func(k string) string { return vars[k] }, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// TestParseRefusesBeforeWork: every bad flag is reported at once, before
// anything is listed or sent.
func TestParseRefusesBeforeWork(t *testing.T) {
	cases := []struct {
		name string
		edit func(*parseInput)
		want []string
	}{
		{"no target", func(in *parseInput) { in.to = nil }, []string{"-to or -routes is required"}},
		{"both", func(in *parseInput) { in.routesFile = "r.json" }, []string{"not both"}},
		{"deployed", func(in *parseInput) { in.to, in.routesFile = nil, RoutesDeployed }, []string{"needs the deployed stack", "-stack and -region"}},
		{"bad flags", func(in *parseInput) {
			in.owners, in.group, in.since, in.until, in.maxMBps, in.parallel = []string{"123"}, "/a/{b,c}", "2h", "3h", -1, 0
		}, []string{`-owner "123"`, "alternation", "not before -until", "-max-mbps", "-parallel"}},
		{"archive into itself", func(in *parseInput) { in.to = []string{"s3"} }, []string{"would write into the archive it reads", "s3:replayed"}},
		{"twice", func(in *parseInput) { in.to = []string{"logs", "logs:eu-west-1"} }, []string{"deliver to the same place"}},
		{"no owner in a logs group", func(in *parseInput) { in.to = []string{"logs:eu-west-1:/security/{logGroup}"} }, []string{"sharedGroup"}},
		{"firehose without a stream", func(in *parseInput) { in.to = []string{"firehose"} }, []string{config.EnvFirehoseStream}},
		{"no bucket", func(in *parseInput) { in.bucket = "" }, []string{"-bucket is required"}},
		{"no progress bucket", func(in *parseInput) { in.getenv = func(string) string { return "" } }, []string{"-progress is required"}},
		{"bad progress", func(in *parseInput) { in.progress = "bucket/x" }, []string{"want s3://BUCKET/PREFIX"}},
		{"arguments", func(in *parseInput) { in.args = []string{"x"} }, []string{"unexpected arguments"}},
	}
	for _, c := range cases {
		in := input("firehose:siem")
		c.edit(&in)
		_, err := parse(in)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: got %v, want %q", c.name, err, w)
			}
		}
	}
	p, err := parse(input("firehose:siem", "logs:eu-west-1:/replayed/{owner}/{logGroup}", "s3:replayed"))
	if err != nil {
		t.Fatal(err)
	}
	var dests []string
	for _, tg := range p.targets {
		dests = append(dests, tg.Destination)
	}
	if got := strings.Join(dests, " "); got != "firehose:siem logs:eu-west-1:/replayed/{owner}/{logGroup}:{logStream} s3://archive-bucket/replayed/" {
		t.Errorf("destinations %q", got)
	}
	if p.progressBucket != "quarantine-bucket" || p.progressPrefix != DefaultProgressPrefix {
		t.Errorf("progress at s3://%s/%s, want the quarantine bucket", p.progressBucket, p.progressPrefix)
	}
}

// TestRoutesFileTargets: each target of a route table file gets the
// events its routes send it, and only those.
func TestRoutesFileTargets(t *testing.T) {
	f := filepath.Join(t.TempDir(), "routes.json")
	table := `[
	  {"name": "ct", "match": {"logGroups": ["/aws/cloudtrail/**"]}, "to": [{"sink": "firehose", "stream": "siem"}, {"sink": "s3", "prefix": "ct"}]},
	  {"name": "apps", "match": {"owners": ["111111111111"]}, "to": [{"sink": "s3", "prefix": "apps"}]},
	  {"name": "rest", "to": []}
	]`
	if err := os.WriteFile(f, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	in := input()
	in.routesFile = f
	p, err := parse(in)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Target{}
	for _, tg := range p.targets {
		got[tg.Name] = &tg.Target
	}
	if len(got) != 3 || got["s3:ct"] == nil || got["s3:apps"] == nil || got["firehose:siem"] == nil {
		t.Fatalf("targets %v", got)
	}
	for _, c := range []struct {
		target, owner, group string
		want                 bool
	}{
		{"firehose:siem", "111111111111", "/aws/cloudtrail/org", true},
		{"firehose:siem", "111111111111", "/aws/lambda/x", false},
		{"s3:apps", "111111111111", "/aws/lambda/x", true},
		{"s3:apps", "111111111111", "/aws/cloudtrail/org", false}, // the first route takes it
		{"s3:ct", "222222222222", "/aws/cloudtrail/org", true},
		{"s3:ct", "222222222222", "/x", false},
	} {
		m := &subscription.Message{Owner: c.owner, LogGroup: c.group, LogStream: "s"}
		if routesTo(got[c.target], m) != c.want {
			t.Errorf("%s gets %s %s: want %t", c.target, c.owner, c.group, c.want)
		}
	}
}

// TestMarkers: a selection is covered by an earlier one that took at
// least its window and regions; an event by one whose window holds it.
func TestMarkers(t *testing.T) {
	all := window{Since: math.MinInt64, Until: math.MaxInt64}
	m := &marker{Done: []window{{Since: 100, Until: 200}, {Since: 300, Until: 400, Regions: []string{"eu-west-1"}}}}
	for _, c := range []struct {
		w    window
		want bool
	}{
		{window{Since: 100, Until: 200}, true},
		{window{Since: 120, Until: 150}, true},
		{window{Since: 90, Until: 150}, false},
		{all, false},
		{window{Since: 300, Until: 400}, false},
		{window{Since: 300, Until: 400, Regions: []string{"eu-west-1"}}, true},
		{window{Since: 300, Until: 400, Regions: []string{"eu-west-1", "us-east-1"}}, false},
	} {
		if got := m.covers(c.w); got != c.want {
			t.Errorf("covers %+v = %t, want %t", c.w, got, c.want)
		}
	}
	for _, c := range []struct {
		ts     int64
		region string
		want   bool
	}{{100, "", true}, {199, "", true}, {200, "", false}, {350, "eu-west-1", true}, {350, "", false}, {350, "us-east-1", false}} {
		if got := m.sent(c.ts, c.region); got != c.want {
			t.Errorf("sent(%d, %q) = %t, want %t", c.ts, c.region, got, c.want)
		}
	}
	if !(&marker{Done: []window{all}}).covers(window{Since: 5, Until: 6, Regions: []string{"x"}}) {
		t.Error("an unbounded selection of every region covers everything")
	}
}

// TestBuildRecords: consecutive events of one stream share a record, up to
// the limits; the grouping is the same every time.
func TestBuildRecords(t *testing.T) {
	var evs []record.Event
	for i := range 2500 {
		s := "a"
		if i >= 2200 {
			s = "b"
		}
		evs = append(evs, record.Event{Owner: "111111111111", LogGroup: "g", LogStream: s, ID: "x", Timestamp: int64(i), Message: "m"})
	}
	evs = append(evs, record.Event{Owner: "111111111111", LogGroup: "g", LogStream: "b", Message: strings.Repeat("x", maxRecordBytes)})
	idx := make([]int, len(evs))
	for i := range idx {
		idx[i] = i
	}
	recs := buildRecords(evs, idx)
	var sizes []int
	for _, r := range recs {
		sizes = append(sizes, len(r.m.LogEvents))
	}
	if got := fmt.Sprint(sizes); got != "[1000 1000 200 300 1]" {
		t.Errorf("record sizes %s, want [1000 1000 200 300 1]", got)
	}
	if fingerprint("b", "k", idx) != fingerprint("b", "k", append([]int(nil), idx...)) || fingerprint("b", "k", idx) == fingerprint("b", "k", idx[1:]) {
		t.Error("a fingerprint names one selection")
	}
}

// TestSelection: hours and days are kept when they can hold a selected
// event; events by time, owner, group and region.
func TestSelection(t *testing.T) {
	g, err := routes.CompileLogGroupPattern("/aws/lambda/*")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	s := &Selection{Owners: []string{"111111111111"}, LogGroup: g, Since: base, Until: base.Add(2 * time.Hour), SourceRegions: []string{"eu-west-1"}}
	h := base.Unix() / 3600
	for d, want := range map[int64]bool{-1: false, 0: true, 1: true, 2: true, 3: false} {
		if s.hourMatches(h+d) != want {
			t.Errorf("hour %+d: want %t", d, want)
		}
	}
	if !s.dayMatches(base.Truncate(24*time.Hour)) || s.dayMatches(base.Truncate(24*time.Hour).Add(24*time.Hour)) {
		t.Error("day matching")
	}
	m := s.matcher()
	ev := func(owner, group string, ts time.Time, fields string) *record.Event {
		return &record.Event{Owner: owner, LogGroup: group, Timestamp: ts.UnixMilli(), ExtractedFields: []byte(fields)}
	}
	for _, c := range []struct {
		ev   *record.Event
		want bool
	}{
		{ev("111111111111", "/aws/lambda/x", base, `{"@aws.region":"eu-west-1"}`), true},
		{ev("111111111111", "/aws/lambda/x", base.Add(2*time.Hour), `{"@aws.region":"eu-west-1"}`), false},
		{ev("111111111111", "/aws/lambda/x", base.Add(-time.Millisecond), `{"@aws.region":"eu-west-1"}`), false},
		{ev("222222222222", "/aws/lambda/x", base, `{"@aws.region":"eu-west-1"}`), false},
		{ev("111111111111", "/demo/x", base, `{"@aws.region":"eu-west-1"}`), false},
		{ev("111111111111", "/aws/lambda/x", base, `{"@aws.region":"us-east-1"}`), false},
		{ev("111111111111", "/aws/lambda/x", base, ``), false},
	} {
		if got := m.match(c.ev); got != c.want {
			t.Errorf("%+v: got %t", c.ev, got)
		}
	}
}
