package doctor

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logfan/logfan/internal/ops/deployment"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/internal/ops/onfailure"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
	"github.com/logfan/logfan/shared/quarantine"
)

// recipient checks one deployed recipient stack.
type recipient struct {
	d   *deployment.Deployment
	rep *Report
	now time.Time
	// where is the -stack and -region part of the commands the fixes print.
	where string

	streamName, streamARN string
	streamOK              bool
	// streamKey is the stream's customer KMS key ("" without one).
	streamKey string
	shards    int
	onDemand  bool
	mappings  map[string]*lambdatypes.EventSourceMappingConfiguration
	// template are the mappings' settings in the deployed template, by sink.
	template map[string]mappingSettings
	quarBkt  string
	marks    map[string]bool // redrive marks: "<sink>/<key>"

	s3  *s3.Client
	iam *iam.Client
	cw  *cloudwatch.Client
	lc  *lambda.Client
}

func (r *recipient) in(region string) aws.Config {
	cfg := r.d.Config.Copy()
	cfg.Region = region
	return cfg
}

func (r *recipient) partition() string { return naming.Partition(r.d.Region) }

// checkRecipient runs every recipient check against d.
func checkRecipient(ctx context.Context, d *deployment.Deployment, now time.Time) *Report {
	r := &recipient{
		d: d, rep: &Report{}, now: now, where: "-stack " + d.Stack + " -region " + d.Region,
		mappings: map[string]*lambdatypes.EventSourceMappingConfiguration{}, marks: map[string]bool{},
		s3: awsclient.S3(d.Config), iam: iam.NewFromConfig(d.Config), cw: cloudwatch.NewFromConfig(d.Config), lc: lambda.NewFromConfig(d.Config),
	}
	r.stack()
	r.stream(ctx)
	r.streamLoad(ctx)
	r.destinations(ctx)
	r.quarBkt = d.Output(naming.OutputQuarantineBucket)
	r.readMarks(ctx)
	r.template = r.stackMappings(ctx)
	for _, sink := range d.Sinks() {
		r.function(sink)
		r.environment(ctx, sink)
		r.mapping(ctx, sink)
		r.functionMetrics(ctx, sink)
		r.functionLogs(ctx, sink)
		r.quarantine(ctx, sink)
	}
	r.customResourceLogs(ctx)
	r.sharedQuarantine(ctx)
	r.onFailure(ctx)
	r.senders(ctx)
	r.alarms(ctx)
	return r.rep
}

func (r *recipient) stack() {
	d := r.d
	switch {
	case strings.HasSuffix(d.Status, "_COMPLETE") && !strings.Contains(d.Status, "ROLLBACK") && !strings.Contains(d.Status, "DELETE"):
		r.rep.pass("stack", "%s in %s (account %s): %s, %d outputs, %d functions", d.Stack, d.Region, d.Account, d.Status, len(d.Outputs), len(d.Functions))
	case strings.HasSuffix(d.Status, "_IN_PROGRESS"):
		r.rep.warn("stack", "aws cloudformation wait stack-update-complete --stack-name "+d.Stack+" --region "+d.Region, "%s in %s is %s: check again once it settles", d.Stack, d.Region, d.Status)
	default:
		r.rep.fail("stack", "aws cloudformation describe-stack-events --stack-name "+d.Stack+" --region "+d.Region+" --max-items 20   # then make deploy",
			"%s in %s is %s: its last deployment did not complete", d.Stack, d.Region, d.Status)
	}
}

func (r *recipient) stream(ctx context.Context) {
	r.streamName = r.d.Output(naming.OutputStreamName)
	if r.streamName == "" {
		r.rep.fail("stream", "make deploy", "stack %s has no %s output: deployed by an older logfan", r.d.Stack, naming.OutputStreamName)
		return
	}
	r.streamARN = fmt.Sprintf("arn:%s:kinesis:%s:%s:stream/%s", r.partition(), r.d.Region, r.d.Account, r.streamName)
	out, err := kinesis.NewFromConfig(r.d.Config).DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(r.streamName)})
	if err != nil {
		fix := "make deploy   # the stack recreates the stream; senders' subscriptions then flow again"
		r.rep.fail("stream", fix, "stream %s: %v", r.streamName, err)
		return
	}
	s := out.StreamDescriptionSummary
	r.streamARN = aws.ToString(s.StreamARN)
	mode := "PROVISIONED"
	if s.StreamModeDetails != nil {
		mode = string(s.StreamModeDetails.StreamMode)
	}
	enc := string(s.EncryptionType)
	if s.EncryptionType == kintypes.EncryptionTypeKms {
		enc = "KMS " + aws.ToString(s.KeyId)
		if key := aws.ToString(s.KeyId); key != "alias/aws/kinesis" && !strings.HasSuffix(key, ":alias/aws/kinesis") {
			r.streamKey = key
		}
	}
	evidence := fmt.Sprintf("%s: %s, %s, encryption %s, retention %d h, %d open shards, %d registered consumers",
		r.streamName, s.StreamStatus, mode, enc, aws.ToInt32(s.RetentionPeriodHours), aws.ToInt32(s.OpenShardCount), aws.ToInt32(s.ConsumerCount))
	switch {
	case s.StreamStatus != kintypes.StreamStatusActive && s.StreamStatus != kintypes.StreamStatusUpdating:
		r.rep.fail("stream", "aws kinesis describe-stream-summary --stream-name "+r.streamName+" --region "+r.d.Region, "%s", evidence)
	case s.EncryptionType != kintypes.EncryptionTypeKms:
		r.rep.warn("stream", "aws kinesis start-stream-encryption --stream-name "+r.streamName+" --encryption-type KMS --key-id alias/aws/kinesis --region "+r.d.Region,
			"%s: not encrypted at rest, as the stack deploys it", evidence)
		r.streamOK = true
	default:
		r.rep.pass("stream", "%s", evidence)
		r.streamOK = true
	}
	r.shards = int(aws.ToInt32(s.OpenShardCount))
	r.onDemand = mode == string(kintypes.StreamModeOnDemand)
}

