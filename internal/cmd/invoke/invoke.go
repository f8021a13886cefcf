// Package invoke runs a function of the synthesized stack through AWS's
// Lambda Runtime Interface Emulator (aws-lambda-rie), the way
// `sam local invoke -t cdk.out/<stack>.template.json` does inside its
// container, without Docker: the template's environment, memory, timeout
// and code asset; the real bootstrap, built for this host; Lambda's
// Runtime API, cold start, timeout and START/END/REPORT lines.
package invoke

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/logfan/logfan/internal/cli/cliflag"
	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/shared/config"
)

// DefaultTemplate is the template `make synth` writes for the recipient stack.
const DefaultTemplate = "cdk.out/LogfanRecipient.template.json"

// MaxPayload is Lambda's limit on a synchronous invocation's payload (6 MB).
const MaxPayload = 6 << 20

// Run is `logfan invoke`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// Every input is checked before the work (synth, build, emulator) starts.
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	payloads, err := readPayloads(o.files, o.rebase)
	if err != nil {
		return err
	}
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	rie, err := FindRIE()
	if err != nil {
		return err
	}
	fn, err := o.loadFunction(ctx, root, stderr)
	if err != nil {
		return err
	}
	stopEmulator, err := fn.startEmulator(ctx, stderr)
	defer stopEmulator()
	if err != nil {
		return err
	}
	if o.bootstrap == "" {
		if o.bootstrap, err = fn.build(ctx, root, stderr); err != nil {
			return err
		}
	}
	rcfg := RuntimeConfig{
		RIE: rie, Bootstrap: o.bootstrap, FunctionName: fn.t.StackName + "-" + fn.f.LogicalID, Env: fn.runtimeEnv(),
		MemoryMB: fn.f.MemoryMB, TimeoutSeconds: fn.f.TimeoutSeconds, Logs: stderr, Verbose: o.verbose,
	}
	failed, err := o.invokeAll(ctx, rcfg, fn.f, payloads, stdout, stderr)
	if err != nil {
		return err
	}
	if o.keep && fn.srv != nil {
		printReadBack(stderr, fn.srv.Endpoint, fn.t.Region, fn.names, fn.env)
		fmt.Fprintln(stderr, "-keep: moto stays up until you press Ctrl-C")
		<-ctx.Done()
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d invocations failed", failed, len(o.files)*o.cold)
	}
	return nil
}

// flags are `logfan invoke`'s flags, checked.
type flags struct {
	files                       []string // the -event files, folders and globs, expanded
	function, template, envVars string
	bootstrap                   string
	keep, rebase, verbose       bool
	cold                        int
}

// invokeUsage is what -h prints above the flags.
const invokeUsage = `usage: logfan invoke -function S3Function -event FILE|DIR|GLOB [-event ...] [-env-vars env.json] [-template T] [-bootstrap B] [-keep] [-rebase] [-cold N] [-v]

Runs the function's real bootstrap under aws-lambda-rie (installed by ` + "`" + `make tools` + "`" + `):
responses on stdout (with several events, one JSON line each: {"event": FILE, "response": ...}),
the function's logs and START/END/REPORT on stderr. Without AWS_ENDPOINT_URL it starts
moto_server and creates the resources the environment names.
`

// parseFlags parses and checks the flags; a bad one is a usage error.
func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	fl := usage.NewFlagSet("invoke", stderr, invokeUsage)
	var events cliflag.Events
	fl.Var(&events, "event", cliflag.EventUsage+"; one warm runtime invokes them in turn")
	function := fl.String("function", "S3Function", "the function's logical ID in the template")
	template := fl.String("template", DefaultTemplate, "synthesized template (synthesized first when missing or older than cdk/ and cdk.json)")
	envVars := fl.String("env-vars", "", `SAM-format environment overrides: {"S3Function": {"VAR": "value"}, "Parameters": {...}}`)
	bootstrap := fl.String("bootstrap", "", "use this host-architecture bootstrap instead of building the function's package")
	keep := fl.Bool("keep", false, "leave the embedded moto_server running (until Ctrl-C) and print how to read back what landed")
	rebase := fl.Bool("rebase", false, "shift event timestamps so the newest is now (CloudWatch Logs rejects events older than 14 days)")
	verbose := fl.Bool("v", false, "also print the emulator's own INFO lines")
	cold := fl.Int("cold", 1, "repeat the events on this many fresh runtimes (cold starts) and print the medians")
	if err := cliflag.Parse(fl, args, &events); err != nil {
		return nil, err
	}
	if *cold < 1 {
		return nil, usage.Errorf("-cold %d: want at least 1 runtime", *cold)
	}
	files, err := events.Files(stderr)
	if err != nil {
		return nil, err
	}
	if _, err := LoadEnvVars(*envVars, *function); err != nil {
		return nil, usage.Wrap(err)
	}
	return &flags{
		files: files, function: *function, template: *template, envVars: *envVars, bootstrap: *bootstrap,
		keep: *keep, rebase: *rebase, verbose: *verbose, cold: *cold,
	}, nil
}

