// Package emulator starts and stops a local AWS emulator (moto_server) on a
// free loopback port, for integration tests and `logfan demo`. Code under
// test reaches it through the SDK's standard AWS_ENDPOINT_URL setting, so
// the same code runs unchanged against AWS or LocalStack.
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Region is the default region tests and the demo use on the emulator.
const Region = "us-east-1"

// Server is a running moto_server.
type Server struct {
	// Endpoint is the base URL, e.g. http://127.0.0.1:41234.
	Endpoint string

	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
	once   sync.Once
}

// Command is the emulator binary; override with LOGFAN_MOTO_SERVER.
func Command() string {
	if c := os.Getenv("LOGFAN_MOTO_SERVER"); c != "" {
		return c
	}
	return "moto_server"
}

// Start launches moto_server on a free 127.0.0.1 port and waits until it
// answers. It retries on a new port if another process took the one chosen.
func Start(ctx context.Context) (*Server, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(ctx)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(ctx context.Context) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("find a free loopback port: %w", err)
	}
	bin, err := exec.LookPath(Command())
	if err != nil {
		return nil, fmt.Errorf("moto_server not found (install moto[server], or set LOGFAN_MOTO_SERVER): %w", err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout = nil
	cmd.Stderr = &limitedWriter{buf: s.stderr, max: 64 << 10}
	// Own process group, so Stop also ends the workers moto may spawn.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("moto_server exited early: %s", s.stderr.String())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		default:
		}
		resp, err := client.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("moto_server on %s not ready after 60s: %v", s.Endpoint, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Reset clears all of the emulator's state.
func (s *Server) Reset() error {
	resp, err := http.Post(s.Endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Stop ends the emulator and its process group. It is safe to call twice.
func (s *Server) Stop() {
	s.once.Do(func() {
		if s.cmd.Process == nil {
			return
		}
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// Env returns the environment settings that point an AWS SDK at the
// emulator with dummy credentials, as KEY=VALUE pairs.
func (s *Server) Env(region string) []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.Endpoint,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=testing",
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		// Keep a developer's own profile or IMDS out of the picture.
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv applies Env to the current process (for TestMain and the demo).
func (s *Server) Setenv(region string) error {
	for _, kv := range s.Env(region) {
		k, v, _ := cutEq(kv)
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

func cutEq(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr, ok := l.Addr().(*net.TCPAddr)
	if err := l.Close(); err != nil {
		return 0, err
	}
	if !ok {
		return 0, errors.New("not a TCP address")
	}
	return addr.Port, nil
}

// limitedWriter keeps the first max bytes of the emulator's stderr for error messages.
type limitedWriter struct {
	mu  sync.Mutex
	buf *bytes.Buffer
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - w.buf.Len(); room > 0 {
		if len(p) > room {
			w.buf.Write(p[:room])
		} else {
			w.buf.Write(p)
		}
	}
	return len(p), nil
}
