// Package emutest runs a test package against a fresh moto_server, and
// holds the setup the integration tests share: the SDK configuration and
// clients for the emulator, buckets, and the ledger and health tables as
// the stack creates them.
package emutest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/localenv"
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

// Config returns the SDK configuration for region on the emulator (RunTests
// pointed the environment at it), skipping t when the emulator was not
// started.
func Config(t testing.TB, s *emulator.Server, region string) aws.Config {
	t.Helper()
	Require(t, s)
	cfg, err := sdkconfig.Load(context.Background(), region)
	if err != nil {
		t.Fatalf("SDK configuration for the emulator in %s: %v", region, err)
	}
	return cfg
}

// Clients returns the local environment's clients (localenv.NewClients) on
// the emulator, skipping t when the emulator was not started.
func Clients(t testing.TB, s *emulator.Server) *localenv.Clients {
	t.Helper()
	Require(t, s)
	c, err := localenv.NewClients(context.Background())
	if err != nil {
		t.Fatalf("clients for the emulator: %v", err)
	}
	return c
}

// Buckets creates the named buckets with c.
func Buckets(t testing.TB, c *s3.Client, names ...string) {
	t.Helper()
	for _, b := range names {
		if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
}

// HealthTable creates the sender-health table name as the stack does
// (localenv.CreateHealthTable) and returns a client for it, skipping t when
// the emulator was not started.
func HealthTable(t testing.TB, s *emulator.Server, name string) *dynamodb.Client {
	t.Helper()
	c := dynamodb.NewFromConfig(Config(t, s, emulator.Region))
	if err := localenv.CreateHealthTable(context.Background(), c, name); err != nil {
		t.Fatal(err)
	}
	return c
}

// LedgerTable creates the ledger's table name as the stack does
// (localenv.CreateLedgerTable) and returns a client for it, skipping t when
// the emulator was not started.
func LedgerTable(t testing.TB, s *emulator.Server, name string) *dynamodb.Client {
	t.Helper()
	c := dynamodb.NewFromConfig(Config(t, s, emulator.Region))
	if err := localenv.CreateLedgerTable(context.Background(), c, name); err != nil {
		t.Fatal(err)
	}
	return c
}
