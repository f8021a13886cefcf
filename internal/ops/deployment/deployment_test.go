package deployment

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/logfan/logfan/internal/devkit/deployed"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// register registers a small stack called name: an s3 function with a
// route table inline, a logs function whose table sits in a layer.
func register(t *testing.T, name string) aws.Config {
	t.Helper()
	ctx := context.Background()
	cfg := emutest.Config(t, srv, emulator.Region)
	k := kinesis.NewFromConfig(cfg)
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	sum, err := k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = deployed.Register(ctx, deployed.NewClients(cfg), deployed.Stack{
		Name:       name,
		Parameters: map[string]string{naming.ParamSenderAccounts: "111111111111,222222222222"},
		Outputs:    map[string]string{naming.OutputQuarantineBucket: "q-" + strings.ToLower(name), naming.OutputQuarantinePrefix: "jail"},
		Functions: []deployed.Function{
			{Key: config.SinkS3, Name: name + "-S3Function", Output: naming.OutputFunctionName(config.SinkS3), Mapping: true, Env: map[string]string{
				config.EnvS3Bucket: "data-" + strings.ToLower(name), config.EnvQuarantineBucket: "q-" + strings.ToLower(name), config.EnvQuarantinePrefix: "jail/s3",
				config.EnvRoutes: `[{"name":"a","match":{"logGroups":["/a/*"]},"to":[{"sink":"s3","prefix":"a"}]},{"name":"rest","to":[]}]`,
			}},
			{Key: config.SinkLogs, Name: name + "-LogsFunction", Output: naming.OutputFunctionName(config.SinkLogs), Env: map[string]string{
				config.EnvLogsRegion: "eu-west-1", config.EnvQuarantineBucket: "q-" + strings.ToLower(name), config.EnvRoutesFile: "/opt/logfan/routes.json",
			}},
			{Key: Watchdog, Name: name + "-WatchdogFunction", Output: naming.OutputWatchdogFunction, Env: map[string]string{config.EnvHealthTable: "h"}},
		},
		StreamARN: aws.ToString(sum.StreamDescriptionSummary.StreamARN), OnFailureBucket: "q-" + strings.ToLower(name),
		Mapping: deployed.Mapping{BatchSize: 1000, BatchWindowSeconds: 5, RetryAttempts: 10, MaxRecordAgeSeconds: 21600, ParallelizationFactor: 1, StartingPosition: "TRIM_HORIZON"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLoadOnMoto(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	// GIVEN a stack registered as the recipient stack deploys it
	cfg := register(t, "DeploymentLoad")
	// WHEN it is loaded
	d, err := Load(ctx, cfg, "DeploymentLoad")
	if err != nil {
		t.Fatal(err)
	}
	// THEN its outputs, parameters and functions are read
	if d.Output(naming.OutputQuarantineBucket) != "q-deploymentload" || d.Parameters[naming.ParamSenderAccounts] != "111111111111,222222222222" {
		t.Errorf("outputs %v parameters %v", d.Outputs, d.Parameters)
	}
	if d.Status != "CREATE_COMPLETE" || d.Account != "123456789012" || d.Region != emulator.Region {
		t.Errorf("status %q account %q region %q", d.Status, d.Account, d.Region)
	}
	if got := strings.Join(d.Sinks(), ","); got != "logs,s3" {
		t.Errorf("sinks %s", got)
	}
	s3 := d.Functions[config.SinkS3]
	if s3.Name != "DeploymentLoad-S3Function" || s3.Env[config.EnvS3Bucket] != "data-deploymentload" || !strings.HasSuffix(s3.Role, ":role/DeploymentLoad-S3Function") {
		t.Errorf("s3 function %+v", s3)
	}
	if d.Functions[Watchdog].Env[config.EnvHealthTable] != "h" {
		t.Errorf("watchdog %+v", d.Functions[Watchdog])
	}
	// AND the quarantine's root is the output's
	if d.QuarantineRoot() != "jail" {
		t.Errorf("root %q", d.QuarantineRoot())
	}
	// AND the s3 function's configuration loads from its deployed environment, with its routes
	getenv, err := d.Getenv(ctx, config.SinkS3, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(config.SinkS3, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.S3.Bucket != "data-deploymentload" || c.Routes == nil || c.Quarantine.Prefix != "jail/s3" {
		t.Errorf("config %+v", c)
	}
	// AND a variable set in the process overrides the deployed one, and a
	// route table of the process replaces the deployed one entirely
	env := map[string]string{config.EnvS3Bucket: "local", config.EnvRoutesFile: "/tmp/none.json"}
	getenv, err = d.Getenv(ctx, config.SinkS3, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if getenv(config.EnvS3Bucket) != "local" || getenv(config.EnvRoutes) != "" || getenv(config.EnvQuarantineBucket) != "q-deploymentload" {
		t.Errorf("overrides: bucket %q routes %q quarantine %q", getenv(config.EnvS3Bucket), getenv(config.EnvRoutes), getenv(config.EnvQuarantineBucket))
	}
	// AND a route table in a layer the function does not have is an error, never "no routes"
	if _, err := d.Getenv(ctx, config.SinkLogs, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "no layer") {
		t.Errorf("logs function without its layer: %v", err)
	}
}

func TestLoadMissingStack(t *testing.T) {
	cfg := emutest.Config(t, srv, emulator.Region)
	ctx := context.Background()
	// GIVEN no stack called Nowhere
	// THEN Load says it is not found
	if _, err := Load(ctx, cfg, "Nowhere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load: %v", err)
	}
	// AND the flags fall back to the environment when -stack was not given, with a note
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := AddFlags(fs)
	if err := fs.Parse([]string{"-region", emulator.Region}); err != nil {
		t.Fatal(err)
	}
	f.Stack = "Nowhere" // as if the default named a stack not deployed here
	d, _, note, err := f.Load(ctx)
	if d != nil || err != nil || !strings.Contains(note, "using the LOGFAN_* environment only") {
		t.Errorf("default stack missing: %v %v %q", d, err, note)
	}
	// AND fail when -stack named it
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	f = AddFlags(fs)
	if err := fs.Parse([]string{"-stack", "Nowhere"}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.Load(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("-stack Nowhere: %v", err)
	}
}

// layers serves layer versions from a map of ARN to zip, over HTTP.
type layers struct {
	srv  *httptest.Server
	zips map[string][]byte
}

func (l *layers) GetLayerVersionByArn(_ context.Context, in *lambda.GetLayerVersionByArnInput, _ ...func(*lambda.Options)) (*lambda.GetLayerVersionByArnOutput, error) {
	arn := aws.ToString(in.Arn)
	if _, ok := l.zips[arn]; !ok {
		return nil, errors.New("no such layer " + arn)
	}
	return &lambda.GetLayerVersionByArnOutput{Content: &lambdatypes.LayerVersionContentOutput{Location: aws.String(l.srv.URL + "/" + arn)}}, nil
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for name, text := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoutesFromALayer(t *testing.T) {
	// GIVEN a function whose route table the stack packaged in a layer
	// (Lambda's download locations are presigned URLs: served here), with
	// a later layer replacing an earlier one's file as Lambda extracts them
	l := &layers{zips: map[string][]byte{
		"arn:1": zipOf(t, map[string]string{"logfan/routes.json": `old`}),
		"arn:2": zipOf(t, map[string]string{"logfan/routes.json": `[{"name":"a","match":{"logGroups":["/a/*"]},"to":["logs"]},{"name":"rest","to":[]}]`, "other": "x"}),
	}}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(l.zips[strings.TrimPrefix(r.URL.Path, "/")])
	}))
	defer l.srv.Close()
	d := &Deployment{Layers: l, Functions: map[string]*Function{config.SinkLogs: {
		Sink: config.SinkLogs, Layers: []string{"arn:1", "arn:2"},
		Env: map[string]string{config.EnvRoutesFile: "/opt/logfan/routes.json", config.EnvLogsRegion: "eu-west-1", config.EnvQuarantineBucket: "qqq"},
	}}}
	// WHEN its configuration is read
	getenv, err := d.Getenv(context.Background(), config.SinkLogs, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// THEN the table is the last layer's, given inline
	if getenv(config.EnvRoutesFile) != "" || !strings.Contains(getenv(config.EnvRoutes), `"to":["logs"]`) {
		t.Errorf("routes %q file %q", getenv(config.EnvRoutes), getenv(config.EnvRoutesFile))
	}
	c, err := config.Load(config.SinkLogs, getenv)
	if err != nil || c.Routes == nil {
		t.Fatalf("config %v %v", c, err)
	}
	// AND a layer without the file, or one that cannot be read, is an error
	d.Functions[config.SinkLogs].Layers = []string{"arn:1"}
	d.Functions[config.SinkLogs].Env[config.EnvRoutesFile] = "/opt/elsewhere.json"
	if _, err := d.Getenv(context.Background(), config.SinkLogs, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "holds elsewhere.json") {
		t.Errorf("missing file: %v", err)
	}
	d.Functions[config.SinkLogs].Layers = []string{"arn:9"}
	if _, err := d.Getenv(context.Background(), config.SinkLogs, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "no such layer") {
		t.Errorf("unreadable layer: %v", err)
	}
}