// streamLoad compares the last day's incoming bytes and records with what the stream takes.
func (r *recipient) streamLoad(ctx context.Context) {
	const check = "stream load"
	if !r.streamOK {
		r.rep.skip(check, "no stream to measure (see the stream check)")
		return
	}
	from := r.now.Add(-24 * time.Hour)
	dims := map[string]string{"StreamName": r.streamName}
	bytes, hasBytes, err := statistic(ctx, r.cw, metric{"AWS/Kinesis", "IncomingBytes", "Sum", dims}, from, r.now, time.Hour)
	if err != nil {
		r.rep.skip(check, "CloudWatch metrics unavailable: %v", err)
		return
	}
	records, _, _ := statistic(ctx, r.cw, metric{"AWS/Kinesis", "IncomingRecords", "Sum", dims}, from, r.now, time.Hour)
	throttled, _, _ := statistic(ctx, r.cw, metric{"AWS/Kinesis", "WriteProvisionedThroughputExceeded", "Sum", dims}, from, r.now, time.Hour)
	if !hasBytes {
		r.rep.pass(check, "no IncomingBytes datapoints in the last 24 h: an idle stream (or no metrics here)")
		return
	}
	peakBytes, _ := peakSum(ctx, r.cw, metric{"AWS/Kinesis", "IncomingBytes", "Sum", dims}, from, r.now, time.Minute)
	peakRecords, _ := peakSum(ctx, r.cw, metric{"AWS/Kinesis", "IncomingRecords", "Sum", dims}, from, r.now, time.Minute)
	evidence := fmt.Sprintf("last 24 h: %s in %.0f records; busiest minute %s/s, %.0f records/s", bytesText(bytes), records, bytesText(peakBytes/60), peakRecords/60)
	if throttled > 0 {
		r.rep.warn(check, "make deploy CDK_ARGS=\"-c streamMode=on-demand\"   # or more shards: -c shardCount=N (logfan plan sizes it)",
			"%s; %.0f writes throttled (WriteProvisionedThroughputExceeded): CloudWatch Logs retries them for 24 hours, then drops them", evidence, throttled)
		return
	}
	if !r.onDemand && r.shards > 0 {
		// A shard takes 1 MiB/s and 1,000 records/s of writes.
		use := max(peakBytes/60/float64(r.shards<<20), peakRecords/60/float64(r.shards*1000))
		if use > 0.8 {
			r.rep.warn(check, "make deploy CDK_ARGS=\"-c shardCount="+strconv.Itoa(r.shards*2)+"\"   # logfan plan -daily ... sizes it",
				"%s: %.0f%% of %d shards' write capacity at the busiest minute", evidence, use*100, r.shards)
			return
		}
		evidence += fmt.Sprintf(" (%.0f%% of %d shards' write capacity)", use*100, r.shards)
	}
	r.rep.pass(check, "%s", evidence)
}

// destination is one destination the stack outputs, in its region.
type destination struct {
	region, arn, name string
	shard             int
	roleARN           string // the stack's role for it ("" if the stack does not say)
	expected          expected
}

func (x destination) label() string {
	if x.shard == 0 {
		return x.region
	}
	return fmt.Sprintf("%s shard %d", x.region, x.shard)
}

var destinationOutput = regexp.MustCompile(`^Destination(?:Shard(\d+))?Arn$`)

// destinationsOf lists the destinations a stack's outputs name.
func (r *recipient) destinationsOf(region string, outputs map[string]string) []destination {
	var out []destination
	for k, v := range outputs {
		m := destinationOutput.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		x := destination{region: region, arn: v, name: v[strings.LastIndex(v, ":")+1:]}
		if m[1] != "" {
			x.shard, _ = strconv.Atoi(m[1])
		}
		if x.shard == 0 {
			x.roleARN = outputs[naming.OutputDestinationRoleARN]
		}
		senders := strings.TrimSuffix(k, "Arn") + "Senders"
		switch {
		case outputs[senders] != "":
			x.expected = parseExpected(outputs[senders])
		case r.d.Parameters[naming.ParamSenderOrganizationID] != "":
			x.expected = expected{Orgs: splitList(r.d.Parameters[naming.ParamSenderOrganizationID])}
		default:
			x.expected = expected{Accounts: splitList(r.d.Parameters[naming.ParamSenderAccounts])}
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].shard < out[j].shard })
	return out
}

// destinations checks every destination of every region the stack covers.
func (r *recipient) destinations(ctx context.Context) {
	all := r.destinationsOf(r.d.Region, r.d.Outputs)
	for _, region := range splitList(r.d.Output(naming.OutputDestinationRegions)) {
		name := naming.DestinationStack(region)
		out, err := cloudformation.NewFromConfig(r.in(region)).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		if err != nil || len(out.Stacks) == 0 {
			r.rep.fail("destination stack "+region, "make deploy   # deploys "+name+" with the recipient stack", "stack %s in %s: %v", name, region, err)
			continue
		}
		outputs := map[string]string{}
		for _, o := range out.Stacks[0].Outputs {
			outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
		}
		all = append(all, r.destinationsOf(region, outputs)...)
	}
	if len(all) == 0 {
		r.rep.fail("destination", "make deploy", "stack %s outputs no destination (%s)", r.d.Stack, naming.OutputDestinationARN)
		return
	}
	for _, x := range all {
		r.destination(ctx, x)
	}
}

