package recipient

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

// testAssetDir holds placeholder build/<sink>/bootstrap files, each with
// distinct content so the asset test can tell which function got which.
var testAssetDir string

func TestMain(m *testing.M) {
	// jsii warns about Node 20 on every start; the Node version is the machine's, not ours to fix here.
	for k, v := range map[string]string{"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"} {
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	dir, err := os.MkdirTemp("", "logfan-cdk-assets-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, sink := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs, "s3parquet", WatchdogFunctionDir} {
		if err := os.MkdirAll(filepath.Join(dir, sink), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(dir, sink, "bootstrap"), []byte(placeholderBinary(sink)), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	testAssetDir = dir
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

func placeholderBinary(sink string) string {
	return "placeholder bootstrap for the " + sink + " sink\n"
}

// cdkJSONContext returns the "context" object of the repository's cdk.json:
// the default configuration `make synth` uses, feature flags included.
func cdkJSONContext(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatalf("read cdk.json: %v", err)
	}
	var doc struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse cdk.json: %v", err)
	}
	return doc.Context
}

// synthesized is one synthesized variant of the stack.
type synthesized struct {
	settings Settings
	stack    awscdk.Stack
	template assertions.Template
	// json is the template as plain Go values, for the intrinsic evaluator.
	json   map[string]any
	outdir string
	// regional are the regional destination stacks, by region.
	regional map[string]*synthesized
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
)

// synth builds (once per name) the app the way main does, from cdk.json's
// context with overrides, and synthesizes it with asset metadata on, as the
// CDK CLI does. Variants are shared between tests because each synth starts
// jsii work that takes seconds.
func synth(t *testing.T, name string, overrides map[string]any) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[name]; ok {
		return s
	}
	ctx := cdkJSONContext(t)
	ctx[CtxAssetDir] = testAssetDir
	for k, v := range overrides {
		ctx[k] = v
	}
	settings, err := ParseSettings(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatalf("variant %s: %v", name, err)
	}
	appCtx := map[string]any{}
	for k, v := range ctx {
		appCtx[k] = v
	}
	// What the CLI adds: asset metadata is what `sam local invoke` reads.
	appCtx["aws:cdk:enable-asset-metadata"] = true
	outdir, err := os.MkdirTemp("", "logfan-cdk-out-")
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &appCtx, Outdir: jsii.String(outdir)})
	stack := AddToApp(app, settings)
	tpl := assertions.Template_FromStack(stack, nil)
	s := &synthesized{settings: settings, stack: stack, template: tpl, json: *tpl.ToJSON(), outdir: outdir, regional: map[string]*synthesized{}}
	for _, region := range settings.DestinationRegions {
		child := app.Node().TryFindChild(jsii.String(naming.DestinationStack(region)))
		if child == nil {
			t.Fatalf("variant %s: no stack %s", name, naming.DestinationStack(region))
		}
		rs := child.(awscdk.Stack)
		rtpl := assertions.Template_FromStack(rs, nil)
		s.regional[region] = &synthesized{settings: settings, stack: rs, template: rtpl, json: *rtpl.ToJSON(), outdir: outdir}
	}
	synthCache[name] = s
	return s
}

// Variants used by several tests.

// defaultStack is cdk.json's configuration with one sender account.
func defaultStack(t *testing.T) *synthesized {
	return synth(t, "default", map[string]any{CtxSenderAccounts: "111111111111"})
}

// noSendersStack is cdk.json exactly as committed: no sender yet.
func noSendersStack(t *testing.T) *synthesized { return synth(t, "no-senders", nil) }

func threeSenders(t *testing.T) *synthesized {
	return synth(t, "three-senders", map[string]any{CtxSenderAccounts: "111111111111,222222222222,333333333333"})
}

const (
	testOrgID      = "o-a1b2c3d4e5"
	testOrgID2     = "o-f6g7h8i9j0"
	testOrgPath    = "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"
	testKeyARN     = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	testTopicARN   = "arn:aws:sns:us-east-1:123456789012:ops-alerts"
	testBucket     = "existing-log-archive"
	testFirehoseAR = "arn:aws:firehose:us-east-1:123456789012:deliverystream/existing-stream"
)

