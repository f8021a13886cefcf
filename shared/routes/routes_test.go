package routes

import (
	"fmt"
	"strings"
	"testing"
)

// example is the route table of the README.
const example = `[
  {"name": "security", "match": {"owners": ["111111111111"], "logGroups": ["/aws/cloudtrail/**", "/security/*"]},
   "to": ["s3", {"sink": "firehose", "stream": "siem"}, {"sink": "logs", "region": "eu-west-1", "groupTemplate": "/security/{owner}/{logGroup}"}]},
  {"name": "noise", "match": {"logGroups": ["/aws/lambda/healthcheck-*"]}, "to": []},
  {"name": "apps", "match": {"logGroups": ["/aws/lambda/**"]}, "to": [{"sink": "s3", "prefix": "apps"}]},
  {"name": "rest", "to": ["s3"]}
]`

func TestFirstMatchWins(t *testing.T) {
	tbl, err := Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		owner, group, stream, route string
	}{
		{"111111111111", "/aws/cloudtrail/org", "s", "security"},
		{"111111111111", "/security/guardduty", "s", "security"},
		{"222222222222", "/aws/cloudtrail/org", "s", "rest"}, // owner does not match
		{"111111111111", "/aws/lambda/healthcheck-prod", "s", "noise"},
		{"111111111111", "/aws/lambda/orders", "s", "apps"},
		{"333333333333", "/ecs/web", "s", "rest"},
	}
	for _, c := range cases {
		i := tbl.Match(c.owner, c.group, c.stream)
		if i < 0 || tbl.Routes()[i].Name != c.route {
			t.Errorf("%s %s: route %d, want %s", c.owner, c.group, i, c.route)
		}
	}
	s3 := tbl.Targets(SinkS3)
	if len(s3) != 2 || s3[0].Name() != "s3" || s3[1].Name() != "s3:apps" {
		t.Errorf("s3 targets %v", s3)
	}
	if got := tbl.RouteTargets(0, SinkS3); len(got) != 1 || got[0] != 0 {
		t.Errorf("security's s3 targets %v", got)
	}
	if got := tbl.RouteTargets(2, SinkS3); len(got) != 1 || got[0] != 1 {
		t.Errorf("apps' s3 targets %v", got)
	}
	if got := tbl.RouteTargets(1, SinkS3); got != nil {
		t.Errorf("noise sends s3 %v", got)
	}
	if got := tbl.RouteTargets(2, SinkFirehose); got != nil {
		t.Errorf("apps sends firehose %v", got)
	}
	if got := tbl.RouteTargets(-1, SinkS3); got != nil {
		t.Errorf("no route sends s3 %v", got)
	}
	if n := tbl.Targets(SinkLogs)[0].Name(); n != "logs:eu-west-1:/security/{owner}/{logGroup}" {
		t.Errorf("logs target name %q", n)
	}
}

