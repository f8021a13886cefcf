package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/cmd/demo"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/internal/ops/deployment"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

// fixture is one demo run on the package's moto, with the stack it
// registered: every test breaks one thing of it and puts it back.
type fixture struct {
	cfg   aws.Config
	names localenv.Names
	d     *deployment.Deployment
}

var (
	setupOnce sync.Once
	shared    *fixture
	setupErr  error
)

func setup(t *testing.T) *fixture {
	t.Helper()
	emutest.Require(t, srv)
	setupOnce.Do(func() {
		ctx := context.Background()
		names := localenv.DefaultNames().WithSuffix("-doctor")
		rep, err := demo.Options{Events: 200, Endpoint: srv.Endpoint, Names: names, Seed: 3, ProgressEvery: time.Hour}.Run(ctx)
		if err != nil {
			setupErr = err
			return
		}
		if rep.Lost() > 0 {
			setupErr = errors.New("the demo lost events")
			return
		}
		cfg, err := sdkconfig.Load(ctx, emulator.Region)
		if err != nil {
			setupErr = err
			return
		}
		d, err := deployment.Load(ctx, cfg, names.Stack)
		shared, setupErr = &fixture{cfg: cfg, names: names, d: d}, err
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return shared
}

// doctor runs `logfan doctor -json` with args and returns its checks.
func doctor(t *testing.T, args ...string) ([]Check, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), append(args, "-json"), &out, &errOut)
	var checks []Check
	if jerr := json.Unmarshal(out.Bytes(), &checks); jerr != nil {
		t.Fatalf("-json output (%v): %v\n%s%s", err, jerr, out.String(), errOut.String())
	}
	return checks, err
}

func (f *fixture) doctor(t *testing.T) ([]Check, error) {
	t.Helper()
	return doctor(t, "-stack", f.names.Stack, "-region", emulator.Region)
}

// failing returns the checks with status s.
func having(checks []Check, s Status) []Check {
	var out []Check
	for _, c := range checks {
		if c.Status == s {
			out = append(out, c)
		}
	}
	return out
}

func TestDoctorPassesOnTheDemo(t *testing.T) {
	f := setup(t)
	// GIVEN the deployment a demo run leaves behind
	// WHEN the doctor checks it
	checks, err := f.doctor(t)
	// THEN nothing fails or warns, and the exit status is 0
	if err != nil {
		t.Errorf("doctor: %v", err)
	}
	for _, c := range append(having(checks, Fail), having(checks, Warn)...) {
		t.Errorf("%s %s: %s (fix: %s)", c.Status, c.Check, c.Evidence, c.Fix)
	}
	// AND every check the emulator cannot serve says it skipped and why
	for _, c := range having(checks, Skip) {
		if c.Evidence == "" {
			t.Errorf("SKIP %s without a reason", c.Check)
		}
	}
	// AND it ran each kind of check
	names := map[string]bool{}
	for _, c := range checks {
		names[c.Check] = true
	}
	for _, want := range []string{"stack", "stream", "destination us-east-1", "access policy us-east-1", "role trust us-east-1", "role permissions us-east-1",
		"function s3", "environment s3", "mapping s3", "quarantine s3", "on-failure s3", "mapping firehose", "mapping logs", "watchdog", "senders"} {
		if !names[want] {
			t.Errorf("no check %q", want)
		}
	}
}

// breakage breaks one thing of the demo's deployment and returns how to put it back.
type breakage struct {
	name string
	// check is the one check that must fail; fix a part of its fix.
	check, fix string
	// cause, if set, is a part of the evidence naming the well-known cause.
	cause string
	do    func(t *testing.T, f *fixture) (restore func())
}