func (r *recipient) destination(ctx context.Context, x destination) {
	check := "destination " + x.label()
	logs := cloudwatchlogs.NewFromConfig(r.in(x.region))
	out, err := logs.DescribeDestinations(ctx, &cloudwatchlogs.DescribeDestinationsInput{DestinationNamePrefix: aws.String(x.name)})
	if err != nil {
		r.rep.fail(check, "aws logs describe-destinations --region "+x.region, "describe destination %s: %v", x.name, err)
		return
	}
	var dst *struct{ target, role, policy string }
	for _, d := range out.Destinations {
		if aws.ToString(d.DestinationName) == x.name {
			dst = &struct{ target, role, policy string }{aws.ToString(d.TargetArn), aws.ToString(d.RoleArn), aws.ToString(d.AccessPolicy)}
		}
	}
	if dst == nil {
		r.rep.fail(check, "make deploy   # recreates it; senders then subscribe again", "destination %s does not exist in %s: every sender's deliveries to it stop", x.arn, x.region)
		return
	}
	var problems []string
	if r.streamARN != "" && dst.target != r.streamARN {
		problems = append(problems, fmt.Sprintf("it targets %s, not the stack's stream %s", dst.target, r.streamARN))
	}
	if x.roleARN != "" && dst.role != x.roleARN {
		problems = append(problems, fmt.Sprintf("it uses role %s, not the stack's %s", dst.role, x.roleARN))
	}
	if len(problems) > 0 {
		r.rep.fail(check, "aws logs put-destination --region "+x.region+" --destination-name "+x.name+" --target-arn "+r.streamARN+" --role-arn "+x.roleARN+"   # or make deploy",
			"%s: %s", x.arn, strings.Join(problems, "; "))
	} else {
		r.rep.pass(check, "%s targets %s through %s", x.arn, dst.target, dst.role)
	}
	r.accessPolicy(x, dst.policy)
	r.role(ctx, x, dst.role)
}

// accessPolicy checks that the destination's access policy admits every
// expected sender, and its size against CloudWatch Logs' 5,120 bytes.
func (r *recipient) accessPolicy(x destination, doc string) {
	check := "access policy " + x.label()
	fix := "aws logs put-destination-policy --region " + x.region + " --destination-name " + x.name +
		" --access-policy " + shellQuote(accessPolicyFor(x.arn, x.expected)) + "   # what the stack applies; make deploy does the same"
	if doc == "" {
		r.rep.fail(check, fix, "%s has no access policy: no sender may subscribe (expected %s)", x.arn, x.expected)
		return
	}
	p, err := parsePolicy(doc)
	if err != nil {
		r.rep.fail(check, fix, "%s: %v", x.arn, err)
		return
	}
	accounts, orgs, anyone := accessAdmits(p, x.arn)
	var missing []string
	if len(x.expected.Orgs) > 0 {
		for _, o := range x.expected.Orgs {
			if !slices.Contains(orgs, o) {
				missing = append(missing, "organization "+o)
			}
		}
	} else {
		for _, a := range x.expected.Accounts {
			if !slices.Contains(accounts, a) {
				missing = append(missing, a)
			}
		}
	}
	size := fmt.Sprintf("%d of 5,120 bytes", len(doc))
	switch {
	case anyone:
		r.rep.fail(check, fix, "%s admits any AWS account (Principal \"*\" without aws:PrincipalOrgID); expected %s; %s", x.arn, x.expected, size)
	case len(missing) > 0:
		r.rep.fail(check, fix, "%s does not admit %s (expected %s): their PutSubscriptionFilter fails with \"User with accountId: ... is not authorized to perform: logs:PutSubscriptionFilter on resource: %s\"; %s",
			x.arn, strings.Join(missing, ", "), x.expected, x.arn, size)
	case len(doc) > 5120*9/10:
		r.rep.warn(check, "logfan doctor: move senders to another shard (-c senderShards=...) or use organization mode", "%s admits %s; %s: near CloudWatch Logs' limit", x.arn, x.expected, size)
	default:
		r.rep.pass(check, "%s admits %s; %s", x.arn, x.expected, size)
	}
}

