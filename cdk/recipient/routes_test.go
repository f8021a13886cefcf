package recipient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/routes"
)

// testRoutes is a realistic table: security logs to S3, a second Firehose
// stream and CloudWatch Logs in eu-west-1; health checks dropped; Lambda
// logs to a second S3 prefix and CloudWatch Logs in us-west-2; the rest to
// the default S3 prefix and the stack's own Firehose stream.
const testRoutes = `[
  {"name": "security", "match": {"owners": ["111111111111"], "logGroups": ["/aws/cloudtrail/**", "/security/*"]},
   "to": ["s3", {"sink": "firehose", "stream": "siem"}, {"sink": "logs", "region": "eu-west-1", "groupTemplate": "/security/{owner}/{logGroup}"}]},
  {"name": "noise", "match": {"logGroups": ["/aws/lambda/healthcheck-*"]}, "to": []},
  {"name": "apps", "match": {"logGroups": ["/aws/lambda/**"]}, "to": [{"sink": "s3", "prefix": "apps"}, {"sink": "logs", "region": "us-west-2"}]},
  {"name": "rest", "to": ["s3", "firehose"]}
]`

// routedContext is what a stack serving testRoutes declares besides the table.
var routedContext = map[string]any{CtxSenderAccounts: "111111111111", CtxFirehoseStreams: "siem", CtxLogsRegions: "eu-west-1,us-west-2"}

