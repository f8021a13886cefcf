package invoke

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// RuntimeConfig describes one local execution environment: the RIE in
// front of a function's bootstrap.
type RuntimeConfig struct {
	// RIE is the aws-lambda-rie binary (see FindRIE).
	RIE string
	// Bootstrap is the function's bootstrap, built for this host.
	Bootstrap string
	// FunctionName is what the function sees as AWS_LAMBDA_FUNCTION_NAME.
	FunctionName string
	// Env is the function's whole environment (nothing else of this
	// process's environment reaches it, as in Lambda).
	Env map[string]string
	// MemoryMB and TimeoutSeconds are the function's settings; the RIE
	// enforces the timeout and echoes the memory size in REPORT lines.
	MemoryMB, TimeoutSeconds int
	// Logs receives the function's output and the START/END/REPORT lines.
	Logs io.Writer
	// Verbose also passes the RIE's own INFO lines to Logs.
	Verbose bool
}

// Runtime is a running RIE with its bootstrap.
type Runtime struct {
	cfg       RuntimeConfig
	cmd       *exec.Cmd
	invokeURL string
	done      chan struct{}
	pipes     sync.WaitGroup
	stopOnce  sync.Once
	stopping  atomic.Bool // Stop has begun: the RIE's reset warning is expected

	invocations int // answered by the RIE, for waiting on their REPORT lines

	mu      sync.Mutex
	inits   []float64
	reports []string
	peakKB  int64
}

// Result is one invocation's outcome as the RIE returned it.
type Result struct {
	// Response is the body: the function's response, its error document,
	// or the RIE's timeout message.
	Response []byte
	// FunctionError is set when the function returned an error or panicked
	// (Lambda's X-Amz-Function-Error).
	FunctionError bool
	// TimedOut is set when the function ran past its timeout.
	TimedOut bool
}

// Failed reports whether Lambda would count the invocation as failed or
// retry part of its batch: a function error, a timeout or batch item failures.
func (r *Result) Failed() bool {
	if r.FunctionError || r.TimedOut {
		return true
	}
	var resp struct {
		BatchItemFailures []json.RawMessage `json:"batchItemFailures"`
	}
	return json.Unmarshal(r.Response, &resp) == nil && len(resp.BatchItemFailures) > 0
}

// initReport is the RIE's own log line when the runtime first asks for
// work: its duration spans spawning the bootstrap to its first
// /runtime/invocation/next, unlike REPORT's "Init Duration", which the RIE
// takes around an asynchronous call that returns before the process runs.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// StartRuntime starts the RIE on free loopback ports and waits until it
// accepts invocations. The bootstrap itself starts with the first
// invocation (a cold start), as in Lambda.
func StartRuntime(ctx context.Context, cfg RuntimeConfig) (*Runtime, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		r, err := startRuntime(ctx, cfg)
		if err == nil {
			return r, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startRuntime(ctx context.Context, cfg RuntimeConfig) (*Runtime, error) {
	if cfg.Logs == nil {
		cfg.Logs = io.Discard
	}
	// The Runtime API has a fixed default port (9001); a free one lets
	// several runtimes (parallel tests, other developers) share the machine.
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	invokeAddr, apiAddr := addrs[0], addrs[1]
	bootstrap, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.RIE, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = runtimeEnv(cfg, filepath.Dir(bootstrap))
	// Own process group, so Stop ends the bootstrap with the RIE.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	r := &Runtime{cfg: cfg, cmd: cmd, invokeURL: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", done: make(chan struct{})}
	var tail bytes.Buffer
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.RIE, err)
	}
	r.pipes.Add(2)
	go r.copyLines(stdout, nil)
	go r.copyLines(stderr, &tail)
	go func() { r.pipes.Wait(); _ = cmd.Wait(); close(r.done) }()

	if err := r.awaitReady(ctx, &tail, invokeAddr, apiAddr); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// settleTime is how long the RIE must stay up once both its ports accept
// connections before the start counts as good: it panics when it cannot
// bind a port (log.Panic in its HTTP server), which can happen just after
// the other port answered the readiness check.
const settleTime = 250 * time.Millisecond

// awaitReady waits until both the invoke port and the Runtime API port
// accept connections and the RIE is still running settleTime later. An RIE
// that exits before then is a failed start (StartRuntime tries again on
// fresh ports), not a runtime whose first invocation fails.
func (r *Runtime) awaitReady(ctx context.Context, tail *bytes.Buffer, invokeAddr, apiAddr string) error {
	exited := func() error {
		return fmt.Errorf("aws-lambda-rie exited at start: %s", strings.TrimSpace(r.tailOf(tail)))
	}
	deadline := time.Now().Add(15 * time.Second)
	pending := []string{invokeAddr, apiAddr}
	for len(pending) > 0 {
		if c, err := net.DialTimeout("tcp", pending[0], time.Second); err == nil {
			_ = c.Close()
			pending = pending[1:]
			continue
		}
		select {
		case <-r.done:
			return exited()
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("aws-lambda-rie did not listen on %s within 15s", pending[0])
		}
	}
	select {
	case <-r.done:
		return exited()
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settleTime):
		return nil
	}
}