// role checks the destination role's trust (CloudWatch Logs only, for the
// expected senders only) and its permission to write the stream.
func (r *recipient) role(ctx context.Context, x destination, roleARN string) {
	trustCheck, permCheck := "role trust "+x.label(), "role permissions "+x.label()
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	trust, perms, err := rolePolicies(ctx, r.iam, name)
	if err != nil {
		r.rep.fail(trustCheck, "make deploy   # recreates the role", "role %s: %v", roleARN, err)
		r.rep.skip(permCheck, "role %s could not be read", roleARN)
		return
	}
	fix := "aws iam update-assume-role-policy --role-name " + name + " --policy-document " +
		shellQuote(trustPolicyFor(r.partition(), x.region, r.d.Account, x.expected)) + "   # what the stack sets; make deploy does the same"
	var problems []string
	var covered []statement
	for i, st := range trust.Statement {
		if !strings.EqualFold(st.Effect, "Allow") {
			continue
		}
		for kind, ps := range st.Principal {
			for _, p := range ps {
				if kind != "Service" || p != "logs.amazonaws.com" {
					problems = append(problems, fmt.Sprintf("statement %d trusts %s %q, not only logs.amazonaws.com", i+1, kind, p))
				}
			}
		}
		if len(st.conditionValues("aws:SourceArn")) == 0 && len(st.conditionValues("aws:SourceAccount")) == 0 && len(st.conditionValues("aws:SourceOrgID")) == 0 {
			problems = append(problems, fmt.Sprintf("statement %d has no aws:SourceArn, aws:SourceAccount or aws:SourceOrgID condition: CloudWatch Logs acting for any account may assume it (confused deputy)", i+1))
			continue
		}
		covered = append(covered, st)
	}
	admits := func(account string) bool {
		probe := "arn:" + r.partition() + ":logs:" + x.region + ":" + account + ":log-group:logfan-doctor"
		for _, st := range covered {
			if anyMatch(st.conditionValues("aws:SourceArn"), probe, false) || slices.Contains(st.conditionValues("aws:SourceAccount"), account) {
				return true
			}
		}
		return false
	}
	var missing []string
	if len(x.expected.Orgs) > 0 {
		for _, o := range x.expected.Orgs {
			found := false
			for _, st := range covered {
				found = found || slices.Contains(st.conditionValues("aws:SourceOrgID"), o)
			}
			if !found {
				missing = append(missing, "organization "+o)
			}
		}
	} else {
		for _, a := range x.expected.Accounts {
			if !admits(a) {
				missing = append(missing, a)
			}
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("no condition admits CloudWatch Logs acting for %s: their deliveries fail (\"Could not deliver test message to specified destination\" at subscription)", strings.Join(missing, ", ")))
	}
	if len(problems) > 0 {
		r.rep.fail(trustCheck, fix, "%s: %s", roleARN, strings.Join(problems, "; "))
	} else {
		r.rep.pass(trustCheck, "%s: trusted by logs.amazonaws.com only, for %s", roleARN, x.expected)
	}

	if r.streamARN == "" {
		r.rep.skip(permCheck, "no stream to check the role's permissions against")
		return
	}
	var lacks []string
	ok, by := allowed(perms, "kinesis:PutRecord", r.streamARN)
	if !ok {
		lacks = append(lacks, "kinesis:PutRecord on "+r.streamARN)
	}
	evidence := fmt.Sprintf("%s: kinesis:PutRecord on the stream %s", roleARN, by)
	if r.streamKey != "" {
		keyOK, keyBy := allowed(perms, "kms:GenerateDataKey", r.streamKey)
		if !keyOK {
			lacks = append(lacks, "kms:GenerateDataKey on the stream's key "+r.streamKey)
		}
		evidence += fmt.Sprintf("; kms:GenerateDataKey on %s %s", r.streamKey, keyBy)
	}
	if len(lacks) > 0 {
		r.rep.fail(permCheck, "make deploy   # restores the role's DestinationRolePolicy",
			"%s lacks %s: CloudWatch Logs cannot write the senders' records (\"Could not deliver test message to specified destination\")", roleARN, strings.Join(lacks, " and "))
		return
	}
	r.rep.pass(permCheck, "%s (policies read and evaluated here, conditions aside)", evidence)
}

func (r *recipient) function(sink string) {
	fn := r.d.Functions[sink]
	check := "function " + sink
	if fn.State != "" && fn.State != string(lambdatypes.StateActive) || fn.LastUpdateStatus == string(lambdatypes.LastUpdateStatusFailed) {
		r.rep.fail(check, "aws lambda get-function-configuration --function-name "+fn.Name+" --region "+r.d.Region+"   # then make deploy",
			"%s is %s (last update %s): %s", fn.Name, fn.State, fn.LastUpdateStatus, fn.StateReason)
		return
	}
	r.rep.pass(check, "%s: %s, last update %s, logs to %s", fn.Name, dash(fn.State), dash(fn.LastUpdateStatus), fn.LogGroup)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// environment checks that the function's configuration loads (its route
// table parses) and that what it names exists: buckets, tables, Firehose
// streams, the routes' targets.
func (r *recipient) environment(ctx context.Context, sink string) {
	fn := r.d.Functions[sink]
	check := "environment " + sink
	redeploy := "make deploy   # restores the function's environment as the stack sets it"
	getenv, err := r.d.Getenv(ctx, sink, func(string) string { return "" })
	if err != nil {
		r.rep.fail(check, redeploy, "%s: %v", fn.Name, err)
		return
	}
	cfg, err := config.Load(sink, getenv)
	if err != nil {
		r.rep.fail(check, redeploy, "%s: %v", fn.Name, err)
		return
	}
	var problems, seen []string
	exists := func(what string, check func() error) {
		if slices.Contains(seen, what) {
			return
		}
		seen = append(seen, what)
		if err := check(); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", what, err))
		}
	}
	bucket := func(name string) func() error {
		return func() error {
			_, err := r.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
			return err
		}
	}
	ddb := dynamodb.NewFromConfig(r.d.Config)
	table := func(name string) func() error {
		return func() error {
			_, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			return err
		}
	}
	fh := firehose.NewFromConfig(r.d.Config)
	stream := func(name string) func() error {
		return func() error {
			out, err := fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
			if err == nil && out.DeliveryStreamDescription.DeliveryStreamStatus != "ACTIVE" {
				return fmt.Errorf("%s", out.DeliveryStreamDescription.DeliveryStreamStatus)
			}
			return err
		}
	}
	exists(config.EnvQuarantineBucket+"="+cfg.Quarantine.Bucket, bucket(cfg.Quarantine.Bucket))
	if cfg.Ledger.Table != "" {
		exists(config.EnvLedgerTable+"="+cfg.Ledger.Table, table(cfg.Ledger.Table))
	}
	if cfg.Health.Table != "" {
		exists(config.EnvHealthTable+"="+cfg.Health.Table, table(cfg.Health.Table))
	}
	targets := []*config.Config{cfg}
	if cfg.Routes != nil {
		targets = targets[:0]
		for _, t := range cfg.Routes.Targets(sink) {
			targets = append(targets, cfg.ForTarget(t))
		}
	}
	for _, t := range targets {
		switch sink {
		case config.SinkS3:
			exists(config.EnvS3Bucket+"="+t.S3.Bucket, bucket(t.S3.Bucket))
		case config.SinkFirehose:
			exists("Firehose stream "+t.Firehose.Stream, stream(t.Firehose.Stream))
		case config.SinkLogs:
			// Target groups are created on first use; the region must take them.
			exists("logs region "+t.Logs.Region, func() error { return config.CheckRegion(t.Logs.Region) })
		}
	}
	routed := "no route table"
	if cfg.Routes != nil {
		routed = fmt.Sprintf("route table with %d targets of this sink", len(targets))
	}
	if len(problems) > 0 {
		fix := redeploy
		for _, p := range problems {
			if strings.HasPrefix(p, config.EnvS3Bucket+"=") || strings.HasPrefix(p, config.EnvQuarantineBucket+"=") {
				name := strings.SplitN(strings.SplitN(p, "=", 2)[1], ":", 2)[0]
				fix = "aws s3api create-bucket --bucket " + name + " --region " + r.d.Region + "   # if it was deleted; or " + redeploy
				break
			}
		}
		r.rep.fail(check, fix, "%s names what does not exist: %s; the function fails every batch until it does", fn.Name, strings.Join(problems, "; "))
		return
	}
	r.rep.pass(check, "%s: configuration loads (%s); %s exist", fn.Name, routed, strings.Join(seen, ", "))
}

