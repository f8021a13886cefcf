// Package emutest runs a test package against a fresh moto_server.
package emutest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/logfan/logfan/internal/devkit/emulator"
)

// RunTests is a TestMain body: it starts moto_server, points the SDK at it
// through the environment, runs the package's tests and stops the emulator.
// With -short it runs the tests without an emulator; integration tests then
// call Require, which skips them.
func RunTests(m *testing.M, srv **emulator.Server) int {
	// TestMain runs before the testing package parses its flags, and
	// testing.Short panics until they are parsed.
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		return m.Run()
	}
	s, err := emulator.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration tests need moto_server:", err)
		return 1
	}
	defer s.Stop()
	if err := s.Setenv(emulator.Region); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*srv = s
	return m.Run()
}

// Require skips t when the emulator was not started (go test -short).
func Require(t testing.TB, s *emulator.Server) {
	t.Helper()
	if s == nil {
		t.Skip("integration test: needs moto_server (run without -short)")
	}
}