// stackFunction is the function to invoke, as the template defines it,
// and the emulator it reaches AWS through.
type stackFunction struct {
	t *Template
	f *Function
	// env is the function's environment from the template, with the
	// -env-vars overrides; refs are the resources it names.
	env, refs map[string]string
	// awsEnv points the function's SDK at AWS: the caller's settings, or
	// the embedded moto's.
	awsEnv []string
	srv    *emulator.Server // the embedded moto, if started
	names  localenv.Names   // the resources created in it
}

// loadFunction finds the function in the template (synthesized first if
// it is the default one and out of date) and resolves its environment.
func (o *flags) loadFunction(ctx context.Context, root string, stderr io.Writer) (*stackFunction, error) {
	if o.template == DefaultTemplate {
		o.template = filepath.Join(root, DefaultTemplate)
		if err := ensureSynth(ctx, root, o.template, stderr); err != nil {
			return nil, err
		}
	}
	t, err := LoadTemplate(o.template)
	if err != nil {
		return nil, err
	}
	f, err := t.Function(o.function)
	if err != nil {
		return nil, err
	}
	overrides, err := LoadEnvVars(o.envVars, f.LogicalID)
	if err != nil {
		return nil, err
	}
	fn := &stackFunction{t: t, f: f}
	if fn.env, fn.refs, err = t.ResolveEnv(f, overrides); err != nil {
		return nil, err
	}
	return fn, nil
}

// startEmulator, when AWS_ENDPOINT_URL is unset, starts moto_server on a
// free loopback port and creates in it the resources the function's
// environment names; otherwise the function gets the caller's AWS
// settings. The func it returns, also on error, stops moto.
func (fn *stackFunction) startEmulator(ctx context.Context, stderr io.Writer) (stop func(), err error) {
	stop = func() {}
	fn.awsEnv = passThroughAWS(fn.t.Region)
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		return stop, nil
	}
	fmt.Fprintln(stderr, "no AWS_ENDPOINT_URL: starting moto_server on a free loopback port")
	if fn.srv, err = emulator.Start(ctx); err != nil {
		return stop, err
	}
	stop = fn.srv.Stop
	if err := fn.srv.Setenv(fn.t.Region); err != nil {
		return stop, err
	}
	fn.awsEnv = fn.srv.Env(fn.t.Region)
	fn.names = LocalNames(fn.t, fn.env, fn.refs)
	if err := CreateResources(ctx, fn.names); err != nil {
		return stop, err
	}
	var named []string
	for id, typ := range fn.refs {
		name, _ := fn.t.PhysicalName(id)
		named = append(named, fmt.Sprintf("%s %s", strings.TrimPrefix(typ, "AWS::"), name))
	}
	sort.Strings(named)
	fmt.Fprintf(stderr, "moto at %s, with what the environment names: %s\n", fn.srv.Endpoint, strings.Join(named, ", "))
	return stop, nil
}

// runtimeEnv is the function's environment in the runtime: the AWS
// settings, overridden by the function's own.
func (fn *stackFunction) runtimeEnv() map[string]string {
	env := map[string]string{}
	for _, kv := range fn.awsEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range fn.env {
		env[k] = v
	}
	return env
}