// mapping checks the function's event source mapping on the stream.
func (r *recipient) mapping(ctx context.Context, sink string) {
	fn := r.d.Functions[sink]
	check := "mapping " + sink
	out, err := r.lc.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn.Name)})
	if err != nil {
		r.rep.fail(check, "aws lambda list-event-source-mappings --function-name "+fn.Name+" --region "+r.d.Region, "%s: %v", fn.Name, err)
		return
	}
	var m *lambdatypes.EventSourceMappingConfiguration
	for i, c := range out.EventSourceMappings {
		src := aws.ToString(c.EventSourceArn)
		if src == r.streamARN || strings.HasPrefix(src, r.streamARN+"/consumer/") {
			m = &out.EventSourceMappings[i]
		}
	}
	if m == nil {
		r.rep.fail(check, "make deploy   # recreates it (from TRIM_HORIZON: what the stream still holds is read)", "%s has no event source mapping on %s: nothing reads the stream for the %s sink", fn.Name, r.streamARN, sink)
		return
	}
	r.mappings[sink] = m
	uuid := aws.ToString(m.UUID)
	state := aws.ToString(m.State)
	last := aws.ToString(m.LastProcessingResult)
	settings := fmt.Sprintf("batch %d, window %d s, parallelization %d, %d retries, max record age %d s, bisect %t",
		aws.ToInt32(m.BatchSize), aws.ToInt32(m.MaximumBatchingWindowInSeconds), aws.ToInt32(m.ParallelizationFactor),
		aws.ToInt32(m.MaximumRetryAttempts), aws.ToInt32(m.MaximumRecordAgeInSeconds), aws.ToBool(m.BisectBatchOnFunctionError))
	var problems []string
	if !slices.Contains(m.FunctionResponseTypes, lambdatypes.FunctionResponseTypeReportBatchItemFailures) {
		problems = append(problems, "ReportBatchItemFailures is off: a partial failure retries the whole batch")
	}
	if aws.ToInt32(m.MaximumRetryAttempts) < 0 || aws.ToInt32(m.MaximumRecordAgeInSeconds) < 0 {
		problems = append(problems, "retries or record age unbounded: a poison batch blocks its shard until the records expire")
	}
	onFailure := ""
	if m.DestinationConfig != nil && m.DestinationConfig.OnFailure != nil {
		onFailure = aws.ToString(m.DestinationConfig.OnFailure.Destination)
	}
	if want := "arn:" + r.partition() + ":s3:::" + r.quarantineBucket(); r.quarantineBucket() != "" && onFailure != want {
		problems = append(problems, fmt.Sprintf("on-failure destination %q, not the quarantine bucket %s: batches Lambda gives up on are lost", onFailure, want))
	}
	drift := r.template[sink].drift(m)
	asSet := "as the stack sets them"
	if r.template[sink] == nil {
		asSet = "the template names no mapping to compare with"
	}
	switch {
	case state != "Enabled" && state != "Enabling" && state != "Updating":
		r.rep.fail(check, "aws lambda update-event-source-mapping --uuid "+uuid+" --enabled --region "+r.d.Region,
			"mapping %s of %s is %s (%s): the %s sink reads nothing; records older than the stream's retention are lost", uuid, fn.Name, state, aws.ToString(m.StateTransitionReason), sink)
	case strings.HasPrefix(last, "PROBLEM"):
		r.rep.fail(check, "aws logs tail "+fn.LogGroup+" --since 1h --region "+r.d.Region, "mapping %s: last processing result %q", uuid, last)
	case len(problems) > 0:
		r.rep.fail(check, "make deploy   # restores the mapping's settings", "mapping %s (%s): %s", uuid, settings, strings.Join(problems, "; "))
	case len(drift) > 0:
		r.rep.warn(check, "make deploy   # puts back what the stack sets; or record the change in cdk.json", "mapping %s changed outside the stack: %s", uuid, strings.Join(drift, ", "))
	default:
		if last == "" {
			last = "none yet"
		}
		r.rep.pass(check, "mapping %s %s on %s, last result %s; %s (%s); on failure to %s", uuid, state, aws.ToString(m.EventSourceArn), last, settings, asSet, onFailure)
	}
}