// runtimeEnv is what the RIE passes on to the bootstrap: the function's
// environment plus the variables Lambda itself sets.
func runtimeEnv(cfg RuntimeConfig, taskRoot string) []string {
	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"TZ":                              ":UTC",
		"LAMBDA_TASK_ROOT":                taskRoot,
		"_HANDLER":                        "bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME":        cfg.FunctionName,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(cfg.MemoryMB),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(cfg.TimeoutSeconds),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + cfg.FunctionName,
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// copyLines passes the RIE's output to Logs line by line, keeping the
// INIT REPORT durations and REPORT lines, and the last lines in tail.
func (r *Runtime) copyLines(rd io.Reader, tail *bytes.Buffer) {
	defer r.pipes.Done()
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		r.mu.Lock()
		if m := initReport.FindStringSubmatch(line); m != nil {
			if ms, err := strconv.ParseFloat(m[1], 64); err == nil {
				r.inits = append(r.inits, ms)
			}
		}
		if strings.HasPrefix(line, "REPORT RequestId:") {
			r.reports = append(r.reports, line)
		}
		if tail != nil {
			if tail.Len() > 8<<10 {
				tail.Reset()
			}
			tail.WriteString(line + "\n")
		}
		r.mu.Unlock()
		if r.shown(line) {
			fmt.Fprintln(r.cfg.Logs, line)
		}
	}
}

// shown reports whether an RIE line goes to Logs. The RIE's own INFO lines
// show only with Verbose, and so does the WARNING it logs when Stop ends
// it ("Reset initiated: SandboxTerminated"): expected on every successful
// run, it would read as a problem. The same line at another time (the
// runtime died under an invocation) is shown.
func (r *Runtime) shown(line string) bool {
	if r.cfg.Verbose {
		return true
	}
	if strings.Contains(line, "[INFO] (rapid)") {
		return false
	}
	return !(r.stopping.Load() && strings.Contains(line, "(rapid) Reset initiated: SandboxTerminated"))
}

func (r *Runtime) tailOf(b *bytes.Buffer) string {
	r.pipes.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return b.String()
}

// Invoke posts one event and returns the RIE's answer. An error means the
// RIE itself could not be reached or answered with an unexpected status.
func (r *Runtime) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.invokeURL, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post the event to aws-lambda-rie: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read aws-lambda-rie's response: %w", err)
	}
	r.samplePeak()
	r.invocations++
	r.awaitReport()
	res := &Result{Response: body}
	switch {
	case resp.StatusCode == http.StatusOK && bytes.HasPrefix(body, []byte("Task timed out after")):
		res.TimedOut = true
	case resp.StatusCode == http.StatusOK && isErrorDocument(body):
		res.FunctionError = true
	case resp.StatusCode == http.StatusBadGateway:
		// The runtime failed its init or exited mid-invocation.
		res.FunctionError = true
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("aws-lambda-rie answered HTTP %d: %s", resp.StatusCode, body)
	}
	return res, nil
}

// awaitReport waits (briefly) until the reader has passed on this
// invocation's REPORT line, which the RIE prints before it answers: so a
// caller's output keeps the function's logs before what follows.
func (r *Runtime) awaitReport() {
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r.mu.Lock()
		n := len(r.reports)
		r.mu.Unlock()
		if n >= r.invocations {
			return
		}
	}
}

// isErrorDocument reports Lambda's error shape {"errorMessage", "errorType"}.
func isErrorDocument(body []byte) bool {
	var doc struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    *string `json:"errorType"`
	}
	return json.Unmarshal(body, &doc) == nil && doc.ErrorMessage != nil && doc.ErrorType != nil
}

// BootstrapPID returns the running bootstrap's process ID (the RIE's
// child), or 0 before the first invocation.
func (r *Runtime) BootstrapPID() int {
	if r.cmd.Process == nil {
		return 0
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", r.cmd.Process.Pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				return pid
			}
		}
	}
	return 0
}

// samplePeak records the bootstrap's VmHWM: the kernel's high-water mark
// of its resident set, so reading it while the process lives is exact.
func (r *Runtime) samplePeak() {
	pid := r.BootstrapPID()
	if pid == 0 {
		return
	}
	kb, err := vmHWM(pid)
	if err != nil {
		return
	}
	r.mu.Lock()
	r.peakKB = max(r.peakKB, kb)
	r.mu.Unlock()
}

// vmHWM reads a process's peak resident set size in KiB from /proc.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// PeakRSS is the highest VmHWM of the bootstrap seen after an invocation, in bytes.
func (r *Runtime) PeakRSS() int64 {
	r.samplePeak()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peakKB << 10
}

// InitDurations are the cold starts so far (one per bootstrap process
// started), from spawning the bootstrap to its first request for work.
func (r *Runtime) InitDurations() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]time.Duration, len(r.inits))
	for i, ms := range r.inits {
		out[i] = time.Duration(ms * float64(time.Millisecond))
	}
	return out
}

// Reports are the REPORT lines so far.
func (r *Runtime) Reports() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reports...)
}

// Stop ends the RIE and the bootstrap and waits for their output. It is
// safe to call twice.
func (r *Runtime) Stop() {
	r.stopOnce.Do(func() {
		r.stopping.Store(true)
		pid := r.cmd.Process.Pid
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-r.done
		}
	})
}

// listen opens a loopback listener (tests replace it to play a kernel
// that hands out the port it just freed).
var listen = func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// freeAddrs returns n distinct free loopback addresses. Every listener
// stays open until all n ports are known, so the kernel cannot hand out
// one port twice (two listen-and-close calls can get the same port, and
// the RIE panics when its two servers are given one address).
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	for len(addrs) < n {
		l, err := listen()
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		defer func() { _ = l.Close() }()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}