func withContext(base map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func routedStack(t *testing.T) *synthesized {
	return synth(t, "routes", withContext(routedContext, CtxRoutes, testRoutes))
}

// reroutedStack is routedStack after the route table changed.
func reroutedStack(t *testing.T) *synthesized {
	return synth(t, "routes-changed", withContext(routedContext, CtxRoutes,
		`[{"name":"cloudtrail","match":{"logGroups":["/aws/cloudtrail/**"]},"to":[{"sink":"s3","prefix":"trail"},{"sink":"firehose","stream":"siem"}]},{"name":"all","to":["s3","logs"]}]`))
}

// largeRoutes is a table of n routes far beyond 4 KB of environment.
func largeRoutes(n int) string {
	var rs []string
	for i := range n {
		rs = append(rs, fmt.Sprintf(`{"name":"team-%03d","match":{"owners":["%012d"],"logGroups":["/aws/lambda/team-%03d-*","/ecs/team-%03d/**"]},"to":[{"sink":"s3","prefix":"teams/team-%03d"},"firehose"]}`, i, 100000000000+i, i, i, i))
	}
	return "[" + strings.Join(rs, ",") + `,{"name":"rest","to":["s3","logs"]}]`
}

func largeRoutedStack(t *testing.T) *synthesized {
	return synth(t, "routes-large", withContext(routedContext, CtxRoutes, largeRoutes(60)))
}

// routedVariants are checked by cdk-nag and cfn-lint like allVariants.
var routedVariants = map[string]func(*testing.T) *synthesized{"routes": routedStack, "routes-large": largeRoutedStack}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRoutesContextForms(t *testing.T) {
	// GIVEN the same table as JSON text, as a file (@path) and as a JSON array in cdk.json
	file := filepath.Join(t.TempDir(), "routes.json")
	if err := os.WriteFile(file, []byte(testRoutes), 0o644); err != nil {
		t.Fatal(err)
	}
	var array any
	if err := json.Unmarshal([]byte(testRoutes), &array); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, v := range []any{testRoutes, "@" + file, array} {
		// WHEN each is parsed
		s, err := ParseSettings(lookup(withContext(routedContext, CtxRoutes, v)))
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if s.Routes.Table == nil || len(s.Routes.Table.Routes()) != 4 {
			t.Fatalf("%T: table %+v", v, s.Routes.Table)
		}
		texts = append(texts, s.Routes.Text)
	}
	// THEN text and file give the table's compact text, the array the same table
	if want := compactJSON(t, testRoutes); texts[0] != want || texts[1] != want {
		t.Errorf("text %s\nfile %s\nwant %s", texts[0], texts[1], want)
	}
	a, _ := config.ParseRoutes([]byte(texts[0]), routes.Defaults{})
	b, _ := config.ParseRoutes([]byte(texts[2]), routes.Defaults{})
	if !reflect.DeepEqual(a.Routes(), b.Routes()) {
		t.Errorf("array form parses to %+v", b.Routes())
	}
	// AND an unset or empty table means no routes
	for _, v := range []any{nil, "", "  "} {
		s, err := ParseSettings(lookup(withContext(routedContext, CtxRoutes, v)))
		if err != nil || s.Routes.Table != nil || s.Routes.Text != "" {
			t.Errorf("%q: %v %+v", v, err, s.Routes)
		}
	}
}

func TestRoutesExampleFileIsAccepted(t *testing.T) {
	// GIVEN the example file with the context docs/routes.md documents
	path, err := filepath.Abs(filepath.Join("..", "routes.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSettings(lookup(map[string]any{CtxRoutes: "@" + path, CtxFirehoseStreams: "siem", CtxLogsRegions: "eu-west-1"}))
	// THEN it is accepted
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Routes.Table.Routes()) < 3 {
		t.Errorf("example has %d routes", len(s.Routes.Table.Routes()))
	}
}

func TestRoutesSettingsReportEveryProblem(t *testing.T) {
	// GIVEN a table the stack cannot serve in five ways, with the Firehose sink off
	table := `[
	  {"name":"a","match":{"logGroups":["/a/**"]},"to":[{"sink":"firehose","stream":"siem"}]},
	  {"name":"b","match":{"logGroups":["/b/**"]},"to":[{"sink":"logs","region":"eu-central-1"}]},
	  {"name":"c","match":{"logGroups":["/c/**"]},"to":[{"sink":"s3","prefix":"firehose"},{"sink":"s3","prefix":"firehose-errors/x"}]},
	  {"name":"d","to":[{"sink":"logs","region":"eu-central-1"}]}
	]`
	_, err := ParseSettings(lookup(map[string]any{CtxRoutes: table, CtxFirehoseEnabled: false, CtxLogsRegions: "eu-west-1,eu-west-1"}))
	if err == nil {
		t.Fatal("no error")
	}
	// THEN one error lists each of them, naming route and target
	for _, want := range []string{
		`route 1 ("a"): target firehose:siem: the firehose sink is not enabled`,
		`route 2 ("b"): target logs:eu-central-1: region eu-central-1 is neither logsRegion (us-east-1) nor listed in logsRegions`,
		`logsRegions="eu-west-1": want each region once`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// AND each target is reported once, though two routes name it
	if n := strings.Count(err.Error(), "region eu-central-1 is neither"); n != 1 {
		t.Errorf("eu-central-1 reported %d times", n)
	}
	// AND the S3 prefixes only overlap Firehose's when the stack's Firehose stream writes the bucket
	if strings.Contains(err.Error(), "overlaps") {
		t.Errorf("overlap reported with the Firehose sink off: %v", err)
	}
	_, err = ParseSettings(lookup(map[string]any{CtxRoutes: table, CtxFirehoseStreams: "siem", CtxLogsRegions: "eu-central-1"}))
	for _, want := range []string{
		`route 3 ("c"): target s3:firehose: prefix firehose overlaps the prefix firehose/`,
		`route 3 ("c"): target s3:firehose-errors/x: prefix firehose-errors/x overlaps the prefix firehose-errors/`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err != nil && (strings.Contains(err.Error(), "siem") || strings.Contains(err.Error(), "eu-central-1")) {
		t.Errorf("listed stream or region reported: %v", err)
	}
}

func TestRoutesSettingsRejected(t *testing.T) {
	for _, c := range []struct {
		name string
		ctx  map[string]any
		want []string
	}{
		{"syntax and another key", map[string]any{CtxRoutes: `[{"name":"a","to":["s3"]`, CtxBatchSize: "0"}, []string{"routes: ", CtxBatchSize + "="}},
		{"parser problems together", map[string]any{CtxRoutes: `[{"name":"a b","to":["kafka"]},{"name":"c","match":{"logGroups":["a***"]},"to":["s3"]}]`},
			[]string{"route 1", "unknown sink", "route 2", "three or more"}},
		{"template placeholder", map[string]any{CtxRoutes: `[{"name":"c","to":[{"sink":"logs","groupTemplate":"/x/{ownr}"}]}]`}, []string{"unknown placeholder"}},
		{"template without literal prefix", map[string]any{CtxRoutes: `[{"name":"b","to":[{"sink":"logs","groupTemplate":"{owner}/{logGroup}"}]}]`},
			[]string{`target logs:{owner}/{logGroup}: groupTemplate "{owner}/{logGroup}": want a literal log group prefix`}},
		{"missing file", map[string]any{CtxRoutes: "@/nonexistent/routes.json"}, []string{CtxRoutes + `="@/nonexistent/routes.json"`, "readable route table file"}},
		{"bad stream name", map[string]any{CtxFirehoseStreams: "a/b"}, []string{CtxFirehoseStreams + `="a/b"`}},
		{"region of another partition", map[string]any{CtxLogsRegions: "cn-north-1"}, []string{CtxLogsRegions, "partition"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSettings(lookup(c.ctx))
			for _, want := range c.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
		})
	}
}

func TestRoutesSettingsResolveTargetsAgainstTheStack(t *testing.T) {
	const catchAllS3 = `{"name":"rest","to":["s3"]}`
	imported := "arn:aws:firehose:us-east-1:123456789012:deliverystream/main"
	for _, c := range []struct {
		name string
		ctx  map[string]any
		want string // empty: accepted
	}{
		{"s3 default prefix named", map[string]any{CtxRoutes: `[{"name":"a","match":{"owners":["111111111111"]},"to":[{"sink":"s3","prefix":"logs"}]},` + catchAllS3 + `]`},
			`routes: route 2 ("rest"): target s3 would write under S3 prefix logs/, as target s3:logs of route 1 ("a") does (s3 takes the default prefix logs)`},
		{"s3 prefix the stack does not default to", map[string]any{CtxS3Prefix: "archive", CtxRoutes: `[{"name":"a","match":{"owners":["111111111111"]},"to":[{"sink":"s3","prefix":"logs"}]},` + catchAllS3 + `]`}, ""},
		{"imported stream named", map[string]any{CtxFirehoseStreamARN: imported, CtxRoutes: `[{"name":"rest","to":["firehose",{"sink":"firehose","stream":"main"}]}]`},
			`targets firehose and firehose:main both deliver to Firehose stream main (firehose takes the default stream main)`},
		{"logs region named", map[string]any{CtxLogsRegion: "eu-west-1", CtxRoutes: `[{"name":"a","match":{"owners":["111111111111"]},"to":["logs"]},{"name":"rest","to":[{"sink":"logs","region":"eu-west-1"}]}]`},
			`target logs:eu-west-1 would put into log groups /logfan/{owner}/{logGroup}, streams {logStream}, in eu-west-1, as target logs of route 1 ("a") does`},
		{"no catch-all", map[string]any{CtxRoutes: `[{"name":"a","match":{"owners":["111111111111"]},"to":["s3"]}]`},
			`add {"name": "rest", "to": []} as the last route to drop the rest on purpose, or {"name": "rest", "to": ["s3"]} to keep it`},
		{"group without owner", map[string]any{CtxRoutes: `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/all/{logGroup}"}]}]`},
			`route 1 ("rest"): target logs:/all/{logGroup}: groupTemplate "/all/{logGroup}" has no {owner}`},
		{"group shared on purpose", map[string]any{CtxRoutes: `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/all/{logGroup}","sharedGroup":true}]}]`}, ""},
		{"group template that cannot name a log group", map[string]any{CtxRoutes: `[{"name":"rest","to":[{"sink":"logs","groupTemplate":"/x/{owner}/{logStream}"}]}]`},
			`route 1 ("rest"): target logs:/x/{owner}/{logStream}: groupTemplate "/x/{owner}/{logStream}": {logStream} cannot name a log group`},
		{"stack's group template without owner", map[string]any{CtxLogsGroupTemplate: "/all/{logGroup}", CtxRoutes: `[{"name":"rest","to":["logs"]}]`},
			`route 1 ("rest"): target logs: the default groupTemplate "/all/{logGroup}" has no {owner}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSettings(lookup(c.ctx))
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestRoutedGrantsAreExact(t *testing.T) {
	// GIVEN the stack synthesized with the realistic table
	s := routedStack(t)
	data := s.refTo(t, "DataBucket")["Ref"].(string)
	logsActions := []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:PutRetentionPolicy"}
	security := "arn:aws:logs:eu-west-1:123456789012:log-group:/security/*"
	apps := "arn:aws:logs:us-west-2:123456789012:log-group:/logfan/*"
	// THEN each function may write exactly its sink's routed targets: both S3
	// prefixes; the stack's Firehose stream and the listed one; the two regions'
	// log groups under each template's literal prefix, and not logsRegion's,
	// which no route uses
	cases := map[string]map[string][]string{
		config.SinkS3:       {"<" + data + ".Arn>/logs/*": {"s3:PutObject"}, "<" + data + ".Arn>/apps/*": {"s3:PutObject"}},
		config.SinkFirehose: {"<FirehoseStream.Arn>": {"firehose:PutRecordBatch"}, "arn:aws:firehose:us-east-1:123456789012:deliverystream/siem": {"firehose:PutRecordBatch"}},
		config.SinkLogs:     {security: logsActions, security + ":log-stream:*": logsActions, apps: logsActions, apps + ":log-stream:*": logsActions},
	}
	for sink, want := range cases {
		t.Run(sink, func(t *testing.T) {
			got := actionsOn(s.policyStatementsOf(roleOf(t, s.function(t, sink))))
			for res, actions := range got {
				// Reading the stream, its own log group, the quarantine and the ledger are TestSinkGrantsAreExact's, the health table TestHealthWriterIsOneConsumer's.
				if strings.HasPrefix(res, "<Stream") || strings.Contains(res, "FunctionLogs") || strings.Contains(res, "QuarantineBucket") || strings.Contains(res, "LedgerTable") || strings.Contains(res, "HealthTable") {
					continue
				}
				if !reflect.DeepEqual(actions, want[res]) {
					t.Errorf("%s may %v on %s", sink, actions, res)
				}
			}
			for res := range want {
				if _, ok := got[res]; !ok {
					t.Errorf("%s lacks its grant on %s", sink, res)
				}
			}
		})
	}
}

// env returns a function's environment variables.
func (s *synthesized) env(t *testing.T, sink string) map[string]any {
	t.Helper()
	return props(s.function(t, sink))["Environment"].(map[string]any)["Variables"].(map[string]any)
}

func TestRoutesInEveryFunctionEnvironment(t *testing.T) {
	// GIVEN the routed stack and the default one
	s, plain := routedStack(t), defaultStack(t)
	want := compactJSON(t, testRoutes)
	for _, sink := range s.settings.EnabledSinks() {
		env := s.env(t, sink)
		// THEN every function carries the whole table, as given, in LOGFAN_ROUTES
		if env[config.EnvRoutes] != want || env[config.EnvRoutesFile] != nil {
			t.Errorf("%s: %s=%v %s=%v", sink, config.EnvRoutes, env[config.EnvRoutes], config.EnvRoutesFile, env[config.EnvRoutesFile])
		}
		if _, ok := props(s.function(t, sink))["Layers"]; ok {
			t.Errorf("%s: a layer for a table that fits the environment", sink)
		}
		// AND without routes there is no routing variable at all
		if e := plain.env(t, sink); e[config.EnvRoutes] != nil || e[config.EnvRoutesFile] != nil {
			t.Errorf("%s without routes: %v", sink, e)
		}
	}
}

func TestLargeRouteTableTravelsAsALayerFile(t *testing.T) {
	// GIVEN a table of 61 routes, larger than Lambda's 4 KB environment by itself
	s := largeRoutedStack(t)
	text := compactJSON(t, largeRoutes(60))
	if len(text) <= maxEnvBytes {
		t.Fatalf("table of %d bytes is not large", len(text))
	}
	layerID, layer := s.only(t, "AWS::Lambda::LayerVersion")
	for _, sink := range s.settings.EnabledSinks() {
		t.Run(sink, func(t *testing.T) {
			fn := s.function(t, sink)
			env := s.env(t, sink)
			// THEN the function reads the table from the layer's file
			if env[config.EnvRoutes] != nil || env[config.EnvRoutesFile] != "/opt/"+routesLayerFile {
				t.Errorf("env %v", env)
			}
			if got := render(props(fn)["Layers"].([]any)[0]); got != "<"+layerID+">" {
				t.Errorf("layers %s, want %s", got, layerID)
			}
			// AND its environment, with every deploy-time name at its longest, fits 4 KB
			vars := map[string]string{}
			for k, v := range env {
				if str, ok := v.(string); ok {
					vars[k] = str
				} else {
					vars[k] = strings.Repeat("x", 64)
				}
			}
			if n := envBytes(vars); n > maxEnvBytes {
				t.Errorf("environment of %d bytes", n)
			}
		})
	}
	// AND the layer carries the table, byte for byte, where the file variable points
	meta := layer["Metadata"].(map[string]any)
	file := filepath.Join(s.outdir, meta["aws:asset:path"].(string), routesLayerFile)
	got, err := os.ReadFile(file)
	if err != nil || string(got) != text {
		t.Fatalf("layer file %s: %v (%d bytes, want %d)", file, err, len(got), len(text))
	}
	// AND a function loads it at cold start as it would in Lambda
	cfg, err := config.Load(config.SinkS3, func(k string) string {
		return map[string]string{config.EnvS3Bucket: "data-bucket", config.EnvQuarantineBucket: "quarantine-bucket", config.EnvRoutesFile: file}[k]
	})
	if err != nil || len(cfg.Routes.Routes()) != 61 {
		t.Fatalf("load: %v", err)
	}
	if rt := layer["Properties"].(map[string]any)["CompatibleArchitectures"]; !reflect.DeepEqual(rt, []any{"arm64"}) {
		t.Errorf("layer architectures %v", rt)
	}
}

func TestEnvBytesIsLambdasMeasure(t *testing.T) {
	// Lambda measures the JSON object of names and values: {"A":"B"} is 9 bytes,
	// and a quote in a value counts as the two characters of its escape.
	if n := envBytes(map[string]string{"A": "B"}); n != 9 {
		t.Errorf("%d", n)
	}
	if n := envBytes(map[string]string{"A": `"<&`}); n != 12 {
		t.Errorf("%d", n)
	}
}

func TestChangingRoutesChangesOnlyFunctions(t *testing.T) {
	// GIVEN the stack without routes, with one table and with another (and a large one in a layer)
	plain, a, b, large := defaultStack(t), routedStack(t), reroutedStack(t), largeRoutedStack(t)
	// THEN the stream, the destination, the event source mappings, the
	// buckets, the Firehose stream and every role keep their logical IDs and
	// properties: only the functions' configuration, their policies and the
	// dashboard (and the routes layer) differ
	mayDiffer := map[string]bool{"AWS::Lambda::Function": true, "AWS::IAM::Policy": true, "AWS::CloudWatch::Dashboard": true, "AWS::Lambda::LayerVersion": true,
		// CDK moves statements beyond an inline policy's size into managed policies of the same role.
		"AWS::IAM::ManagedPolicy": true}
	base := plain.json["Resources"].(map[string]any)
	for _, s := range []*synthesized{a, b, large} {
		other := s.json["Resources"].(map[string]any)
		for id, r := range other {
			typ := r.(map[string]any)["Type"].(string)
			if _, ok := base[id]; !ok && !mayDiffer[typ] {
				t.Errorf("%s: new resource %s (%s)", s.settings.Routes.Text[:20], id, typ)
			}
		}
		for id, r := range base {
			res := r.(map[string]any)
			typ := res["Type"].(string)
			o, ok := other[id].(map[string]any)
			if !ok {
				t.Errorf("resource %s (%s) is gone", id, typ)
				continue
			}
			if mayDiffer[typ] {
				continue
			}
			if !reflect.DeepEqual(props(res), props(o)) || !reflect.DeepEqual(res["DependsOn"], o["DependsOn"]) {
				t.Errorf("resource %s (%s) changes with routes", id, typ)
			}
		}
	}
	// AND the mappings are still there, one per function
	if n := len(a.resources("AWS::Lambda::EventSourceMapping")); n != 3 {
		t.Errorf("%d event source mappings", n)
	}
}

func TestRouteDashboard(t *testing.T) {
	// GIVEN the routed stack's dashboard
	_, dash := routedStack(t).only(t, "AWS::CloudWatch::Dashboard")
	body := render(props(dash)["DashboardBody"])
	// THEN it graphs per-route events and deliveries and, per sink, dropped and other-sink events
	for _, want := range []string{
		`SEARCH('{logfan,route,sink} MetricName=\"Events\" sink=\"s3\"', 'Sum', 300)`,
		`SEARCH('{logfan,route,sink} MetricName=\"Deliveries\"', 'Sum', 300)`,
		`MetricName=\"Dropped\" sink=\"firehose\"`,
		`MetricName=\"OtherSinks\" sink=\"logs\"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	// AND without routes it has no route widgets
	_, plain := defaultStack(t).only(t, "AWS::CloudWatch::Dashboard")
	if strings.Contains(render(props(plain)["DashboardBody"]), "Routes:") {
		t.Error("route widgets without routes")
	}
}

func TestUnroutedSinks(t *testing.T) {
	// GIVEN routes that send nothing to the logs sink, which is enabled
	s, err := ParseSettings(lookup(withContext(routedContext, CtxRoutes, `[{"name":"a","match":{"owners":["111111111111"]},"to":["s3"]},{"name":"b","to":[{"sink":"firehose","stream":"siem"}]}]`)))
	if err != nil {
		t.Fatal(err)
	}
	// THEN that sink is the one synth warns about
	if got := s.unroutedSinks(); !reflect.DeepEqual(got, []string{config.SinkLogs}) {
		t.Errorf("unrouted %v", got)
	}
	// AND without routes every sink gets every event
	if got := (Settings{S3: S3Settings{Enabled: true}}).unroutedSinks(); got != nil {
		t.Errorf("without routes: %v", got)
	}
}