func (r *recipient) quarantineBucket() string { return r.quarBkt }

// functionMetrics reads the last hour's errors, iterator age and on-failure delivery failures.
func (r *recipient) functionMetrics(ctx context.Context, sink string) {
	fn := r.d.Functions[sink]
	check := "metrics " + sink
	from := r.now.Add(-time.Hour)
	dims := map[string]string{"FunctionName": fn.Name}
	errs, _, err := statistic(ctx, r.cw, metric{"AWS/Lambda", "Errors", "Sum", dims}, from, r.now, 5*time.Minute)
	if err != nil {
		r.rep.skip(check, "CloudWatch metrics unavailable: %v", err)
		return
	}
	age, hasAge, _ := statistic(ctx, r.cw, metric{"AWS/Lambda", "IteratorAge", "Maximum", dims}, from, r.now, 5*time.Minute)
	lost, _, _ := statistic(ctx, r.cw, metric{"AWS/Lambda", "DestinationDeliveryFailures", "Sum", dims}, from, r.now, 5*time.Minute)
	invocations, hasInv, _ := statistic(ctx, r.cw, metric{"AWS/Lambda", "Invocations", "Sum", dims}, from, r.now, 5*time.Minute)
	if !hasInv && !hasAge {
		r.rep.pass(check, "no datapoints in the last hour for %s: not invoked (an idle stream, or no metrics here)", fn.Name)
		return
	}
	evidence := fmt.Sprintf("last hour: %.0f invocations, %.0f errors, iterator age up to %s, %.0f on-failure delivery failures",
		invocations, errs, (time.Duration(age) * time.Millisecond).Round(time.Second), lost)
	maxAge := time.Duration(0)
	if m := r.mappings[sink]; m != nil {
		maxAge = time.Duration(aws.ToInt32(m.MaximumRecordAgeInSeconds)) * time.Second
	}
	tail := "aws logs tail " + fn.LogGroup + " --since 1h --filter-pattern ERROR --region " + r.d.Region
	switch {
	case lost > 0:
		r.rep.fail(check, tail+"   # and the quarantine bucket's policy", "%s: Lambda could not write failed batches to the on-failure destination: those records are lost", evidence)
	case maxAge > 0 && time.Duration(age)*time.Millisecond > maxAge/2:
		r.rep.fail(check, tail, "%s: more than half the mappings' maximum record age (%s): records are about to go to the on-failure destination", evidence, maxAge)
	case errs > 0 || time.Duration(age)*time.Millisecond > 5*time.Minute:
		r.rep.warn(check, tail, "%s", evidence)
	default:
		r.rep.pass(check, "%s", evidence)
	}
}

// knownPattern finds the well-known failures in a function's log.
const knownPattern = `?"is not authorized to perform" ?"Could not deliver test message" ?"Role ARN is required" ?"cannot be used with roleArn" ?AccessDenied ?ResourceNotFound ?ThrottlingException`

// functionLogs looks for the well-known failures in the function's log of the last hour.
func (r *recipient) functionLogs(ctx context.Context, sink string) {
	fn := r.d.Functions[sink]
	r.scanLogs(ctx, "logs "+sink, fn.LogGroup, time.Hour)
}

func (r *recipient) scanLogs(ctx context.Context, check, group string, window time.Duration) {
	logs := cloudwatchlogs.NewFromConfig(r.d.Config)
	out, err := logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group), FilterPattern: aws.String(knownPattern),
		StartTime: aws.Int64(r.now.Add(-window).UnixMilli()), Limit: aws.Int32(20),
	})
	switch {
	case err != nil && notFound(err):
		r.rep.skip(check, "log group %s does not exist: the function has not run here (on an emulator the handlers run in process)", group)
		return
	case err != nil:
		r.rep.skip(check, "cannot read %s: %v", group, err)
		return
	case len(out.Events) == 0:
		r.rep.pass(check, "%s: none of the well-known failures in the last %s", group, window)
		return
	}
	msg := aws.ToString(out.Events[0].Message)
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	r.rep.warn(check, "aws logs filter-log-events --log-group-name "+group+" --start-time "+strconv.FormatInt(r.now.Add(-window).UnixMilli(), 10)+" --filter-pattern "+shellQuote(knownPattern)+" --region "+r.d.Region,
		"%d lines in %s of the last %s, e.g. %s", len(out.Events), group, window, strings.TrimSpace(msg))
}