func TestDoctorFindsWhatIsBroken(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	logs := cloudwatchlogs.NewFromConfig(f.cfg)
	iamc := iam.NewFromConfig(f.cfg)
	lc := lambda.NewFromConfig(f.cfg)
	s3c := awsclient.S3(f.cfg)
	destName := naming.Destination
	mappingOf := func(t *testing.T, sink string) string {
		out, err := lc.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(f.names.FunctionName(sink))})
		if err != nil || len(out.EventSourceMappings) == 0 {
			t.Fatalf("mapping of %s: %v", sink, err)
		}
		return aws.ToString(out.EventSourceMappings[0].UUID)
	}
	for _, b := range []breakage{
		{name: "a sender removed from the access policy", check: "access policy us-east-1", fix: "aws logs put-destination-policy",
			cause: "not authorized to perform: logs:PutSubscriptionFilter",
			do: func(t *testing.T, f *fixture) func() {
				dsts, err := logs.DescribeDestinations(ctx, &cloudwatchlogs.DescribeDestinationsInput{DestinationNamePrefix: aws.String(destName)})
				if err != nil || len(dsts.Destinations) != 1 {
					t.Fatalf("destination: %v", err)
				}
				orig := aws.ToString(dsts.Destinations[0].AccessPolicy)
				cut := strings.Replace(orig, `"222222222222"`, `"999999999999"`, 1)
				if cut == orig {
					t.Fatalf("policy names no 222222222222: %s", orig)
				}
				put := func(p string) {
					if _, err := logs.PutDestinationPolicy(ctx, &cloudwatchlogs.PutDestinationPolicyInput{DestinationName: aws.String(destName), AccessPolicy: aws.String(p)}); err != nil {
						t.Fatal(err)
					}
				}
				put(cut)
				return func() { put(orig) }
			}},
		{name: "the role's trust condition removed", check: "role trust us-east-1", fix: "aws iam update-assume-role-policy --role-name " + f.names.DestinationRole,
			do: func(t *testing.T, f *fixture) func() {
				role, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(f.names.DestinationRole)})
				if err != nil {
					t.Fatal(err)
				}
				orig := aws.ToString(role.Role.AssumeRolePolicyDocument)
				set := func(doc string) {
					if _, err := iamc.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(f.names.DestinationRole), PolicyDocument: aws.String(doc)}); err != nil {
						t.Fatal(err)
					}
				}
				set(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
				if d, err := url.QueryUnescape(orig); err == nil {
					orig = d // IAM returns the document URL-encoded
				}
				return func() { set(orig) }
			}},
		{name: "an event source mapping disabled", check: "mapping s3", fix: "aws lambda update-event-source-mapping --uuid",
			do: func(t *testing.T, f *fixture) func() {
				uuid := mappingOf(t, config.SinkS3)
				enable := func(on bool) {
					if _, err := lc.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(on)}); err != nil {
						t.Fatal(err)
					}
				}
				enable(false)
				return func() { enable(true) }
			}},
		{name: "an object in the on-failure prefix", check: "on-failure s3", fix: "logfan redrive -stack " + f.names.Stack + " -region us-east-1 -sink s3 -from onfailure",
			do: func(t *testing.T, f *fixture) func() {
				key := naming.OnFailureKeyPrefix + mappingOf(t, config.SinkS3) + "/shardId-000000000000/2026/12/06/2026-12-06T10.00.00-doctor"
				if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.names.QuarantineBucket), Key: aws.String(key), Body: strings.NewReader(`{}`)}); err != nil {
					t.Fatal(err)
				}
				return func() { deleteObject(t, s3c, f.names.QuarantineBucket, key) }
			}},
		{name: "a quarantined record", check: "quarantine s3", fix: "logfan quarantine list -stack " + f.names.Stack + " -region us-east-1 -sink s3",
			do: func(t *testing.T, f *fixture) func() {
				e := quarantine.Entry{Kind: quarantine.KindRecord, Shard: "shardId-000000000001", SequenceNumber: "42", Reason: "not gzip", Data: []byte("nope")}
				prefix := config.SinkQuarantinePrefix(config.DefaultQuarantinePrefix, config.SinkS3)
				if err := s3quarantine.New(s3c, config.Quarantine{Bucket: f.names.QuarantineBucket, Prefix: prefix}).Put(ctx, e); err != nil {
					t.Fatal(err)
				}
				key, err := s3quarantine.Key(prefix, e)
				if err != nil {
					t.Fatal(err)
				}
				return func() { deleteObject(t, s3c, f.names.QuarantineBucket, key) }
			}},
		{name: "a function environment naming a missing bucket", check: "environment s3", fix: "aws s3api create-bucket --bucket no-such-bucket-doctor",
			do: func(t *testing.T, f *fixture) func() {
				name := f.names.FunctionName(config.SinkS3)
				fn, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
				if err != nil {
					t.Fatal(err)
				}
				orig := fn.Environment.Variables
				broken := map[string]string{}
				for k, v := range orig {
					broken[k] = v
				}
				broken[config.EnvS3Bucket] = "no-such-bucket-doctor"
				set := func(env map[string]string) {
					if _, err := lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), Environment: &lambdatypes.Environment{Variables: env}}); err != nil {
						t.Fatal(err)
					}
				}
				set(broken)
				return func() { set(orig) }
			}},
		{name: "the stream deleted", check: "stream", fix: "make deploy", cause: "missing resource",
			do: func(t *testing.T, f *fixture) func() {
				k := kinesis.NewFromConfig(f.cfg)
				if _, err := k.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(f.names.Stream)}); err != nil {
					t.Fatal(err)
				}
				return func() {
					if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(f.names.Stream), StreamModeDetails: &kintypes.StreamModeDetails{StreamMode: kintypes.StreamModeOnDemand}}); err != nil {
						t.Fatal(err)
					}
					if _, err := k.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String(f.names.Stream), EncryptionType: kintypes.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
						t.Fatal(err)
					}
				}
			}},
	} {
		t.Run(b.name, func(t *testing.T) {
			restore := b.do(t, f)
			defer restore()
			checks, err := f.doctor(t)
			if !errors.Is(err, ErrFailed) || usage.Is(err) {
				t.Errorf("exit: %v, want the checks-failed error (exit 1)", err)
			}
			failed := having(checks, Fail)
			if len(failed) != 1 || failed[0].Check != b.check {
				var got []string
				for _, c := range failed {
					got = append(got, c.Check+": "+c.Evidence)
				}
				t.Fatalf("failed checks:\n%s\nwant only %q", strings.Join(got, "\n"), b.check)
			}
			if !strings.Contains(failed[0].Fix, b.fix) {
				t.Errorf("fix %q, want it to contain %q", failed[0].Fix, b.fix)
			}
			if b.cause != "" && !strings.Contains(failed[0].Evidence, b.cause) {
				t.Errorf("evidence %q names no cause %q", failed[0].Evidence, b.cause)
			}
		})
	}
	// AND once everything is put back, the doctor passes again
	if checks, err := f.doctor(t); err != nil {
		t.Errorf("after the restores: %v %+v", err, having(checks, Fail))
	}
}

