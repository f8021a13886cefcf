package routes

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// example is the route table of docs/routes.md and cdk/routes.example.json.
const example = `[
  {"name": "security", "match": {"owners": ["111111111111", "333333333333"], "logGroups": ["aws-cloudtrail-logs-*", "/aws/cloudtrail/**"]},
   "to": ["s3", {"sink": "firehose", "stream": "siem"}, {"sink": "logs", "region": "eu-west-1", "groupTemplate": "/security/{owner}/{logGroup}"}]},
  {"name": "flows", "match": {"logGroups": ["/vpc/flow-logs/**"]}, "to": []},
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
		{"333333333333", "aws-cloudtrail-logs-333333333333-org", "s", "security"},
		{"222222222222", "aws-cloudtrail-logs-222222222222-org", "s", "rest"}, // owner does not match
		{"222222222222", "/vpc/flow-logs/prod", "s", "flows"},
		{"111111111111", "/aws/lambda/orders", "s", "apps"},
		{"333333333333", "/ecs/web", "s", "rest"},
	}
	for _, c := range cases {
		i := tbl.Match(Record{Owner: c.owner, LogGroup: c.group, LogStream: c.stream})
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

func TestStreamPatterns(t *testing.T) {
	tbl, err := Parse([]byte(`[{"name":"prod","match":{"logStreams":["prod-*","**/prod","what?"]},"to":["logs"]},{"name":"rest","to":[]}]`))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"prod-1", "2024/01/01/[$LATEST]/prod", "what?"} {
		if tbl.Match(Record{Owner: "111111111111", LogGroup: "/g", LogStream: s}) != 0 {
			t.Errorf("stream %q should match route prod", s)
		}
	}
	// The catch-all takes what the patterns leave: nothing goes unmatched.
	if tbl.Match(Record{Owner: "111111111111", LogGroup: "/g", LogStream: "dev-1"}) != 1 {
		t.Error("dev-1: want the catch-all, route 1")
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	bad := `[
	  {"name": "a", "match": {"owners": ["1234"], "logGroups": ["/x/***"]}, "to": ["s4", {"sink": "s3", "stream": "x"}]},
	  {"name": "a", "match": {}, "to": [{"sink": "firehose", "stream": "bad name"}, {"sink": "logs", "region": "Mars"}]},
	  {"name": "", "to": ["s3", "s3", {"sink": "s3", "sharedGroup": true}]}
	]`
	_, err := Parse([]byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`owner "1234"`, `"/x/***"`, `unknown sink "s4"`, "stream is a firehose setting", `same name as route 1`,
		"match has no owners", `stream "bad name"`, `region "Mars"`, "name must be", "target s3 is listed twice",
		"sharedGroup is a logs setting, not s3",
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
	if tbl, err := Parse([]byte(`[{"name":"rest","to":[]}]`)); err != nil || tbl.Match(Record{Owner: "111111111111", LogGroup: "/g", LogStream: "s"}) != 0 {
		t.Errorf("a catch-all to nothing drops everything on purpose: %v", err)
	}
}

// rest is the catch-all the tables of the tests below end with.
const rest = `{"name":"rest","to":[]}`

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct {
		name, table string
		want        []string
	}{
		{"no catch-all", `[{"name":"a","match":{"logGroups":["/a/*"]},"to":["firehose"]}]`, []string{
			`its last route, 1 ("a"), has a match, so an event no route matches would be dropped without a word; ` +
				`add {"name": "rest", "to": []} as the last route to drop the rest on purpose, or {"name": "rest", "to": ["firehose"]} to keep it`}},
		{"empty table", `[]`, []string{`the table is empty`, `add {"name": "rest", "to": []} as the last route`, `{"name": "rest", "to": ["s3"]} to keep it`}},
		{"catch-all name taken", `[{"name":"rest","match":{"owners":["111111111111"]},"to":[]}]`, []string{`add {"name": "rest-2", "to": []}`}},
		{"catch-all in the middle", `[{"name":"all","to":["s3"]},{"name":"b","match":{"logGroups":["/b"]},"to":[]},` + rest + `]`, []string{
			`route 2 ("b"): is never reached: route 1 ("all") before it has no match and takes every event; give that route a match, or move it last`,
			`route 3 ("rest"): is never reached`}},
		{"braces", `[{"name":"a","match":{"logGroups":["/aws/{lambda,ecs}/*"]},"to":[]},` + rest + `]`, []string{
			`route 1 ("a"): logGroups pattern "/aws/{lambda,ecs}/*": '{' cannot be in a log group name (CloudWatch Logs allows a-z A-Z 0-9 _ - / . #), so the pattern would never match; there is no {a,b} alternation here: list one pattern per alternative`}},
		{"question mark", `[{"name":"a","match":{"logGroups":["/app-?"]},"to":[]},` + rest + `]`, []string{`"/app-?": '?' cannot be in a log group name`, `'?' is not a wildcard here: use '*'`}},
		{"space", `[{"name":"a","match":{"logGroups":["/my app/*"]},"to":[]},` + rest + `]`, []string{`"/my app/*": a space cannot be in a log group name`}},
		{"brackets", `[{"name":"a","match":{"logGroups":["/app[0-9]"]},"to":[]},` + rest + `]`, []string{`"/app[0-9]": '[' cannot be in a log group name`, `there are no [...] character classes here`}},
		{"colon and non-ASCII", `[{"name":"a","match":{"logGroups":["arn:aws:logs:*","/é"]},"to":[]},` + rest + `]`, []string{`"arn:aws:logs:*": ':' cannot be in a log group name`, `"/é": 'é' cannot be in a log group name`}},
		{"double star glued", `[{"name":"a","match":{"logGroups":["/a**","**b","/x/**y/z"],"logStreams":["s**"]},"to":[]},` + rest + `]`, []string{
			`logGroups pattern "/a**": '**' must be a whole '/'-separated segment`, `logGroups pattern "**b"`, `logGroups pattern "/x/**y/z"`, `logStreams pattern "s**"`}},
		{"colon in a stream pattern", `[{"name":"a","match":{"logStreams":["i-0:*"]},"to":[]},` + rest + `]`, []string{
			`logStreams pattern "i-0:*": ':' cannot be in a log stream name (CloudWatch Logs allows any character but ':' and '*')`}},
		{"sharedGroup differs", `[{"name":"a","match":{"owners":["111111111111"]},"to":[{"sink":"logs","groupTemplate":"/g/{logGroup}","sharedGroup":true}]},{"name":"rest","to":[{"sink":"logs","groupTemplate":"/g/{logGroup}"}]}]`, []string{
			`route 2 ("rest"): target logs:/g/{logGroup}: sharedGroup is false here but true in route 1 ("a"): set it the same way in every route naming this target`}},
		{"sharedGroup on firehose", `[{"name":"rest","to":[{"sink":"firehose","sharedGroup":true}]}]`, []string{`sharedGroup is a logs setting, not firehose`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.table))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestPatternsOfEveryNameCharacter(t *testing.T) {
	// Every character CloudWatch Logs allows in a log group name is accepted in a pattern, and matches itself.
	name := "/Aa-Zz_09./#x"
	tbl, err := Parse([]byte(`[{"name":"a","match":{"logGroups":["` + name + `","**/#*"]},"to":[]},` + rest + `]`))
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Match(Record{Owner: "111111111111", LogGroup: name, LogStream: "s"}) != 0 || tbl.Match(Record{Owner: "111111111111", LogGroup: "/a/#b", LogStream: "s"}) != 0 {
		t.Error("log group names should match")
	}
}

// siblings are the targets of one sink spelled as written and as resolved
// with defaults, which must not be told apart.
func TestTargetsResolvingToOnePlaceAreRefused(t *testing.T) {
	d := Defaults{S3Prefix: "logs", FirehoseStream: "main", LogsRegion: "us-east-1", LogsGroupTemplate: "/logfan/{owner}/{logGroup}", LogsStreamTemplate: "{logStream}"}
	for _, c := range []struct {
		name, table string
		defaults    Defaults
		want        []string // empty: accepted
	}{
		{"s3 default and explicit, one route", `[{"name":"rest","to":["s3",{"sink":"s3","prefix":"logs"}]}]`, d, []string{
			`route 1 ("rest"): targets s3 and s3:logs both write under S3 prefix logs/ (s3 takes the default prefix logs): every event of the route would be written twice to the same object keys; keep one of them`}},
		{"s3 default and explicit, two routes", `[{"name":"a","match":{"logGroups":["/a/**"]},"to":[{"sink":"s3","prefix":"/logs/"}]},{"name":"rest","to":["s3"]}]`, d, []string{
			`route 2 ("rest"): target s3 would write under S3 prefix logs/, as target s3:logs of route 1 ("a") does (s3 takes the default prefix logs): the two targets would write the same object keys in parallel and overwrite each other's objects; write the target the same way in both routes`}},
		{"s3 with an unknown default", `[{"name":"rest","to":["s3",{"sink":"s3","prefix":"logs"}]}]`, Defaults{}, nil},
		{"s3 other prefix", `[{"name":"rest","to":["s3",{"sink":"s3","prefix":"logs/archive"}]}]`, d, nil},
		{"firehose default and named", `[{"name":"a","match":{"owners":["111111111111"]},"to":["firehose"]},{"name":"rest","to":[{"sink":"firehose","stream":"main"}]}]`, d, []string{
			`route 2 ("rest"): target firehose:main would deliver to Firehose stream main, as target firehose of route 1 ("a") does (firehose takes the default stream main)`}},
		{"firehose one route", `[{"name":"rest","to":["firehose",{"sink":"firehose","stream":"main"}]}]`, d, []string{`every event of the route would be delivered twice`}},
		{"logs default region named", `[{"name":"rest","to":["logs",{"sink":"logs","region":"us-east-1"}]}]`, d, []string{
			`targets logs and logs:us-east-1 both put into log groups /logfan/{owner}/{logGroup}, streams {logStream}, in us-east-1 (logs takes the default region us-east-1, groupTemplate /logfan/{owner}/{logGroup}, streamTemplate {logStream}; logs:us-east-1 takes the default groupTemplate /logfan/{owner}/{logGroup}, streamTemplate {logStream})`}},
		{"logs default templates named", `[{"name":"rest","to":[{"sink":"logs","region":"eu-west-1"},{"sink":"logs","region":"eu-west-1","groupTemplate":"/logfan/{owner}/{logGroup}","streamTemplate":"{logStream}"}]}]`, d, []string{`both put into log groups /logfan/{owner}/{logGroup}, streams {logStream}, in eu-west-1`}},
		{"logs, sharedGroup is no difference", `[{"name":"a","match":{"owners":["111111111111"]},"to":[{"sink":"logs","groupTemplate":"/g/{logGroup}","sharedGroup":true}]},{"name":"rest","to":[{"sink":"logs","region":"us-east-1","groupTemplate":"/g/{logGroup}","sharedGroup":true}]}]`, d, []string{`as target logs:/g/{logGroup} of route 1 ("a") does`}},
		{"logs, other streams of one group", `[{"name":"rest","to":["logs",{"sink":"logs","streamTemplate":"copy-{logStream}"}]}]`, d, nil},
		{"the same target in several routes", `[{"name":"a","match":{"owners":["111111111111"]},"to":["s3","firehose","logs"]},{"name":"rest","to":["s3","firehose","logs"]}]`, d, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseWith([]byte(c.table), Options{Defaults: c.defaults})
			if len(c.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestCheckTargetOncePerTarget(t *testing.T) {
	// GIVEN a check that refuses every logs target, and two routes naming the same one
	var calls []string
	o := Options{Defaults: Defaults{LogsRegion: "eu-west-1"}, CheckTarget: func(tg, resolved Target) error {
		calls = append(calls, tg.Name()+" "+resolved.Region)
		if tg.Sink == SinkLogs {
			return errors.New("no logs today")
		}
		return nil
	}}
	_, err := ParseWith([]byte(`[{"name":"a","match":{"owners":["111111111111"]},"to":["s3","logs"]},{"name":"rest","to":["logs"]}]`), o)
	// THEN it sees each distinct target once, resolved, and its error names the first route
	if want := []string{"s3 ", "logs eu-west-1"}; !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
	if err == nil || !strings.Contains(err.Error(), `route 1 ("a"): target logs: no logs today`) || strings.Count(err.Error(), "no logs today") != 1 {
		t.Errorf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte(`[{"name":"x","match":{"logGroups":["**/a/*"]},"to":["s3"]},{"name":"y","to":[{"sink":"logs","groupTemplate":"/g/{logGroup}","sharedGroup":true}]}]`))
	f.Add([]byte(`[{"name":"x","match":{"logStreams":["a?{b}[c]"]},"to":[]},{"name":"y","to":["firehose"]}]`))
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
		// An accepted table ends with a catch-all: every record has a route.
		if r := tbl.Match(Record{Owner: "111111111111", LogGroup: "/aws/lambda/x", LogStream: "2024/01/01/[$LATEST]abc"}); r < 0 || r >= len(tbl.Routes()) {
			t.Fatalf("route %d of %d", r, len(tbl.Routes()))
		}
		if last := tbl.Routes()[len(tbl.Routes())-1]; last.Match != nil {
			t.Fatalf("last route %q has a match", last.Name)
		}
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
	b.WriteString(`{"name":"rest","to":["s3"]}]`)
	tbl, err := Parse([]byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return tbl
}

func TestFiftyRoutes(t *testing.T) {
	tbl := fiftyRoutes(t)
	if i := tbl.Match(Record{Owner: "100000000042", LogGroup: "/ecs/team42/web", LogStream: "s"}); tbl.Routes()[i].Name != "team42" {
		t.Errorf("route %d", i)
	}
	if i := tbl.Match(Record{Owner: "999999999999", LogGroup: "/aws/lambda/orders", LogStream: "s"}); tbl.Routes()[i].Name != "rest" {
		t.Errorf("route %d", i)
	}
	if n := testing.AllocsPerRun(100, func() {
		tbl.Match(Record{Owner: "999999999999", LogGroup: "/aws/lambda/orders-api", LogStream: "2024/01/01/[$LATEST]0123"})
	}); n != 0 {
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
		if tbl.Match(Record{Owner: owners[k], LogGroup: groups[k], LogStream: "2024/01/01/[$LATEST]0123456789abcdef"}) < 0 {
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

// TestRegions routes by the region the events were logged in: a record
// whose payload names no region matches no region list, and a route that
// matches only by region is not a catch-all.
func TestRegions(t *testing.T) {
	tbl, err := Parse([]byte(`[
	  {"name": "eu", "match": {"regions": ["eu-west-1", "eu-central-1"]}, "to": [{"sink": "s3", "prefix": "eu"}]},
	  {"name": "orders-us", "match": {"owners": ["111111111111"], "regions": ["us-east-1"], "logGroups": ["/aws/lambda/orders"]}, "to": ["firehose"]},
	  {"name": "rest", "to": ["s3"]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rec   Record
		route string
	}{
		{Record{Owner: "111111111111", Region: "eu-west-1", LogGroup: "/aws/lambda/orders", LogStream: "s"}, "eu"},
		{Record{Owner: "222222222222", Region: "eu-central-1", LogGroup: "/g", LogStream: "s"}, "eu"},
		{Record{Owner: "111111111111", Region: "us-east-1", LogGroup: "/aws/lambda/orders", LogStream: "s"}, "orders-us"},
		{Record{Owner: "111111111111", Region: "us-east-2", LogGroup: "/aws/lambda/orders", LogStream: "s"}, "rest"},
		{Record{Owner: "111111111111", LogGroup: "/aws/lambda/orders", LogStream: "s"}, "rest"}, // region unknown
	} {
		if i := tbl.Match(c.rec); i < 0 || tbl.Routes()[i].Name != c.route {
			t.Errorf("%+v: route %d, want %s", c.rec, i, c.route)
		}
	}
	_, err = Parse([]byte(`[{"name": "x", "match": {"regions": ["eu-west-9", "EU"]}, "to": []}, {"name": "y", "match": {"regions": []}, "to": []}]`))
	for _, want := range []string{`"eu-west-9"`, `"EU"`, "match has no owners, regions, logGroups or logStreams", `must end with a route without "match"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
