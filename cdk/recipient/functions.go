package recipient

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

// consumer is one sink's function (its event source mapping hangs off it).
type consumer struct {
	sink     string
	function awslambda.Function
}

// newConsumer builds sink's function the same way for every sink: Go on
// provided.al2023/arm64 from the Makefile's build/<sink>/bootstrap, JSON
// logs, its own role and log group, the sink's least-privilege grants and a
// Kinesis event source mapping with bounded retries and an S3 on-failure
// destination.
func newConsumer(r *recipientStack, sink string) *consumer {
	id := naming.FunctionLogicalID(sink)
	logGroup, role := newFunctionRole(r, sink, id)
	env := r.functionEnvironment(sink)
	layers := r.routesDelivery(sink, env)
	fn := newFunction(r, sink, id, functionParts{env: env, layers: layers, role: role, logGroup: logGroup})
	grantSink(r, sink, role)
	grantLedger(r, id, role, fn)
	if sink == r.s.HealthWriter() {
		grantHealthWrite(r, id, role, fn)
	}
	grantQuarantine(r, id, sink, role, fn)
	addEventSource(r, sink, id, fn, role)
	return &consumer{sink: sink, function: fn}
}

// newFunctionRole creates the function's log group and its own role,
// which may write that log group.
func newFunctionRole(r *recipientStack, sink, id string) (awslogs.LogGroup, awsiam.Role) {
	logGroup := awslogs.NewLogGroup(r.stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     retentionDays(r.s.Function.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// An explicit role instead of the default one: the default attaches the
	// managed AWSLambdaBasicExecutionRole, which allows every log group.
	role := awsiam.NewRole(r.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("logfan " + sink + " consumer"),
	})
	logGroup.GrantWrite(role)
	return logGroup, role
}

// functionEnvironment is sink's function's environment
// (Settings.functionEnv) naming the stack's resources.
func (r *recipientStack) functionEnvironment(sink string) map[string]*string {
	env := map[string]*string{}
	refs := envRefs{QuarantineBucket: *r.quarantine.BucketName()}
	if r.data != nil {
		refs.DataBucket = *r.data.BucketName()
	}
	if r.firehose != nil {
		refs.FirehoseStream = r.firehose.name
	}
	if r.ledger != nil {
		refs.LedgerTable = *r.ledger.TableName()
	}
	refs.HealthTable = *r.health.TableName()
	for k, v := range r.s.functionEnv(sink, refs) {
		env[k] = jsii.String(v)
	}
	return env
}

// functionParts are what a function is built from besides its code.
type functionParts struct {
	env      map[string]*string
	layers   []awslambda.ILayerVersion
	role     awsiam.Role
	logGroup awslogs.LogGroup
}

// newFunction creates sink's function: Go on provided.al2023/arm64 from
// the asset directory, with JSON logs, under the logical ID id.
func newFunction(r *recipientStack, sink, id string, parts functionParts) awslambda.Function {
	s := r.s
	fn := awslambda.NewFunction(r.stack, jsii.String(id), &awslambda.FunctionProps{
		Description:           jsii.String("logfan: delivers CloudWatch Logs subscription records from Kinesis to " + sink),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Handler:               jsii.String("bootstrap"),
		Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(s.AssetDir, s.FunctionDir(sink))), nil),
		MemorySize:            jsii.Number(float64(s.Function.MemoryMB)),
		Timeout:               awscdk.Duration_Seconds(jsii.Number(float64(s.Function.TimeoutSeconds))),
		Environment:           &parts.env,
		Layers:                &parts.layers,
		Role:                  parts.role,
		LogGroup:              parts.logGroup,
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel(s.Function.LogLevel),
		SystemLogLevelV2:      awslambda.SystemLogLevel_INFO,
	})
	// A readable logical ID that never depends on the sender list, so
	// `sam local invoke S3Function` works and onboarding never replaces it.
	fn.Node().DefaultChild().(awslambda.CfnFunction).OverrideLogicalId(jsii.String(id))
	return fn
}