func deleteObject(t *testing.T, c *s3.Client, bucket, key string) {
	t.Helper()
	if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
}

func TestDoctorWithoutTheStack(t *testing.T) {
	emutest.Require(t, srv)
	// A stack that is not there: one failing check saying so, exit 1.
	checks, err := doctor(t, "-stack", "NoSuchStack", "-region", emulator.Region)
	if !errors.Is(err, ErrFailed) || len(checks) != 1 || checks[0].Check != "stack" || !strings.Contains(checks[0].Evidence, "NoSuchStack") {
		t.Errorf("%v %+v", err, checks)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"extra"}, {"-probe"}, {"-probe", "-account", "12"}, {"-account", "111111111111"}, {"-timeout", "0s"}, {"-nope"},
		{"sender"}, {"sender", "-destination", "arn:aws:kinesis:us-east-1:1:stream/x"}, {"sender", "-destination", "nope"},
		{"sender", "-destination", "arn:aws:logs:us-east-1:123456789012:destination:d", "-mode", "vendor"},
		{"sender", "-destination", "arn:aws:logs:us-east-1:123456789012:destination:d", "-recipient-profile", "p"},
		{"sender", "-destination", "arn:aws:logs:us-east-1:123456789012:destination:d", "-log-group", "a b"},
	} {
		if err := Run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); !usage.Is(err) {
			t.Errorf("%q: %v, want a usage error (exit 2)", args, err)
		}
	}
}

// memReader is a sender-health table in memory whose senders change over reads.
type memReader struct {
	mu    sync.Mutex
	reads int
	// at returns the senders as of the n-th read.
	at func(n int) []health.Sender
}

func (m *memReader) Senders(context.Context) ([]health.Sender, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	return m.at(m.reads), nil
}