// customResourceLogs looks for the well-known failures in the logs of the
// stack's custom resources (the destination policy is applied by one) over
// the last week: deployments are rarer than deliveries. The stack gives
// their handler a log group of its own, named by CloudFormation, so the
// group is found among the stack's resources by its logical ID.
func (r *recipient) customResourceLogs(ctx context.Context) {
	const check = "logs custom resources"
	var groups []string
	p := cloudformation.NewListStackResourcesPaginator(cloudformation.NewFromConfig(r.d.Config), &cloudformation.ListStackResourcesInput{StackName: aws.String(r.d.Stack)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.rep.skip(check, "cannot list the resources of stack %s: %v", r.d.Stack, err)
			return
		}
		for _, s := range page.StackResourceSummaries {
			if aws.ToString(s.ResourceType) == "AWS::Logs::LogGroup" && strings.HasPrefix(aws.ToString(s.LogicalResourceId), naming.SDKHandlerLogs) && aws.ToString(s.PhysicalResourceId) != "" {
				groups = append(groups, aws.ToString(s.PhysicalResourceId))
			}
		}
	}
	if len(groups) == 0 {
		r.rep.skip(check, "stack %s has no %s* log group: its custom resources' handler does not log here (a stack registered by the demo has none)", r.d.Stack, naming.SDKHandlerLogs)
		return
	}
	for _, g := range groups {
		r.scanLogs(ctx, check, g, 7*24*time.Hour)
	}
}

// readMarks reads redrive's marks: what was redriven already.
func (r *recipient) readMarks(ctx context.Context) {
	if r.quarBkt == "" {
		return
	}
	objs, err := listObjects(ctx, r.s3, r.quarBkt, naming.RedriveDonePrefix+"/")
	if err != nil {
		return // the quarantine checks report the bucket
	}
	for _, o := range objs {
		r.marks[strings.TrimPrefix(o.Key, naming.RedriveDonePrefix+"/")] = true
	}
}

// pending drops the objects redriven by sink (any sink if sink is "").
func (r *recipient) pending(objs []object, sinks ...string) []object {
	var out []object
	for _, o := range objs {
		done := false
		for _, s := range sinks {
			done = done || r.marks[s+"/"+o.Key]
		}
		if !done {
			out = append(out, o)
		}
	}
	return out
}

// quarantine counts sink's function's quarantine entries not yet redriven.
func (r *recipient) quarantine(ctx context.Context, sink string) {
	check := "quarantine " + sink
	if r.quarBkt == "" {
		r.rep.fail(check, "make deploy", "stack %s has no %s output", r.d.Stack, naming.OutputQuarantineBucket)
		return
	}
	prefix := config.SinkQuarantinePrefix(r.d.QuarantineRoot(), sink) + "/"
	objs, err := listObjects(ctx, r.s3, r.quarBkt, prefix)
	if err != nil {
		r.rep.fail(check, "aws s3 ls s3://"+r.quarBkt+"/ --region "+r.d.Region, "%v", err)
		return
	}
	left := r.pending(objs, sink)
	if len(left) == 0 {
		r.rep.pass(check, "s3://%s/%s: nothing waiting (%d redriven and kept)", r.quarBkt, prefix, len(objs))
		return
	}
	records, events := 0, 0
	for _, o := range left {
		if strings.HasPrefix(o.Key, prefix+quarantine.KindRecord+"/") {
			records++
		} else {
			events++
		}
	}
	n := newest(left)
	r.rep.fail(check, "logfan quarantine list "+r.where+" -sink "+sink+"   # then, once the cause is fixed: logfan redrive "+r.where+" -sink "+sink,
		"s3://%s/%s: %d entries not redriven (%d undecodable records, %d refused events), newest %s: %s", r.quarBkt, prefix, len(left), records, events, n.Key, ago(r.now, n.Modified))
}

// sharedQuarantine counts entries in the layout every function shared before each had its own prefix.
func (r *recipient) sharedQuarantine(ctx context.Context) {
	if r.quarBkt == "" {
		return
	}
	root := r.d.QuarantineRoot()
	var left []object
	for _, kind := range []string{quarantine.KindRecord, quarantine.KindEvent} {
		objs, err := listObjects(ctx, r.s3, r.quarBkt, root+"/"+kind+"/")
		if err != nil {
			return
		}
		left = append(left, r.pending(objs, r.d.Sinks()...)...)
	}
	if len(left) == 0 {
		return // nothing there: not worth a line
	}
	var fixes []string
	for _, sink := range r.d.Sinks() {
		fixes = append(fixes, "logfan redrive "+r.where+" -sink "+sink)
	}
	n := newest(left)
	r.rep.fail("quarantine (shared layout)", "logfan quarantine list "+r.where+"   # then: "+strings.Join(fixes, "; "),
		"s3://%s/%s/{record,event}/: %d entries from functions deployed before each had its own prefix, newest %s", r.quarBkt, root, len(left), ago(r.now, n.Modified))
}

