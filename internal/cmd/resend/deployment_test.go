package resend

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/devkit/deployed"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/ops/deployment"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/config"
)

// TestResendFromTheStack registers a deployment on moto (an S3 function
// archiving everything and copying /aws/lambda/** under lambda-copy/, a
// Firehose function sending /aws/lambda/** to its stream, both by one
// route table in their environments) and resends with no LOGFAN_*
// variable and no -bucket: `-stack NAME -routes deployed` finds the
// archive, the progress location and each target's settings in the
// stack, sends the selection to the Firehose stream and the copy exactly
// once, and leaves the archive itself out; `-to firehose` then resolves to
// the deployed stream and sends nothing twice; `-to s3:replayed` writes
// into the stack's data bucket.
func TestResendFromTheStack(t *testing.T) {
	e := newEnv(t)
	e.archive()
	ctx := context.Background()
	siem := e.stream("siem")
	for _, k := range []string{config.EnvS3Bucket, config.EnvS3Prefix, config.EnvQuarantineBucket, config.EnvQuarantinePrefix,
		config.EnvFirehoseStream, config.EnvRoutes, config.EnvRoutesFile, config.EnvLogsRegion} {
		t.Setenv(k, "")
	}
	cfg, err := sdkconfig.Load(ctx, emulator.Region)
	if err != nil {
		t.Fatal(err)
	}
	table := `[{"name":"lambda","match":{"logGroups":["/aws/lambda/**"]},"to":[{"sink":"s3"},{"sink":"s3","prefix":"lambda-copy"},{"sink":"firehose"}]},{"name":"rest","to":[{"sink":"s3"}]}]`
	stack := "ResendStack-" + e.suffix
	env := func(sink string, kv ...string) map[string]string {
		m := map[string]string{config.EnvQuarantineBucket: e.quarantine, config.EnvRoutes: table,
			config.EnvQuarantinePrefix: config.SinkQuarantinePrefix(config.DefaultQuarantinePrefix, sink)}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	if _, err := deployed.Register(ctx, deployed.NewClients(cfg), deployed.Stack{
		Name: stack,
		Outputs: map[string]string{naming.OutputQuarantineBucket: e.quarantine, naming.OutputQuarantinePrefix: config.DefaultQuarantinePrefix,
			naming.OutputDataBucket: e.data},
		Functions: []deployed.Function{
			{Key: config.SinkS3, Name: "s3fn-" + e.suffix, Output: naming.OutputFunctionName(config.SinkS3),
				Env: env(config.SinkS3, config.EnvS3Bucket, e.data, config.EnvS3Prefix, config.DefaultS3Prefix)},
			{Key: config.SinkFirehose, Name: "fhfn-" + e.suffix, Output: naming.OutputFunctionName(config.SinkFirehose),
				Env: env(config.SinkFirehose, config.EnvFirehoseStream, siem)},
		},
	}); err != nil {
		t.Fatal(err)
	}
	sel := []string{"-stack", stack, "-region", emulator.Region, "-owner", ownerA, "-log-group", "/aws/lambda/*",
		"-since", e.base.Add(time.Hour).Format(time.RFC3339), "-until", e.base.Add(150 * time.Minute).Format(time.RFC3339), "-json"}
	run := func(args ...string) (*Report, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := Run(ctx, append(append([]string{}, sel...), args...), &stdout, &stderr)
		if err != nil {
			t.Fatalf("resend %q: %v\n%s", args, err, stderr.String())
		}
		var rep Report
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("%v\n%s", err, stdout.String())
		}
		return &rep, stderr.String()
	}

	// Each target's configuration is its deployed function's: the
	// Firehose target quarantines where the Firehose function does.
	d, err := deployment.Load(ctx, cfg, stack)
	if err != nil {
		t.Fatal(err)
	}
	in := parseInput{to: []string{"firehose"}, parallel: 1, attempts: 1, timeout: time.Minute,
		getenv: func(string) string { return "" }, now: time.Now()}
	if err := in.fromDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	p, err := parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if in.bucket != e.data || in.prefix != config.DefaultS3Prefix || p.progressBucket != e.quarantine {
		t.Errorf("archive s3://%s/%s, progress in %s; want the stack's %s/%s and %s", in.bucket, in.prefix, p.progressBucket, e.data, config.DefaultS3Prefix, e.quarantine)
	}
	if c := p.targets[0].cfg; c.Firehose.Stream != siem || c.Quarantine.Prefix != "quarantine/firehose" {
		t.Errorf("firehose target: stream %q, quarantine prefix %q; want %q and quarantine/firehose", c.Firehose.Stream, c.Quarantine.Prefix, siem)
	}

	// WHEN resending by the deployed route table
	rep, stderr := run("-routes", "deployed")
	want := selected()
	var names []string
	for _, tr := range rep.Targets {
		names = append(names, tr.Target)
		if tr.Delivered != len(want) || tr.Failed != 0 || tr.Quarantined != 0 {
			t.Errorf("%s: %+v, want %d delivered", tr.Target, tr, len(want))
		}
	}
	if got := strings.Join(names, " "); got != "firehose s3:lambda-copy" {
		t.Errorf("targets %q, want the table's targets but the archive", got)
	}
	if !strings.Contains(stderr, "is the archive read") {
		t.Errorf("no note about the archive target left out:\n%s", stderr)
	}
	// THEN each target got the selection once
	exactlyOnce(t, "firehose", e.s3Messages(e.fhBucket, siem+"/"), want)
	exactlyOnce(t, "lambda-copy", e.s3Messages(e.data, "lambda-copy/"), want)
	keys, err := readback.Keys(ctx, e.s3, e.quarantine, DefaultProgressPrefix)
	if err != nil || len(keys) != 4 {
		t.Errorf("%d progress records in the stack's quarantine bucket (%v), want 2 objects x 2 targets", len(keys), err)
	}

	// `-to firehose` is the deployed stream: already sent, nothing again.
	rep, _ = run("-to", "firehose")
	if tr := rep.Targets[0]; tr.Delivered != 0 || tr.SkippedObjects != 2 {
		t.Errorf("-to firehose after -routes deployed: %+v, want nothing sent", tr)
	}
	// `-to s3:replayed` writes into the stack's data bucket.
	rep, _ = run("-to", "s3:replayed")
	if tr := rep.Targets[0]; tr.Delivered != len(want) {
		t.Errorf("-to s3:replayed: %+v", tr)
	}
	exactlyOnce(t, "s3:replayed", e.s3Messages(e.data, "replayed/"), want)
	exactlyOnce(t, "firehose at the end", e.s3Messages(e.fhBucket, siem+"/"), want)

	// A table the stack put in a layer is needed by -routes deployed only:
	// unreadable, it stops that resend, and -to does not read it.
	layered := env(config.SinkFirehose, config.EnvFirehoseStream, siem)
	delete(layered, config.EnvRoutes)
	layered[config.EnvRoutesFile] = "/opt/logfan/routes.json"
	if _, err := deployed.Register(ctx, deployed.NewClients(cfg), deployed.Stack{
		Name: stack + "-layer", Outputs: map[string]string{naming.OutputQuarantineBucket: e.quarantine, naming.OutputDataBucket: e.data},
		Functions: []deployed.Function{{Key: config.SinkFirehose, Name: "fhfn-layer-" + e.suffix, Output: naming.OutputFunctionName(config.SinkFirehose), Env: layered}},
	}); err != nil {
		t.Fatal(err)
	}
	sel[1] = stack + "-layer"
	var stdout, errOut bytes.Buffer
	if err := Run(ctx, append(append([]string{}, sel...), "-routes", "deployed"), &stdout, &errOut); err == nil || !strings.Contains(err.Error(), "never redriven without its routes") {
		t.Errorf("-routes deployed with an unreadable layer: %v", err)
	}
	if rep, _ := run("-to", "firehose", "-dry-run"); rep.Targets[0].SkippedObjects != 2 {
		t.Errorf("-to firehose on the layered stack: %+v, want the deployed stream, already sent", rep.Targets[0])
	}
}

// TestResendWithoutAStack: no -stack and no stack of the default name (a
// local emulator): a note, and the LOGFAN_* variables alone, as before.
func TestResendWithoutAStack(t *testing.T) {
	e := newEnv(t)
	e.archive()
	t.Setenv(config.EnvS3Bucket, e.data)
	t.Setenv(config.EnvQuarantineBucket, e.quarantine)
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"-region", emulator.Region, "-owner", ownerA, "-log-group", "/aws/lambda/*",
		"-since", e.base.Add(time.Hour).Format(time.RFC3339), "-until", e.base.Add(150 * time.Minute).Format(time.RFC3339), "-to", "s3:envonly", "-json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "stack "+naming.RecipientStack+" not found") {
		t.Errorf("no note about the missing stack:\n%s", stderr.String())
	}
	exactlyOnce(t, "s3:envonly", e.s3Messages(e.data, "envonly/"), selected())
}