func (m *memReader) LogGroupDays(context.Context, string) ([]health.LogGroupDay, error) {
	return nil, nil
}

func TestProbeWaitsForANewHeartbeat(t *testing.T) {
	start := time.Now()
	old := health.Sender{Account: "111111111111", Region: "us-east-1", LastHeartbeat: start.Add(-3 * time.Minute)}
	fresh := old
	fresh.LastHeartbeat = start.Add(20 * time.Millisecond)
	// GIVEN a table where the account's heartbeat is older than the probe, then a new one arrives on the third read
	r := &memReader{at: func(n int) []health.Sender {
		if n < 3 {
			return []health.Sender{old, {Account: "222222222222", Region: "us-east-1", LastHeartbeat: start.Add(time.Second)}}
		}
		return []health.Sender{fresh}
	}}
	p := &probe{reader: r, account: "111111111111", since: start, timeout: 5 * time.Second, every: 10 * time.Millisecond, now: time.Now}
	rep := &Report{}
	p.report(context.Background(), rep, "fix")
	// THEN the probe passes with the round trip, ignoring the other account's newer heartbeat
	if len(rep.Checks) != 1 || rep.Checks[0].Status != Pass || !strings.Contains(rep.Checks[0].Evidence, "111111111111 (us-east-1)") || !strings.Contains(rep.Checks[0].Evidence, "round trip") {
		t.Errorf("%+v", rep.Checks)
	}
	// AND without a new heartbeat it fails once the time is up, with the fix
	r = &memReader{at: func(int) []health.Sender { return []health.Sender{old} }}
	p = &probe{reader: r, account: "111111111111", since: time.Now(), timeout: 50 * time.Millisecond, every: 10 * time.Millisecond, now: time.Now}
	rep = &Report{}
	p.report(context.Background(), rep, "fix it")
	if len(rep.Checks) != 1 || rep.Checks[0].Status != Fail || rep.Checks[0].Fix != "fix it" || !strings.Contains(rep.Checks[0].Evidence, "within 50ms") {
		t.Errorf("%+v", rep.Checks)
	}
}

func TestRecipientProbeOnMoto(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	defer func(e time.Duration) { probeEvery = e }(probeEvery)
	probeEvery = 100 * time.Millisecond
	// GIVEN a heartbeat of 111111111111 that reaches the table a moment after the probe starts
	table := dynamohealth.New(dynamodb.NewFromConfig(f.cfg), f.names.HealthTable)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = table.WriteSender(ctx, health.SenderUpdate{Account: "111111111111", Region: emulator.Region, LastHeartbeat: time.Now().UnixMilli(), Heartbeats: 1})
	}()
	checks, err := doctor(t, "-stack", f.names.Stack, "-region", emulator.Region, "-probe", "-account", "111111111111", "-timeout", "10s")
	if err != nil {
		t.Errorf("doctor -probe: %v", err)
	}
	var probe *Check
	for i := range checks {
		if checks[i].Check == "probe" {
			probe = &checks[i]
		}
	}
	if probe == nil || probe.Status != Pass || !strings.Contains(probe.Evidence, "round trip") {
		t.Errorf("probe check %+v", probe)
	}
}

func TestKnownErrorsNamed(t *testing.T) {
	for msg, cause := range map[string]string{
		"User with accountId: 111111111111 is not authorized to perform: logs:PutSubscriptionFilter on resource: arn:aws:logs:us-east-1:999999999999:destination:logfan-destination": "missing from the destination's access policy",
		"Could not deliver test message to specified destination. Check if the destination is valid.":                                                                                "kms:GenerateDataKey",
		"Role ARN is required when creating subscription filter against destination with Organization access policy":                                                                 "passed no --role-arn",
		"destinationArn for vendor logs cannot be used with roleArn":                                                                                                                 "passed a --role-arn",
		"api error AccessDeniedException: User is not allowed":                                                                                                                       "never retries",
		"ResourceNotFoundException: Stream logfan-stream under account 1 not found":                                                                                                  "never retries",
		"ThrottlingException: Rate exceeded":                                                                                                                                         "24 hours",
	} {
		if got := explain(msg); !strings.Contains(got, cause) {
			t.Errorf("explain(%q) = %q, want %q", msg, got, cause)
		}
	}
	// A failing check's evidence gets the cause; a passing one's does not.
	rep := &Report{}
	rep.fail("x", "", "put: Could not deliver test message to specified destination")
	rep.pass("y", "Could not deliver test message to specified destination")
	if !strings.Contains(rep.Checks[0].Evidence, "cause:") || strings.Contains(rep.Checks[1].Evidence, "cause:") {
		t.Errorf("%+v", rep.Checks)
	}
}