// build builds the function's package for this host into build/ and
// returns the bootstrap's path.
func (fn *stackFunction) build(ctx context.Context, root string, stderr io.Writer) (string, error) {
	src, err := SourceOf(fn.f.AssetDir)
	if err != nil {
		return "", err
	}
	bootstrap := filepath.Join(root, "build", "linux_"+runtime.GOARCH, fn.f.LogicalID, "bootstrap")
	if err := Build(ctx, root, src, fn.f.Architecture, bootstrap, stderr); err != nil {
		return "", err
	}
	return bootstrap, nil
}

// invokeAll invokes the payloads on o.cold fresh runtimes in turn,
// printing each runtime's cold start, first invocation and peak memory
// (and their medians over several), and returns how many invocations
// failed.
func (o *flags) invokeAll(ctx context.Context, rcfg RuntimeConfig, f *Function, payloads [][]byte, stdout, stderr io.Writer) (failed int, err error) {
	var inits, firsts []time.Duration
	var peak int64
	for run := 0; run < o.cold; run++ {
		st, err := runOnce(ctx, rcfg, o.files, payloads, stdout, stderr)
		if err != nil {
			return failed, err
		}
		failed += st.failed
		inits = append(inits, st.init)
		firsts = append(firsts, st.first)
		peak = max(peak, st.peak)
		fmt.Fprintf(stderr, "%s: %d invocations, cold start %.1f ms (bootstrap spawn to first /next), first invocation %.1f ms, peak RSS %.1f MiB (VmHWM) with %d MB configured\n",
			f.LogicalID, len(o.files), ms(st.init), ms(st.first), float64(st.peak)/(1<<20), f.MemoryMB)
	}
	if o.cold > 1 {
		fmt.Fprintf(stderr, "%s: %d cold starts: median %.1f ms (min %.1f, max %.1f); first invocation median %.1f ms; peak RSS %.1f MiB\n",
			f.LogicalID, o.cold, ms(median(inits)), ms(slices.Min(inits)), ms(slices.Max(inits)), ms(median(firsts)), float64(peak)/(1<<20))
	}
	return failed, nil
}

// readPayloads reads the event files, rebased if asked, and refuses one
// over Lambda's payload limit.
func readPayloads(files []string, rebase bool) ([][]byte, error) {
	payloads := make([][]byte, len(files))
	for i, file := range files {
		var err error
		if payloads[i], err = os.ReadFile(file); err != nil {
			return nil, err
		}
		if rebase {
			if payloads[i], err = eventgen.Rebase(payloads[i], time.Now()); err != nil {
				return nil, fmt.Errorf("rebase %s: %w", file, err)
			}
			// Rebase indents; compact keeps a 6 MB batch within the limit.
			var buf bytes.Buffer
			if err := json.Compact(&buf, payloads[i]); err != nil {
				return nil, fmt.Errorf("rebase %s: %w", file, err)
			}
			payloads[i] = buf.Bytes()
		}
		// The RIE silently truncates a larger body (and the function then
		// fails to parse it); Lambda rejects it before the function runs.
		if len(payloads[i]) > MaxPayload {
			return nil, usage.Errorf("-event %s: %d bytes, over Lambda's %d-byte invocation payload limit", file, len(payloads[i]), MaxPayload)
		}
	}
	return payloads, nil
}

// runStats is one runtime's life: its cold start, first invocation and peak memory.
type runStats struct {
	init, first time.Duration
	peak        int64
	failed      int
}

// runOnce starts a fresh runtime, invokes every payload on it (warm after
// the first) and stops it.
func runOnce(ctx context.Context, cfg RuntimeConfig, files []string, payloads [][]byte, stdout, stderr io.Writer) (runStats, error) {
	var st runStats
	rt, err := StartRuntime(ctx, cfg)
	if err != nil {
		return st, err
	}
	defer rt.Stop()
	for i, payload := range payloads {
		if len(payloads) > 1 {
			fmt.Fprintf(stderr, "invoke %d/%d: %s\n", i+1, len(payloads), files[i])
		}
		res, err := rt.Invoke(ctx, payload)
		if err != nil {
			return st, fmt.Errorf("%s: %w", files[i], err)
		}
		if err := writeResponse(stdout, files, i, res.Response); err != nil {
			return st, err
		}
		if res.Failed() {
			st.failed++
			fmt.Fprintf(stderr, "invocation with %s failed: %s\n", files[i], describe(res))
		}
	}
	st.peak = rt.PeakRSS()
	rt.Stop()
	if inits := rt.InitDurations(); len(inits) > 0 {
		st.init = inits[0]
	}
	if reports := rt.Reports(); len(reports) > 0 {
		st.first = reportDuration(reports[0])
	}
	return st, nil
}