// addEventSource adds the function's Kinesis event source mapping, with
// bounded retries and the S3 on-failure destination (with enhanced
// fan-out, through a stream consumer of its own).
func addEventSource(r *recipientStack, sink, id string, fn awslambda.Function, role awsiam.Role) {
	s := r.s
	c := s.Consumer
	props := &awslambdaeventsources.KinesisEventSourceProps{
		StartingPosition:        awslambda.StartingPosition(c.StartingPosition),
		BatchSize:               jsii.Number(float64(c.BatchSize)),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(float64(c.BatchWindowSeconds))),
		ParallelizationFactor:   jsii.Number(float64(c.ParallelizationFactor)),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(float64(c.RetryAttempts)),
		MaxRecordAge:            awscdk.Duration_Seconds(jsii.Number(float64(c.MaxRecordAgeSeconds))),
		ReportBatchItemFailures: jsii.Bool(true),
		OnFailure:               &s3OnFailure{bucket: r.quarantine},
	}
	if c.EnhancedFanOut {
		// A registered consumer gets its own 2 MB/s per shard instead of
		// sharing the shard's 2 MB/s with the other sinks' functions.
		sc := awskinesis.NewStreamConsumer(r.stack, jsii.String(id+"StreamConsumer"), &awskinesis.StreamConsumerProps{
			Stream:             r.stream.stream,
			StreamConsumerName: jsii.String("logfan-" + sink),
		})
		fn.AddEventSource(awslambdaeventsources.NewKinesisConsumerEventSource(sc, props))
	} else {
		fn.AddEventSource(awslambdaeventsources.NewKinesisEventSource(r.stream.stream, props))
	}
	if r.stream.key != nil {
		// The event source grants kms:Decrypt on the stream's customer key
		// without a condition; Lambda reads the stream through Kinesis, so
		// this narrows that grant to requests Kinesis makes.
		role.AddToPrincipalPolicy(kmsStatement(awsiam.Effect_DENY, "StringNotEquals", viaService("kinesis", s.Region), []string{"kms:Decrypt"}, r.stream.key.KeyArn()))
	}
}

// grantQuarantine lets sink's function write quarantine entries under its
// own prefix, and lets Lambda write the function's on-failure records,
// nothing else. Quarantine and on-failure records share one dedicated bucket.
//
// Lambda writes on-failure records with the function's execution role,
// under aws/lambda/<ESM UUID>/ (a UUID Lambda assigns when the mapping is
// created, so the role cannot name it without a cycle), and needs
// s3:PutObject and s3:ListBucket for it (kinesis-on-failure-destination).
// Requests from the function's code carry lambda:SourceFunctionArn; calls
// Lambda makes outside the execution environment with the same role, such
// as these, do not (permissions-source-function-arn). So both grants hold
// only when that key is absent: the function's code, or its leaked
// credentials, can neither forge on-failure records nor list the bucket.
// An s3:prefix condition on ListBucket would add nothing the code could
// use, and could refuse Lambda's own check of the bucket (a HeadBucket
// carries no prefix), losing the records it was about to keep.
//
// The statements sit in a policy of their own, with their suppression: in
// the role's default policy CDK could move them to an overflow policy
// that the role's cdk-nag suppressions do not reach (see grantLedger). The
// function depends on it, so it never runs (nor Lambda writes its
// on-failure records) without it.
func grantQuarantine(r *recipientStack, id, sink string, role awsiam.IRole, fn constructs.IConstruct) {
	own := config.SinkQuarantinePrefix(r.s.Quarantine.Prefix, sink) + "/*"
	onFailure := naming.OnFailureKeyPrefix + "*"
	lambdaOnly := &map[string]any{"Null": map[string]any{"lambda:SourceFunctionArn": "true"}}
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("s3:PutObject"),
			Resources: jsii.Strings(*r.quarantine.ArnForObjects(jsii.String(own))),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("s3:PutObject"),
			Resources:  jsii.Strings(*r.quarantine.ArnForObjects(jsii.String(onFailure))),
			Conditions: lambdaOnly,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("s3:ListBucket"),
			Resources:  jsii.Strings(*r.quarantine.BucketArn()),
			Conditions: lambdaOnly,
		}),
	}
	if r.s.Quarantine.KMSKeyARN != "" {
		// Only the function's entries use the key; Lambda's on-failure
		// records get the bucket's default encryption.
		statements = append(statements, kmsStatement(awsiam.Effect_ALLOW, "StringEquals", viaService("s3", r.s.Region), []string{"kms:GenerateDataKey"}, jsii.String(r.s.Quarantine.KMSKeyARN)))
	}
	p := awsiam.NewPolicy(r.stack, jsii.String(id+"QuarantinePolicy"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: &statements,
	})
	fn.Node().AddDependency(p)
	suppress(p, "AwsSolutions-IAM5", "Quarantine entries are named per shard, record and event at run time under this function's own prefix ("+own+
		"); Lambda names on-failure records under aws/lambda/<mapping UUID>/, a UUID assigned after the role exists, and that grant holds only for Lambda's own requests (no lambda:SourceFunctionArn), never for the function's code.",
		r.nagObjects(r.quarantine, own), r.nagObjects(r.quarantine, onFailure))
}