// orgStack: organization mode, enhanced fan-out, provisioned stream with a
// created customer key, KMS on the data bucket, alarm notifications, Object
// Lock on the data bucket and noncurrent versions kept 90 days.
func orgStack(t *testing.T) *synthesized {
	return synth(t, "org", map[string]any{
		CtxSenderAccounts:                  "111111111111",
		CtxOrganizationID:                  testOrgID,
		CtxOrganizationPaths:               testOrgPath,
		CtxEnhancedFanOut:                  true,
		CtxStreamMode:                      StreamProvisioned,
		CtxShardCount:                      4.0,
		CtxStreamEncryption:                EncryptionKMS,
		CtxS3KMSKeyARN:                     testKeyARN,
		CtxQuarantineKMSKeyARN:             testKeyARN,
		CtxAlarmTopicARN:                   testTopicARN,
		CtxLogsRegion:                      "eu-west-1",
		CtxLogLevel:                        "debug",
		CtxS3ObjectLockDays:                "365",
		CtxS3ObjectLockMode:                "compliance",
		CtxNoncurrentVersionExpirationDays: 90.0,
	})
}

// importStack: imported bucket, Firehose stream and stream key; logs sink off.
func importStack(t *testing.T) *synthesized {
	return synth(t, "imports", map[string]any{
		CtxSenderAccounts:    "111111111111",
		CtxS3BucketName:      testBucket,
		CtxFirehoseStreamARN: testFirehoseAR,
		CtxStreamEncryption:  EncryptionKMS,
		CtxStreamKMSKeyARN:   testKeyARN,
		CtxLogsEnabled:       "false",
	})
}

// logsOnlyStack: only the cross-region logs sink.
func logsOnlyStack(t *testing.T) *synthesized {
	return synth(t, "logs-only", map[string]any{CtxSenderAccounts: "111111111111", CtxS3Enabled: false, CtxFirehoseEnabled: false, CtxLogsRegion: "eu-west-1"})
}

// resources returns the template's resources of type typ, by logical ID.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// only returns the single resource of type typ.
func (s *synthesized) only(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	rs := s.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

// props returns a resource's Properties.
func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// functionByLogicalID returns a consumer function resource.
func (s *synthesized) function(t *testing.T, sink string) map[string]any {
	t.Helper()
	r, ok := s.json["Resources"].(map[string]any)[naming.FunctionLogicalID(sink)].(map[string]any)
	if !ok {
		t.Fatalf("no function %s in the template", naming.FunctionLogicalID(sink))
	}
	return r
}

// roleOf returns the logical ID of a function's execution role.
func roleOf(t *testing.T, fn map[string]any) string {
	t.Helper()
	getAtt := props(fn)["Role"].(map[string]any)["Fn::GetAtt"].([]any)
	return getAtt[0].(string)
}

// policyStatementsOf returns every statement of the AWS::IAM::Policy resources attached to role.
func (s *synthesized) policyStatementsOf(role string) []map[string]any {
	var out []map[string]any
	for _, p := range s.resources("AWS::IAM::Policy") {
		for _, r := range props(p)["Roles"].([]any) {
			if ref, _ := r.(map[string]any)["Ref"].(string); ref == role {
				for _, st := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					out = append(out, st.(map[string]any))
				}
			}
		}
	}
	return out
}