// writeResponse prints one invocation's response on stdout: as it is for
// one event file; for several, as grep names the file of each match, one
// JSON line {"event": FILE, "response": RESPONSE} each (a response that is
// not JSON, such as a timeout's message, as a string).
func writeResponse(w io.Writer, files []string, i int, resp []byte) error {
	if len(files) == 1 {
		_, err := fmt.Fprintf(w, "%s\n", resp)
		return err
	}
	line := struct {
		Event    string          `json:"event"`
		Response json.RawMessage `json:"response"`
	}{Event: files[i], Response: bytes.TrimSpace(resp)}
	if !json.Valid(line.Response) {
		line.Response, _ = json.Marshal(string(resp))
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

var reportDurationRE = regexp.MustCompile(`\tDuration: ([0-9.]+) ms`)

// reportDuration is a REPORT line's Duration.
func reportDuration(line string) time.Duration {
	m := reportDurationRE.FindStringSubmatch(line)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return time.Duration(v * float64(time.Millisecond))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func describe(r *Result) string {
	switch {
	case r.TimedOut:
		return "timed out"
	case r.FunctionError:
		return "function error"
	default:
		return "batch item failures (Lambda retries from the first)"
	}
}

// passThroughAWS is the caller's AWS SDK settings, for a function pointed
// at AWS_ENDPOINT_URL (LocalStack, a moto of one's own) or at AWS.
func passThroughAWS(region string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "HOME=") {
			out = append(out, kv)
		}
	}
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		out = append(out, "AWS_REGION="+region)
	}
	return out
}

// ensureSynth runs `make synth` (offline) when the template is missing or
// older than what it is synthesized from.
func ensureSynth(ctx context.Context, root, template string, w io.Writer) error {
	reason := ""
	info, err := os.Stat(template)
	if err != nil {
		reason = "missing"
	} else if newer := newestSource(root); newer != "" {
		if st, err := os.Stat(newer); err == nil && st.ModTime().After(info.ModTime()) {
			reason = "older than " + newer
		}
	}
	if reason == "" {
		return nil
	}
	fmt.Fprintf(w, "%s is %s: running make synth\n", template, reason)
	cmd := exec.CommandContext(ctx, "make", "synth")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("make synth: %w", err)
	}
	return nil
}

// newestSource is the most recently modified file the template derives
// from: cdk.json, the stack's Go code and the environment names it shares.
func newestSource(root string) string {
	var newest string
	var at time.Time
	consider := func(p string) {
		if st, err := os.Stat(p); err == nil && st.ModTime().After(at) {
			newest, at = p, st.ModTime()
		}
	}
	consider(filepath.Join(root, "cdk.json"))
	for _, dir := range []string{"cdk", filepath.Join("shared", "config")} {
		_ = filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
				consider(p)
			}
			return nil
		})
	}
	return newest
}

func printReadBack(w io.Writer, endpoint, region string, n localenv.Names, env map[string]string) {
	fmt.Fprintf(w, "read back what landed (moto at %s):\n", endpoint)
	fmt.Fprintf(w, "  export AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=%s\n", endpoint, region)
	if env[config.EnvS3Bucket] != "" {
		fmt.Fprintf(w, "  aws --endpoint-url %s s3 ls --recursive s3://%s/\n", endpoint, n.DataBucket)
	}
	if env[config.EnvFirehoseStream] != "" {
		fmt.Fprintf(w, "  aws --endpoint-url %s s3 ls --recursive s3://%s/\n", endpoint, n.FirehoseBucket)
	}
	if r := env[config.EnvLogsRegion]; r != "" {
		fmt.Fprintf(w, "  aws --endpoint-url %s --region %s logs describe-log-groups --log-group-name-prefix /logfan/\n", endpoint, r)
	}
	fmt.Fprintf(w, "  aws --endpoint-url %s s3 ls --recursive s3://%s/   # quarantine\n", endpoint, n.QuarantineBucket)
}