func TestPolicyEvaluation(t *testing.T) {
	p, err := parsePolicy(`%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22kinesis%3APut%2A%22%2C%22Resource%22%3A%22arn%3Aaws%3Akinesis%3A%2A%3A%2A%3Astream%2Fs%22%7D%5D%7D`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := allowed([]*policy{p}, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:1:stream/s"); !ok {
		t.Error("URL-encoded wildcard Allow not seen")
	}
	if ok, _ := allowed([]*policy{p}, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:1:stream/other"); ok {
		t.Error("another stream allowed")
	}
	deny, _ := parsePolicy(`{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`)
	if ok, by := allowed([]*policy{p, deny}, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:1:stream/s"); ok || !strings.Contains(by, "denied") {
		t.Errorf("an explicit Deny must win: %v %s", ok, by)
	}
	org, _ := parsePolicy(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"logs:PutSubscriptionFilter","Resource":"arn:aws:logs:us-east-1:1:destination:d","Condition":{"StringEquals":{"aws:PrincipalOrgID":["o-a1b2c3d4e5"]}}}]}`)
	accounts, orgs, anyone := accessAdmits(org, "arn:aws:logs:us-east-1:1:destination:d")
	if len(accounts) != 0 || len(orgs) != 1 || orgs[0] != "o-a1b2c3d4e5" || anyone {
		t.Errorf("organization policy: %v %v %v", accounts, orgs, anyone)
	}
	open, _ := parsePolicy(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"logs:*","Resource":"*"}]}`)
	if _, _, anyone := accessAdmits(open, "arn:aws:logs:us-east-1:1:destination:d"); !anyone {
		t.Error("Principal * without a condition admits anyone")
	}
}