func TestNoMatchAndStreams(t *testing.T) {
	tbl, err := Parse([]byte(`[{"name":"prod","match":{"logStreams":["prod-*","**/prod"]},"to":["logs"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Match("111111111111", "/g", "prod-1") != 0 || tbl.Match("111111111111", "/g", "2024/01/01/[$LATEST]/prod") != 0 {
		t.Error("stream patterns should match")
	}
	if tbl.Match("111111111111", "/g", "dev-1") != -1 {
		t.Error("no route matches dev-1: want -1")
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	bad := `[
	  {"name": "a", "match": {"owners": ["1234"], "logGroups": ["/x/***"]}, "to": ["s4", {"sink": "s3", "stream": "x"}]},
	  {"name": "a", "match": {}, "to": [{"sink": "firehose", "stream": "bad name"}, {"sink": "logs", "region": "Mars"}]},
	  {"name": "", "to": ["s3", "s3"]}
	]`
	_, err := Parse([]byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`owner "1234"`, `"/x/***"`, `unknown sink "s4"`, "stream is a firehose setting", `same name as route 1`,
		"match has no owners", `stream "bad name"`, `region "Mars"`, "name must be", "target s3 is listed twice",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, doc := range []string{`{}`, `null`, `[] []`, `[{"name":"x","to":[],"extra":1}]`, `[{"name":"x","to":[{"sink":"s3","bucket":"b"}]}]`} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: no error", doc)
		}
	}
	if tbl, err := Parse([]byte(`[]`)); err != nil || tbl.Match("111111111111", "/g", "s") != -1 {
		t.Errorf("an empty table drops everything: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte(`[{"name":"x","match":{"logGroups":["**/a/*"]},"to":["s3"]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := Parse(data)
		if err != nil {
			return
		}
		for i := range tbl.Routes() {
			for _, kind := range []string{SinkS3, SinkFirehose, SinkLogs} {
				for _, k := range tbl.RouteTargets(i, kind) {
					if k < 0 || k >= len(tbl.Targets(kind)) {
						t.Fatalf("route %d: %s target %d of %d", i, kind, k, len(tbl.Targets(kind)))
					}
				}
			}
		}
		tbl.Match("111111111111", "/aws/lambda/x", "2024/01/01/[$LATEST]abc")
	})
}

// fiftyRoutes is a table of 50 routes over realistic log-group names,
// most of which a typical record falls through before matching.
func fiftyRoutes(tb testing.TB) *Table {
	var b strings.Builder
	b.WriteString("[")
	for i := range 49 {
		fmt.Fprintf(&b, `{"name":"team%d","match":{"owners":["%012d"],"logGroups":["/aws/lambda/team%d-*","/ecs/team%d/**"]},"to":[{"sink":"s3","prefix":"team%d"}]},`, i, 100000000000+i, i, i, i)
	}
	b.WriteString(`{"name":"rest","match":{"logGroups":["/aws/**"]},"to":["s3"]}]`)
	tbl, err := Parse([]byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return tbl
}

func TestFiftyRoutes(t *testing.T) {
	tbl := fiftyRoutes(t)
	if i := tbl.Match("100000000042", "/ecs/team42/web", "s"); tbl.Routes()[i].Name != "team42" {
		t.Errorf("route %d", i)
	}
	if i := tbl.Match("999999999999", "/aws/lambda/orders", "s"); tbl.Routes()[i].Name != "rest" {
		t.Errorf("route %d", i)
	}
	if n := testing.AllocsPerRun(100, func() { tbl.Match("999999999999", "/aws/lambda/orders-api", "2024/01/01/[$LATEST]0123") }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	tbl := fiftyRoutes(b)
	groups := []string{"/aws/lambda/orders-api", "/ecs/team17/web", "/aws/cloudtrail/org-trail", "/aws/lambda/team48-checkout"}
	owners := []string{"999999999999", "100000000017", "999999999999", "100000000048"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % len(groups)
		if tbl.Match(owners[k], groups[k], "2024/01/01/[$LATEST]0123456789abcdef") < 0 {
			b.Fatal("no route")
		}
	}
}

// TestTargetsNeedARealPrefixAndRegion: prefixes that climb ("../..") or
// hold spaces, and regions that are no region ("eu-wset-1"), are refused
// at parse time instead of failing every batch after deploy.
func TestTargetsNeedARealPrefixAndRegion(t *testing.T) {
	for target, want := range map[string]string{
		`{"sink":"s3","prefix":"../.."}`:                                          `segment ".."`,
		`{"sink":"s3","prefix":"logs/./x"}`:                                       `segment "."`,
		`{"sink":"s3","prefix":"my logs"}`:                                        `prefix "my logs"`,
		`{"sink":"logs","region":"eu-wset-1"}`:                                    "did you mean eu-west-1?",
		`{"sink":"logs","region":"not a region"}`:                                 `region "not a region" is not an AWS region`,
		`{"sink":"s3","prefix":"` + strings.Repeat("a", MaxPrefixLength+1) + `"}`: "at most 256 characters",
	} {
		_, err := Parse([]byte(`[{"name":"all","to":[` + target + `]}]`))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to say %s", target, err, want)
		}
	}
	for _, ok := range []string{"logs", "a/b.c/d-e", "..a", "a..b", "x/(y)/z!"} {
		if err := CheckPrefix(ok); err != nil {
			t.Errorf("CheckPrefix(%q) = %v", ok, err)
		}
	}
}
