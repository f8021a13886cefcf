package invoke

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logfan/logfan/shared/config"
)

func TestTemplateFunctionsAndIntrinsics(t *testing.T) {
	// GIVEN the stack's functions as synthesized (see fixture)
	tpl, err := LoadTemplate(fixture)
	if err != nil {
		t.Fatal(err)
	}
	tpl.StackName = "LogfanRecipient"
	got := strings.Join(tpl.Functions(), ",")
	for id := range sinks {
		if !strings.Contains(got, id) {
			t.Fatalf("functions %s lack %s", got, id)
		}
	}
	f, err := tpl.Function("FirehoseFunction")
	if err != nil {
		t.Fatal(err)
	}
	// THEN the function's settings come from the template
	if f.MemoryMB != 512 || f.TimeoutSeconds != 120 || f.Architecture != "arm64" || !strings.HasPrefix(filepath.Base(f.AssetDir), "asset.") {
		t.Errorf("function %+v", f)
	}
	// WHEN the environment resolves, with a SAM override
	env, refs, err := tpl.ResolveEnv(f, map[string]string{"LOGFAN_FIREHOSE_PACKING": "single"})
	if err != nil {
		t.Fatal(err)
	}
	// THEN Refs name the stack's own resources, the override wins
	if env["LOGFAN_FIREHOSE_STREAM"] != "LogfanRecipient-firehose" || env["LOGFAN_QUARANTINE_BUCKET"] != "logfanrecipient-quarantinebucketfdbda180" || env["LOGFAN_FIREHOSE_PACKING"] != "single" {
		t.Errorf("env %v", env)
	}
	// AND the local names cover the stream's destination bucket (Fn::GetAtt Arn)
	n := LocalNames(tpl, env, refs)
	if n.FirehoseStream != env["LOGFAN_FIREHOSE_STREAM"] || n.FirehoseBucket != "logfanrecipient-databuckete3889a50" || n.QuarantineBucket != env["LOGFAN_QUARANTINE_BUCKET"] {
		t.Errorf("names %+v", n)
	}
	if _, err := tpl.Function("NoSuchFunction"); err == nil || !strings.Contains(err.Error(), "S3Function") {
		t.Errorf("unknown function: %v", err)
	}
	if _, err := tpl.Resolve(map[string]any{"Fn::ImportValue": "x"}, map[string]string{}); err == nil || !strings.Contains(err.Error(), "--env-vars") {
		t.Errorf("unsupported intrinsic: %v", err)
	}
}

func TestLoadEnvVarsSAMFormat(t *testing.T) {
	p := filepath.Join(t.TempDir(), "env.json")
	doc := `{"Parameters": {"A": "all", "B": "all"}, "S3Function": {"B": "mine", "N": 5, "T": true}, "LogsFunction": {"A": "theirs"}}`
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadEnvVars(p, "S3Function")
	if err != nil {
		t.Fatal(err)
	}
	if got["A"] != "all" || got["B"] != "mine" || got["N"] != "5" || got["T"] != "true" || len(got) != 4 {
		t.Errorf("env vars %v", got)
	}
	if err := os.WriteFile(p, []byte(`{"S3Function": {"X": {"nested": 1}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadEnvVars(p, "S3Function"); err == nil {
		t.Error("nested value accepted")
	}
}

func TestFindRIENamesMakeTools(t *testing.T) {
	t.Setenv("LOGFAN_RIE", "")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if _, err := FindRIE(); err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Errorf("missing RIE: %v", err)
	}
}

func TestSourceOfReadsTheBuild(t *testing.T) {
	// GIVEN a bootstrap built as the Makefile builds it (here for the host)
	bin := bootstrapFor(t, "s3")
	dir := t.TempDir()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	// THEN its build info names the function's package and tags
	src, err := SourceOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if src.Package != "github.com/logfan/logfan/functions/s3" || src.Tags != "lambda.norpc" {
		t.Errorf("source %+v", src)
	}
}

// TestWriteResponseNamesTheFile: one event prints its response as it is;
// several print one JSON line each naming the event file (a response that
// is not JSON, such as a timeout's message, as a string).
func TestWriteResponseNamesTheFile(t *testing.T) {
	var one bytes.Buffer
	if err := writeResponse(&one, []string{"a.json"}, 0, []byte(`{"batchItemFailures":[]}`)); err != nil || one.String() != "{\"batchItemFailures\":[]}\n" {
		t.Errorf("one event: %q, %v", one.String(), err)
	}
	var several bytes.Buffer
	files := []string{"events/a.json", "events/b.json"}
	_ = writeResponse(&several, files, 0, []byte(`{"batchItemFailures":[]}`))
	_ = writeResponse(&several, files, 1, []byte("Task timed out after 3.00 seconds"))
	want := `{"event":"events/a.json","response":{"batchItemFailures":[]}}` + "\n" +
		`{"event":"events/b.json","response":"Task timed out after 3.00 seconds"}` + "\n"
	if several.String() != want {
		t.Errorf("several events:\n%s\nwant\n%s", several.String(), want)
	}
}

// TestShippedEnvJSON: env.json, the example `make invoke ENV=env.json` and
// the docs use, overrides settings the stack gives each function (a
// mistyped name would be ignored by the function), in SAM's format, and
// every function still loads its configuration with it.
func TestShippedEnvJSON(t *testing.T) {
	tpl, err := LoadTemplate(fixture)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../../env.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for id, sink := range sinks {
		f, err := tpl.Function(id)
		if err != nil {
			t.Fatal(err)
		}
		overrides, err := LoadEnvVars("../../../env.json", id)
		if err != nil {
			t.Fatal(err)
		}
		for k := range overrides {
			if _, ok := f.Env[k]; !ok {
				t.Errorf("%s: env.json sets %s, which the stack does not give it", id, k)
			}
		}
		env, _, err := tpl.ResolveEnv(f, overrides)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(sink, func(k string) string { return env[k] }); err != nil {
			t.Errorf("%s with env.json: %v", id, err)
		}
	}
	for section := range doc {
		if _, ok := sinks[section]; !ok && section != "Parameters" {
			t.Errorf("env.json section %q is no function of the stack", section)
		}
	}
}

// TestRIEResetWarningHiddenOnStop: the warning the RIE logs when Stop ends
// it is left out of a successful run's output; the same line while
// invocations run (the runtime died) is shown, and -v shows everything.
func TestRIEResetWarningHiddenOnStop(t *testing.T) {
	const reset = "06 Dec 2026 17:05:47,003 [WARNING] (rapid) Reset initiated: SandboxTerminated"
	const info = "06 Dec 2026 17:05:46,903 [INFO] (rapid) exec '/var/runtime/bootstrap'"
	r := &Runtime{}
	if !r.shown(reset) || r.shown(info) || !r.shown("START RequestId: x") {
		t.Error("while running: want the reset shown, INFO hidden, START shown")
	}
	r.stopping.Store(true)
	if r.shown(reset) || !r.shown("[WARNING] (rapid) something else") {
		t.Error("after Stop: want the reset hidden, other warnings shown")
	}
	r.cfg.Verbose = true
	if !r.shown(reset) || !r.shown(info) {
		t.Error("-v: want every line")
	}
}