// grantSink gives sink's function exactly what its sink writes, on each of
// its targets (the default one, or those the routes name) and nothing else.
func grantSink(r *recipientStack, sink string, role awsiam.IRole) {
	s := r.s
	var resources []*string
	var nag []string
	seen := map[string]bool{}
	add := func(arn *string, nagName string) {
		if !seen[*arn] {
			seen[*arn] = true
			resources = append(resources, arn)
			nag = append(nag, nagName)
		}
	}
	targets := s.sinkTargets(sink)
	switch sink {
	case config.SinkS3:
		for _, t := range targets {
			add(r.data.ArnForObjects(jsii.String(t.Prefix+"/*")), r.nagObjects(r.data, t.Prefix+"/*"))
		}
		if len(resources) == 0 {
			return
		}
		// The sink writes each object with one PutObject (shared/sink/s3sink).
		grant(role, []string{"s3:PutObject"}, resources...)
		suppress(role, "AwsSolutions-IAM5", "The S3 sink names objects by partition, shard, and first and last events under its prefix, which are not known at deploy time; the wildcard is limited to that prefix.", nag...)
		if s.S3.KMSKeyARN != "" {
			// One PutObject per object, never a read or a multipart upload:
			// encrypting needs a data key, not kms:Decrypt.
			r.grantKMS(role, "s3", []string{"kms:GenerateDataKey"}, jsii.String(s.S3.KMSKeyARN))
		}
	case config.SinkFirehose:
		for _, t := range targets {
			arn := r.firehose.arn
			if t.Stream != "" && t.Stream != s.Firehose.StreamName() {
				arn = r.arn("firehose", s.Region, "deliverystream/"+t.Stream)
			}
			add(jsii.String(arn), "")
		}
		if len(resources) > 0 {
			grant(role, []string{"firehose:PutRecordBatch"}, resources...)
		}
	case config.SinkLogs:
		// Log groups are created on demand from the template, in the target
		// region; the grant covers exactly the template's literal prefix.
		for _, t := range targets {
			group := r.arn("logs", t.Region, "log-group:"+groupPrefix(t.GroupTemplate)+"*")
			add(jsii.String(group), "Resource::"+group)
			add(jsii.String(group+":log-stream:*"), "Resource::"+group+":log-stream:*")
		}
		if len(resources) == 0 {
			return
		}
		grant(role, []string{"logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:CreateLogStream", "logs:PutLogEvents"}, resources...)
		suppress(role, "AwsSolutions-IAM5", "Target log groups are named per sender and source log group at run time; the wildcard is limited to the template's literal prefix in the target region.", nag...)
	}
}

// s3OnFailure is an S3 on-failure destination without the read-write grant
// that CDK's S3OnFailureDestination adds; newConsumer grants exactly what
// Lambda needs. S3 is the only destination that keeps the whole records.
type s3OnFailure struct {
	bucket awss3.IBucket
}

// Bind implements awslambda.IEventSourceDlq.
func (d *s3OnFailure) Bind(_ awslambda.IEventSourceMapping, _ awslambda.IFunction) *awslambda.DlqDestinationConfig {
	return &awslambda.DlqDestinationConfig{Destination: d.bucket.BucketArn()}
}