// TestSenderSide runs `logfan doctor sender` on moto against the demo's
// destination: log groups subscribed to it, a heartbeat group written by an
// EventBridge rule; then breaks one thing at a time.
func TestSenderSide(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	logs := cloudwatchlogs.NewFromConfig(f.cfg)
	eb := eventbridge.NewFromConfig(f.cfg)
	dest := f.d.Output(naming.OutputDestinationARN)
	elsewhere := strings.TrimSuffix(dest, naming.Destination) + "elsewhere"
	// moto takes a subscription to a destination only when a log group has
	// the destination's name (it delivers there as to a log group): these
	// two stand in for the destinations themselves.
	for _, g := range []string{naming.Destination, "elsewhere", "/doctor/app", "/doctor/heartbeat"} {
		if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	subscribe := func(group, to string) {
		t.Helper()
		if _, err := logs.PutSubscriptionFilter(ctx, &cloudwatchlogs.PutSubscriptionFilterInput{LogGroupName: aws.String(group),
			FilterName: aws.String(naming.SubscriptionFilter), FilterPattern: aws.String(""), DestinationArn: aws.String(to)}); err != nil {
			t.Fatal(err)
		}
	}
	subscribe("/doctor/app", dest)
	subscribe("/doctor/heartbeat", dest)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("doctor-heartbeat"), ScheduleExpression: aws.String("rate(5 minutes)"), State: ebtypes.RuleStateEnabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("doctor-heartbeat"), Targets: []ebtypes.Target{{
		Id: aws.String("HeartbeatLogGroup"), Arn: aws.String("arn:aws:logs:" + emulator.Region + ":123456789012:log-group:/doctor/heartbeat"),
	}}}); err != nil {
		t.Fatal(err)
	}
	run := func(extra ...string) ([]Check, error) {
		return doctor(t, append([]string{"sender", "-destination", dest, "-log-group", "/doctor/app", "-heartbeat-log-group", "/doctor/heartbeat", "-region", emulator.Region}, extra...)...)
	}
	// GIVEN a sender set up as onboarding says THEN nothing fails (moto's one
	// account is the recipient's too: a warning; IAM simulation: skipped)
	checks, err := run("-mode", "accounts")
	if err != nil {
		t.Errorf("sender doctor: %v", err)
	}
	for _, c := range having(checks, Fail) {
		t.Errorf("FAIL %s: %s", c.Check, c.Evidence)
	}
	for _, name := range []string{"subscription /doctor/app", "subscription /doctor/heartbeat", "heartbeat", "region"} {
		if got := findCheck(checks, name); got == nil || got.Status != Pass {
			t.Errorf("%s: %+v", name, got)
		}
	}
	if got := findCheck(checks, "permission"); got == nil || got.Status != Skip || got.Evidence == "" {
		t.Errorf("permission on moto: %+v", got)
	}

	failing := func(t *testing.T, checks []Check, err error) []Check {
		t.Helper()
		if !errors.Is(err, ErrFailed) {
			t.Errorf("exit: %v, want the checks-failed error", err)
		}
		return having(checks, Fail)
	}
	t.Run("a sender filter pointing at another destination", func(t *testing.T) {
		subscribe("/doctor/app", elsewhere)
		defer subscribe("/doctor/app", dest)
		checks, err := run("-mode", "accounts")
		failed := failing(t, checks, err)
		if len(failed) != 1 || failed[0].Check != "subscription /doctor/app" || !strings.Contains(failed[0].Evidence, elsewhere) ||
			!strings.Contains(failed[0].Fix, "aws logs put-subscription-filter --region us-east-1 --log-group-name '/doctor/app' --filter-name logfan --filter-pattern \"\" --destination-arn "+dest) {
			t.Errorf("%+v", failed)
		}
	})
	t.Run("an organization destination without the filters' role", func(t *testing.T) {
		checks, err := run("-mode", "organization")
		failed := failing(t, checks, err)
		if len(failed) != 2 || !strings.Contains(failed[0].Evidence, "Role ARN is required") || !strings.Contains(failed[0].Fix, "--role-arn") {
			t.Errorf("%+v", failed)
		}
	})
	t.Run("the heartbeat schedule disabled", func(t *testing.T) {
		if _, err := eb.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String("doctor-heartbeat")}); err != nil {
			t.Fatal(err)
		}
		defer func() { _, _ = eb.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String("doctor-heartbeat")}) }()
		checks, err := run("-mode", "accounts")
		failed := failing(t, checks, err)
		if len(failed) != 1 || failed[0].Check != "heartbeat" || failed[0].Fix != "aws events enable-rule --region us-east-1 --name doctor-heartbeat" {
			t.Errorf("%+v", failed)
		}
	})
	t.Run("the probe writes a heartbeat", func(t *testing.T) {
		// moto delivers the subscribed event into the stand-in group, to a stream of the same name.
		if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(naming.Destination), LogStreamName: aws.String("logfan-doctor-probe")}); err != nil {
			t.Fatal(err)
		}
		checks, _ := run("-mode", "accounts", "-probe")
		p := findCheck(checks, "probe")
		if p == nil || p.Status != Warn || !strings.Contains(p.Fix, "logfan doctor -probe -account 123456789012") {
			t.Fatalf("probe without the recipient's credentials: %+v", p)
		}
		out, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/doctor/heartbeat"), LogStreamName: aws.String("logfan-doctor-probe")})
		if err != nil || len(out.Events) != 1 || !strings.Contains(aws.ToString(out.Events[0].Message), "logfan doctor probe") {
			t.Errorf("probe event: %v %+v", err, out)
		}
	})
	t.Run("the probe seen by the recipient", func(t *testing.T) {
		// GIVEN a profile with the recipient's credentials (moto's one account)
		dir := t.TempDir()
		creds, cfgFile := dir+"/credentials", dir+"/config"
		if err := os.WriteFile(creds, []byte("[recipient]\naws_access_key_id = testing\naws_secret_access_key = testing\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfgFile, []byte("[profile recipient]\nregion = us-east-1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
		t.Setenv("AWS_CONFIG_FILE", cfgFile)
		defer func(e time.Duration) { probeEvery = e }(probeEvery)
		probeEvery = 100 * time.Millisecond
		// AND the consumer's write of the heartbeat, a moment later (no consumer runs here)
		table := dynamohealth.New(dynamodb.NewFromConfig(f.cfg), f.names.HealthTable)
		go func() {
			time.Sleep(500 * time.Millisecond)
			_ = table.WriteSender(ctx, health.SenderUpdate{Account: "123456789012", Region: emulator.Region, LastHeartbeat: time.Now().UnixMilli(), Heartbeats: 1})
		}()
		checks, _ := run("-mode", "accounts", "-probe", "-recipient-profile", "recipient", "-recipient-stack", f.names.Stack, "-timeout", "10s")
		// THEN the probe passes with its round trip
		if p := findCheck(checks, "probe"); p == nil || p.Status != Pass || !strings.Contains(p.Evidence, "round trip") {
			t.Errorf("probe: %+v", p)
		}
	})
}

func findCheck(checks []Check, name string) *Check {
	for i := range checks {
		if checks[i].Check == name {
			return &checks[i]
		}
	}
	return nil
}

func TestEveryAlarmHasAHint(t *testing.T) {
	// The recipient stack's alarms (cdk/recipient/monitoring.go), as CloudFormation names them.
	for _, id := range []string{"StreamReadThroughputExceededAlarm", "StreamWriteThroughputExceededAlarm", "S3IteratorAgeAlarm", "FirehoseErrorsAlarm",
		"LogsOnFailureDeliveryFailuresAlarm", "OnFailureRecordsAlarm", "SilentSendersAlarm"} {
		h := hintFor("LogfanRecipient-" + id + "-1A2B3C4D5E6F")
		if h == nil || !strings.HasSuffix(id, h.suffix) {
			t.Errorf("%s: hint %+v", id, h)
		}
	}
}

// TestErrorsAlarmHintNamesTheFunctionsLogGroup: the stack gives each
// function a log group of its own (not /aws/lambda/<function>), so the
// hint for a function's alarm names the group the doctor read.
func TestErrorsAlarmHintNamesTheFunctionsLogGroup(t *testing.T) {
	r := &recipient{d: &deployment.Deployment{Functions: map[string]*deployment.Function{
		config.SinkS3:   {Sink: config.SinkS3, LogGroup: "LogfanRecipient-S3FunctionLogs1A2B-abc"},
		config.SinkLogs: {Sink: config.SinkLogs, LogGroup: "LogfanRecipient-LogsFunctionLogs3C4D-def"},
	}}}
	h := hintFor("LogfanRecipient-LogsErrorsAlarm-1A2B3C4D5E6F")
	if h == nil {
		t.Fatal("no hint for the Logs function's errors alarm")
	}
	if got := r.alarmLogGroup("LogfanRecipient-LogsErrorsAlarm-1A2B3C4D5E6F", h.suffix); got != "LogfanRecipient-LogsFunctionLogs3C4D-def" {
		t.Errorf("log group %q, want the Logs function's", got)
	}
	if got := r.alarmLogGroup("LogfanRecipient-FirehoseErrorsAlarm-1A2B3C4D5E6F", h.suffix); !strings.Contains(got, "LoggingConfig.LogGroup") {
		t.Errorf("unknown function: %q, want how to find its group", got)
	}
}

func TestMappingDriftFromTheTemplate(t *testing.T) {
	// GIVEN the stack's template as synth writes it
	body, err := os.ReadFile("../../../cdk/recipient/testdata/default.template.json")
	if err != nil {
		t.Fatal(err)
	}
	byFunction, err := templateMappings(string(body))
	if err != nil {
		t.Fatal(err)
	}
	want := byFunction[naming.FunctionLogicalID(config.SinkS3)]
	if want == nil || want["BatchSize"] != 1000.0 {
		t.Fatalf("S3Function's mapping: %v", want)
	}
	// THEN a mapping as deployed shows no drift, and one changed by hand does
	m := &lambdatypes.EventSourceMappingConfiguration{BatchSize: aws.Int32(1000), MaximumBatchingWindowInSeconds: aws.Int32(5), ParallelizationFactor: aws.Int32(1),
		MaximumRetryAttempts: aws.Int32(10), MaximumRecordAgeInSeconds: aws.Int32(21600), BisectBatchOnFunctionError: aws.Bool(true), StartingPosition: lambdatypes.EventSourcePositionTrimHorizon}
	if d := want.drift(m); len(d) != 0 {
		t.Errorf("drift %v", d)
	}
	m.BatchSize, m.ParallelizationFactor = aws.Int32(10), aws.Int32(4)
	if d := want.drift(m); strings.Join(d, "; ") != "BatchSize 10 (the stack sets 1000); ParallelizationFactor 4 (the stack sets 1)" {
		t.Errorf("drift %v", d)
	}
}

func TestDestinationsOfAShardedStack(t *testing.T) {
	// GIVEN a sharded stack's outputs (internal/ops/naming's shard output names)
	r := &recipient{d: &deployment.Deployment{Parameters: map[string]string{naming.ParamSenderAccounts: "111111111111"}}}
	outputs := map[string]string{
		naming.OutputDestinationARN: "arn:aws:logs:eu-west-1:999999999999:destination:logfan-destination", naming.OutputDestinationRoleARN: "arn:aws:iam::999999999999:role/r0",
		naming.OutputShardSenders(0):        "organizations o-aaaaaaaaaa,o-bbbbbbbbbb",
		naming.OutputShardDestinationARN(2): "arn:aws:logs:eu-west-1:999999999999:destination:logfan-destination-2",
		naming.OutputShardSenders(2):        "444444444444,555555555555",
	}
	got := r.destinationsOf("eu-west-1", outputs)
	// THEN each destination is checked with its own senders, shard 0 against the stack's role
	if len(got) != 2 || got[0].shard != 0 || got[0].roleARN != "arn:aws:iam::999999999999:role/r0" || strings.Join(got[0].expected.Orgs, ",") != "o-aaaaaaaaaa,o-bbbbbbbbbb" ||
		got[1].shard != 2 || got[1].name != "logfan-destination-2" || got[1].label() != "eu-west-1 shard 2" || strings.Join(got[1].expected.Accounts, ",") != "444444444444,555555555555" {
		t.Errorf("%+v", got)
	}
	// AND without a senders output, the stack's parameter
	if got := r.destinationsOf("eu-west-1", map[string]string{naming.OutputDestinationARN: outputs[naming.OutputDestinationARN]}); len(got) != 1 || strings.Join(got[0].expected.Accounts, ",") != "111111111111" {
		t.Errorf("%+v", got)
	}
}

// TestCustomResourceLogsFoundByLogicalID: the stack's SDK custom resources
// log to a group CloudFormation names after the stack and the group's
// logical ID (not /aws/lambda/<stack>-AWS...), and the doctor reads it.
func TestCustomResourceLogsFoundByLogicalID(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	cfg := emutest.Config(t, srv, emulator.Region)
	cf := cloudformation.NewFromConfig(cfg)
	// GIVEN a stack holding the handler's log group, as the recipient stack does
	stack := "LogfanHandlerLogs" + strconv.FormatInt(time.Now().UnixNano(), 36)
	body := `{"Resources": {"` + naming.SDKHandlerLogs + `38975101": {"Type": "AWS::Logs::LogGroup"}}}`
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(stack), TemplateBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	res, err := cf.ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: aws.String(stack)})
	if err != nil || len(res.StackResourceSummaries) != 1 {
		t.Fatalf("stack resources %+v: %v", res, err)
	}
	group := aws.ToString(res.StackResourceSummaries[0].PhysicalResourceId)
	// AND a failure the doctor knows in it
	logs := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s"),
		LogEvents: []logstypes.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String("AccessDeniedException: not allowed to PutDestinationPolicy")}}}); err != nil {
		t.Fatal(err)
	}
	// WHEN the doctor reads the custom resources' logs
	r := &recipient{d: &deployment.Deployment{Stack: stack, Region: emulator.Region, Config: cfg}, rep: &Report{}, now: time.Now()}
	r.customResourceLogs(ctx)
	// THEN it finds the line in that group
	if len(r.rep.Checks) != 1 || r.rep.Checks[0].Status != Warn || !strings.Contains(r.rep.Checks[0].Evidence, group) {
		t.Errorf("checks %+v, want a warning naming %s", r.rep.Checks, group)
	}
}