// onFailure counts Lambda's on-failure records per sink, not yet redriven.
func (r *recipient) onFailure(ctx context.Context) {
	if r.quarBkt == "" {
		return
	}
	objs, err := listObjects(ctx, r.s3, r.quarBkt, naming.OnFailureKeyPrefix)
	if err != nil {
		r.rep.fail("on-failure", "aws s3 ls s3://"+r.quarBkt+"/"+naming.OnFailureKeyPrefix+" --region "+r.d.Region, "%v", err)
		return
	}
	// The key names the mapping: aws/lambda/<ESM UUID>/<shard>/...
	bySink := map[string][]object{}
	unknown := map[string][]object{}
	uuids := map[string]string{}
	for sink, m := range r.mappings {
		uuids[aws.ToString(m.UUID)] = sink
	}
	for _, o := range objs {
		uuid := strings.SplitN(strings.TrimPrefix(o.Key, naming.OnFailureKeyPrefix), "/", 2)[0]
		if sink, ok := uuids[uuid]; ok {
			bySink[sink] = append(bySink[sink], o)
		} else {
			unknown[uuid] = append(unknown[uuid], o)
		}
	}
	// A mapping replaced since (or the demo's emulated ones): the record names its function.
	for _, group := range unknown {
		sink := r.sinkOfRecord(ctx, newest(group).Key)
		bySink[sink] = append(bySink[sink], group...)
	}
	for _, sink := range append(r.d.Sinks(), "") {
		check := "on-failure " + sink
		if sink == "" {
			check = "on-failure (other functions)"
		}
		left := r.pending(bySink[sink], sink)
		if sink == "" {
			left = r.pending(bySink[sink], r.d.Sinks()...)
			if len(left) == 0 {
				continue
			}
		}
		if len(left) == 0 {
			r.rep.pass(check, "s3://%s/%s: no batch of the %s function waiting (%d redriven and kept)", r.quarBkt, naming.OnFailureKeyPrefix, sink, len(bySink[sink]))
			continue
		}
		n := newest(left)
		fix := "logfan redrive " + r.where + " -sink " + sink + " -from onfailure -dry-run   # then without -dry-run, once the cause is fixed"
		if sink == "" {
			fix = "logfan redrive " + r.where + " -sink SINK -from onfailure -function NAME   # the records name functions this stack no longer has"
		}
		r.rep.fail(check, fix, "s3://%s/%s: %d batches Lambda gave up on, not redriven, newest %s: %s", r.quarBkt, naming.OnFailureKeyPrefix, len(left), n.Key, ago(r.now, n.Modified))
	}
}

// sinkOfRecord reads an on-failure record's function and returns its sink ("" if none of the stack's).
func (r *recipient) sinkOfRecord(ctx context.Context, key string) string {
	out, err := r.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.quarBkt), Key: aws.String(key)},
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		return ""
	}
	defer out.Body.Close()
	body := make([]byte, 0, 4096)
	buf := make([]byte, 32<<10)
	for {
		n, err := out.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	rec, err := onfailure.Parse(body)
	if err != nil {
		return ""
	}
	for _, sink := range r.d.Sinks() {
		if strings.Contains(rec.RequestContext.FunctionARN, ":function:"+r.d.Functions[sink].Name) {
			return sink
		}
	}
	return ""
}

// senders evaluates the sender-health table as the watchdog does.
func (r *recipient) senders(ctx context.Context) {
	const check = "senders"
	wd := r.d.Functions[deployment.Watchdog]
	table := r.d.Output(naming.OutputHealthTable)
	if wd == nil || table == "" {
		r.rep.skip(check, "stack %s has no watchdog or health table (deployed before sender health)", r.d.Stack)
		return
	}
	env := map[string]string{}
	for k, v := range wd.Env {
		env[k] = v
	}
	if file := env[config.EnvExpectedAccountsFile]; file != "" {
		text, err := r.d.LayerFile(ctx, wd, file)
		if err != nil {
			r.rep.fail(check, "logfan senders "+r.where+" -accounts-file FILE", "the watchdog's expected accounts (%s): %v", file, err)
			return
		}
		delete(env, config.EnvExpectedAccountsFile)
		env[config.EnvExpectedAccounts] = strings.Join(append(splitList(env[config.EnvExpectedAccounts]), splitList(text)...), ",")
	}
	settings, err := health.LoadSettings(func(k string) string { return env[k] })
	if err != nil {
		r.rep.fail("watchdog", "make deploy   # the stack sets the watchdog's environment", "%s: %v", wd.Name, err)
		return
	}
	r.rep.pass("watchdog", "%s expects %s in %s (%s mode), heartbeat every %s, silent after %s", wd.Name, plural(len(settings.Accounts), "account"), strings.Join(settings.Regions, ", "), settings.Mode, settings.HeartbeatInterval, settings.SilentAfter)
	ss, days, err := health.Read(ctx, dynamohealth.New(dynamodb.NewFromConfig(r.d.Config), table), r.now, nil)
	if err != nil {
		r.rep.fail(check, "aws dynamodb describe-table --table-name "+table+" --region "+r.d.Region, "read %s: %v", table, err)
		return
	}
	rep := health.Evaluate(r.now, settings, ss, days)
	names := func(state string) []string {
		var out []string
		for _, s := range rep.Senders {
			if s.State == state {
				out = append(out, s.Name())
			}
		}
		return out
	}
	sendersCmd := "logfan senders " + r.where
	counts := fmt.Sprintf("%d senders: %d ok, %d late, %d silent, %d never seen, %d unexpected",
		len(rep.Senders), rep.Count(health.StateOK), rep.Count(health.StateLate), rep.Count(health.StateSilent), rep.Count(health.StateNeverSeen), rep.Count(health.StateUnexpected))
	switch {
	case rep.Count(health.StateSilent) > 0:
		r.rep.fail(check, sendersCmd+"   # then, in each silent sender's account: logfan doctor sender -destination "+r.d.Output(naming.OutputDestinationARN),
			"%s; silent (no heartbeat for %s): %s", counts, settings.SilentAfter, strings.Join(names(health.StateSilent), ", "))
	case rep.Count(health.StateLate)+rep.Count(health.StateNeverSeen)+rep.Count(health.StateUnexpected) > 0:
		var parts []string
		for _, st := range []string{health.StateLate, health.StateNeverSeen, health.StateUnexpected} {
			if n := names(st); len(n) > 0 {
				parts = append(parts, st+": "+strings.Join(n, ", "))
			}
		}
		r.rep.warn(check, sendersCmd, "%s; %s", counts, strings.Join(parts, "; "))
	default:
		r.rep.pass(check, "%s (table %s)", counts, table)
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