// actionsOn collects, for each rendered resource, the actions statements allow on it.
func actionsOn(statements []map[string]any) map[string][]string {
	out := map[string][]string{}
	for _, st := range statements {
		for _, res := range asList(st["Resource"]) {
			key := render(res)
			for _, a := range asList(st["Action"]) {
				out[key] = append(out[key], a.(string))
			}
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// render shows a resource reference compactly: literal strings as is,
// GetAtt as <Id.Attr>, Ref as <Id>, Fn::Join concatenated.
func render(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		if g, ok := t["Fn::GetAtt"].([]any); ok {
			return "<" + g[0].(string) + "." + g[1].(string) + ">"
		}
		if r, ok := t["Ref"].(string); ok {
			return "<" + r + ">"
		}
		if j, ok := t["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, render(p))
			}
			return strings.Join(parts, j[0].(string))
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// evaluator resolves CloudFormation intrinsics for given parameter values,
// the way CloudFormation would at deploy time, so tests can check what a
// deployment with one set of parameters actually receives.
type evaluator struct {
	tpl    map[string]any
	params map[string]string
}

// newEvaluator uses the template's parameter defaults, overridden by params.
func newEvaluator(tpl map[string]any, params map[string]string) *evaluator {
	e := &evaluator{tpl: tpl, params: map[string]string{}}
	for name, p := range tpl["Parameters"].(map[string]any) {
		if d, ok := p.(map[string]any)["Default"].(string); ok {
			e.params[name] = d
		}
	}
	for k, v := range params {
		e.params[k] = v
	}
	return e
}

func (e *evaluator) condition(t *testing.T, name string) bool {
	t.Helper()
	v := e.eval(t, e.tpl["Conditions"].(map[string]any)[name])
	b, ok := v.(bool)
	if !ok {
		t.Fatalf("condition %s evaluated to %T", name, v)
	}
	return b
}

// noValue is what Ref AWS::NoValue evaluates to.
const noValue = "<AWS::NoValue>"

func (e *evaluator) eval(t *testing.T, v any) any {
	t.Helper()
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for i := range x {
			// AWS::NoValue removes a list item.
			if v := e.eval(t, x[i]); v != noValue {
				out = append(out, v)
			}
		}
		return out
	case map[string]any:
		if len(x) != 1 {
			out := map[string]any{}
			for k, val := range x {
				out[k] = e.eval(t, val)
			}
			return out
		}
		for k, arg := range x {
			switch k {
			case "Ref":
				name := arg.(string)
				if name == "AWS::NoValue" {
					return noValue
				}
				p, isParam := e.tpl["Parameters"].(map[string]any)[name].(map[string]any)
				if !isParam {
					return "<" + name + ">"
				}
				if p["Type"] == "CommaDelimitedList" {
					var l []any
					for _, item := range strings.Split(e.params[name], ",") {
						l = append(l, item)
					}
					return l
				}
				return e.params[name]
			case "Fn::GetAtt":
				g := arg.([]any)
				return "<" + g[0].(string) + "." + g[1].(string) + ">"
			case "Fn::Join":
				a := arg.([]any)
				var parts []string
				for _, item := range e.eval(t, a[1]).([]any) {
					parts = append(parts, item.(string))
				}
				return strings.Join(parts, a[0].(string))
			case "Fn::Select":
				a := arg.([]any)
				return e.eval(t, a[1]).([]any)[int(a[0].(float64))]
			case "Fn::Split":
				a := arg.([]any)
				var l []any
				for _, item := range strings.Split(e.eval(t, a[1]).(string), a[0].(string)) {
					l = append(l, item)
				}
				return l
			case "Fn::If":
				a := arg.([]any)
				if e.condition(t, a[0].(string)) {
					return e.eval(t, a[1])
				}
				return e.eval(t, a[2])
			case "Fn::Equals":
				a := arg.([]any)
				return fmt.Sprint(e.eval(t, a[0])) == fmt.Sprint(e.eval(t, a[1]))
			case "Fn::Not":
				return !e.eval(t, arg.([]any)[0]).(bool)
			case "Fn::Or":
				for _, c := range arg.([]any) {
					if e.eval(t, c).(bool) {
						return true
					}
				}
				return false
			case "Fn::And":
				for _, c := range arg.([]any) {
					if !e.eval(t, c).(bool) {
						return false
					}
				}
				return true
			case "Fn::Contains":
				a := arg.([]any)
				want := e.eval(t, a[1])
				for _, item := range e.eval(t, a[0]).([]any) {
					if item == want {
						return true
					}
				}
				return false
			}
			if strings.HasPrefix(k, "Fn::") {
				t.Fatalf("evaluator: unsupported intrinsic %s", k)
			}
			return map[string]any{k: e.eval(t, arg)}
		}
	}
	return v
}

// accessPolicyApplied returns the access policy the custom resource sends
// to PutDestinationPolicy, and the whole SDK call, for these parameters.
func (s *synthesized) accessPolicyApplied(t *testing.T, params map[string]string) (policy map[string]any, call map[string]any) {
	t.Helper()
	_, cr := s.only(t, "Custom::LogsDestinationPolicy")
	raw := newEvaluator(s.json, params).eval(t, props(cr)["Create"]).(string)
	if err := json.Unmarshal([]byte(raw), &call); err != nil {
		t.Fatalf("custom resource Create is not JSON: %v\n%s", err, raw)
	}
	text := call["parameters"].(map[string]any)["accessPolicy"].(string)
	if err := json.Unmarshal([]byte(text), &policy); err != nil {
		t.Fatalf("access policy is not JSON: %v\n%s", err, text)
	}
	if len(text) > MaxAccessPolicyBytes {
		t.Errorf("access policy is %d bytes", len(text))
	}
	return policy, call
}

// mustJSONString marshals v for messages.
func mustJSONString(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// synthPanic synthesizes an app that must fail and returns the failure message.
func synthPanic(t *testing.T, ctx map[string]any, settings Settings) (msg string) {
	t.Helper()
	outdir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	AddToApp(app, settings)
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("synth succeeded")
		}
		msg = fmt.Sprint(r)
	}()
	app.Synth(nil)
	return ""
}
