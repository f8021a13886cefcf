package redrive

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/devkit/deployed"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/internal/ops/onfailure"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
)

// runCLI runs `logfan redrive args` with env as its only LOGFAN_* variables
// and returns its stdout, then its stderr.
func runCLI(args []string, env map[string]string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String() + errOut.String(), err
}

// stdoutOf runs like runCLI and returns stdout alone.
func stdoutOf(args []string, env map[string]string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &bytes.Buffer{})
	return out.String(), err
}

func TestRedriveUsageErrors(t *testing.T) {
	// Every bad flag is a usage error (exit 2), found before any AWS call.
	for _, args := range [][]string{
		{}, {"-sink", "kafka"}, {"-sink", "s3", "-from", "sqs"}, {"-sink", "s3", "-from", ","},
		{"-sink", "s3", "-attempts", "0"}, {"-sink", "s3", "-timeout", "0s"}, {"-sink", "s3", "-timeout", "1ns"}, {"-sink", "s3", "extra"}, {"-nope"},
	} {
		if _, err := runCLI(args, nil); !usage.Is(err) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// TestRedriveBucketFlagAndDryRun: -bucket is the quarantine bucket (it
// used to leave "LOGFAN_QUARANTINE_BUCKET is required"), and a dry run needs
// nothing but the bucket (it used to demand the sink's whole configuration).
func TestRedriveBucketFlagAndDryRun(t *testing.T) {
	emutest.Require(t, srv)
	e := newEnv(t, 1)
	e.writeRecords(t, 6)
	e.consumeBroken(t)
	parked := e.keys(t, onfailure.KeyPrefix)
	// GIVEN only -bucket, no variable at all, a dry run lists every batch
	out, err := runCLI([]string{"-sink", "s3", "-bucket", e.quarantine, "-dry-run"}, nil)
	if err != nil {
		t.Fatalf("dry run with -bucket only: %v\n%s", err, out)
	}
	if strings.Count(out, "would redrive") != len(parked) || !strings.Contains(out, "dry run") {
		t.Errorf("dry run:\n%s", out)
	}
	// AND a real run with -bucket and the sink's own variable delivers everything
	out, err = runCLI([]string{"-sink", "s3", "-bucket", e.quarantine}, map[string]string{config.EnvS3Bucket: e.data})
	if err != nil {
		t.Fatalf("redrive with -bucket: %v\n%s", err, out)
	}
	if got := e.landed(t); len(got) != len(e.sent) {
		t.Errorf("%d of %d events landed\n%s", len(got), len(e.sent), out)
	}
	// AND without the sink's configuration a real run names what is missing
	if _, err := runCLI([]string{"-sink", "s3", "-bucket", e.quarantine}, nil); err == nil || !strings.Contains(err.Error(), config.EnvS3Bucket+" is required") {
		t.Errorf("real run without LOGFAN_S3_BUCKET: %v", err)
	}
}

// TestRedriveStillPoison: a quarantined record that is still undecodable
// is reported once (its reason used to be printed twice, run together, and
// every line again after the summary), a dry run says so instead of "would
// redrive", and a redrive that could redrive nothing exits 1.
func TestRedriveStillPoison(t *testing.T) {
	emutest.Require(t, srv)
	e := newEnv(t, 1)
	if err := e.s3Quarantine(config.SinkS3).Put(context.Background(), quarantine.Entry{Kind: quarantine.KindRecord, Shard: "shardId-000000000000",
		SequenceNumber: "7", Reason: "not gzip", Data: []byte("still not gzip")}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{config.EnvS3Bucket: e.data, config.EnvQuarantineBucket: e.quarantine}
	// WHEN a dry run reads it THEN it is still poison, and nothing could be redriven: exit 1
	out, err := runCLI([]string{"-sink", "s3", "-dry-run"}, env)
	if err == nil || usage.Is(err) || !strings.Contains(err.Error(), "none of the 1 sources could be redriven") {
		t.Errorf("dry run: %v", err)
	}
	if strings.Contains(out, "would redrive") || strings.Count(out, "still poison, would stay in the quarantine") != 1 {
		t.Errorf("dry run output:\n%s", out)
	}
	// WHEN it is redriven THEN the reason is printed once, the line once, and the exit is 1
	out, err = stdoutOf([]string{"-sink", "s3"}, env)
	if err == nil || !strings.Contains(err.Error(), "none of the 1 sources could be redriven (1 still poison") {
		t.Errorf("redrive: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var poison []string
	for _, l := range lines {
		if strings.Contains(l, "still poison, left in the quarantine") {
			poison = append(poison, l)
		}
	}
	if len(poison) != 1 {
		t.Fatalf("%d lines about the poison record, want 1:\n%s", len(poison), out)
	}
	// The decoder's reason, once (it names the gzip header it expected).
	reason := poison[0][strings.Index(poison[0], "left in the quarantine: ")+len("left in the quarantine: "):]
	if strings.Contains(reason, ";") || strings.Count(out, reason) != 1 {
		t.Errorf("reason %q repeated:\n%s", reason, out)
	}
	if !strings.HasPrefix(lines[len(lines)-1], "redrive s3: 1 objects") {
		t.Errorf("the summary is not the last line:\n%s", out)
	}
}

// TestRedriveRoutedDeployment: the deployed function routes events to
// another prefix; `redrive -stack` reads its environment, route table
// included, and delivers there, never to the default target. A route
// table the stack put in a layer that cannot be read stops the redrive.
func TestRedriveRoutedDeployment(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	e := newEnv(t, 1)
	e.writeRecords(t, 12)
	e.consumeBroken(t)
	cfg := emutest.Config(t, srv, emulator.Region)
	routesJSON := `[{"name":"apps","match":{"logGroups":["/app/**"]},"to":[{"sink":"s3","prefix":"routed"}]},{"name":"rest","to":[]}]`
	// e.function is what the broken function's on-failure records name.
	fnName := e.function[strings.LastIndex(e.function, ":")+1:]
	register := func(stack string, env map[string]string) {
		t.Helper()
		if _, err := deployed.Register(ctx, deployed.NewClients(cfg), deployed.Stack{
			Name:      stack,
			Outputs:   map[string]string{naming.OutputQuarantineBucket: e.quarantine, naming.OutputQuarantinePrefix: config.DefaultQuarantinePrefix},
			Functions: []deployed.Function{{Key: config.SinkS3, Name: fnName, Output: naming.OutputFunctionName(config.SinkS3), Env: env}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	base := map[string]string{
		config.EnvS3Bucket: e.data, config.EnvS3Prefix: config.DefaultS3Prefix, config.EnvQuarantineBucket: e.quarantine,
		config.EnvQuarantinePrefix: config.SinkQuarantinePrefix(config.DefaultQuarantinePrefix, config.SinkS3),
	}
	// GIVEN a deployment whose route table sits in a layer the function lacks
	layered := map[string]string{config.EnvRoutesFile: "/opt/logfan/routes.json"}
	for k, v := range base {
		layered[k] = v
	}
	register("RoutedLayer", layered)
	// THEN the redrive refuses rather than deliver without its routes
	out, err := runCLI([]string{"-stack", "RoutedLayer", "-region", emulator.Region, "-sink", "s3"}, nil)
	if err == nil || !strings.Contains(err.Error(), "never redriven without its routes") {
		t.Fatalf("layer unreadable: %v\n%s", err, out)
	}
	// GIVEN the deployment with its route table in the environment
	routed := map[string]string{config.EnvRoutes: routesJSON}
	for k, v := range base {
		routed[k] = v
	}
	register("Routed", routed)
	// WHEN it is redriven by stack name alone, no variable set
	out, err = runCLI([]string{"-stack", "Routed", "-region", emulator.Region, "-sink", "s3"}, nil)
	if err != nil {
		t.Fatalf("redrive -stack: %v\n%s", err, out)
	}
	// THEN every event landed under the route's prefix, none under the default one
	if got := e.landed(t); len(got) != 0 {
		t.Errorf("%d events delivered to the default target %s/", len(got), config.DefaultS3Prefix)
	}
	recs, _, err := readback.Records(ctx, e.s3, e.data, "routed/")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(e.sent) {
		t.Errorf("%d events under routed/, want %d\n%s", len(recs), len(e.sent), out)
	}
}

// TestRedriveSkipsAForeignObject: an object under aws/lambda/ that is not
// an on-failure record is reported, and the batches beside it are still
// redriven (it used to stop the whole redrive).
func TestRedriveSkipsAForeignObject(t *testing.T) {
	emutest.Require(t, srv)
	e := newEnv(t, 1)
	e.writeRecords(t, 4)
	e.consumeBroken(t)
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(e.quarantine), Key: aws.String(onfailure.KeyPrefix + "x/not-lambdas"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	out, err := stdoutOf([]string{"-sink", "s3"}, map[string]string{config.EnvS3Bucket: e.data, config.EnvQuarantineBucket: e.quarantine})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "not-lambdas: not an on-failure record, left alone") || len(e.landed(t)) != len(e.sent) {
		t.Errorf("%d of %d events landed:\n%s", len(e.landed(t)), len(e.sent), out)
	}
}
