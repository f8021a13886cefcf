package recipient

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// quarantineMetricsFilter names the S3 request-metrics filter covering the
// whole quarantine bucket; the on-failure alarm reads its PutRequests.
const quarantineMetricsFilter = "EntireBucket"

// secureBucketProps are the properties every bucket the stack creates shares:
// no public access, TLS only, encryption at rest, owner-enforced objects,
// access logs, and a lifecycle that at least cleans up failed uploads.
func secureBucketProps(logs awss3.IBucket, logsPrefix string, rules ...*awss3.LifecycleRule) *awss3.BucketProps {
	rules = append(rules, &awss3.LifecycleRule{
		Id:                                  jsii.String("abort-incomplete-uploads"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
	})
	p := &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules:    &rules,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	}
	if logs != nil {
		p.ServerAccessLogsBucket = logs
		p.ServerAccessLogsPrefix = jsii.String(logsPrefix)
	}
	return p
}

// noncurrentVersionRule expires the old versions that overwrites and deletes
// leave in a versioned bucket, and the delete markers left alone once they
// have; none when noncurrentVersionExpirationDays is 0.
func noncurrentVersionRule(s Settings) []*awss3.LifecycleRule {
	if s.NoncurrentVersionExpirationDays == 0 {
		return nil
	}
	return []*awss3.LifecycleRule{{
		Id:                          jsii.String("expire-noncurrent-versions"),
		NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(float64(s.NoncurrentVersionExpirationDays))),
		ExpiredObjectDeleteMarker:   jsii.Bool(true),
	}}
}

// accessLogs is the bucket the other buckets' server access logs go to.
func (r *recipientStack) accessLogs() awss3.IBucket {
	if b := r.stack.Node().TryFindChild(jsii.String("AccessLogsBucket")); b != nil {
		return b.(awss3.IBucket)
	}
	b := awss3.NewBucket(r.stack, jsii.String("AccessLogsBucket"), secureBucketProps(nil, "", &awss3.LifecycleRule{
		Id:         jsii.String("expire-access-logs"),
		Expiration: awscdk.Duration_Days(jsii.Number(365)),
	}))
	suppress(b, "AwsSolutions-S1", "This bucket receives the other buckets' server access logs; logging it into itself would loop.")
	return b
}

// newQuarantineBucket creates the bucket that receives whole failed
// invocation records (the event source mappings' S3 on-failure destination)
// and, under the quarantine prefix, the items the functions quarantine.
func newQuarantineBucket(r *recipientStack) awss3.Bucket {
	q := r.s.Quarantine
	var rules []*awss3.LifecycleRule
	if q.ExpirationDays > 0 {
		rules = append(rules, &awss3.LifecycleRule{
			Id:         jsii.String("expire-failed-records"),
			Expiration: awscdk.Duration_Days(jsii.Number(float64(q.ExpirationDays))),
		})
	}
	props := secureBucketProps(r.accessLogs(), "quarantine/", append(rules, noncurrentVersionRule(r.s)...)...)
	props.Versioned = jsii.Bool(true)
	// Request metrics let an alarm fire on the first failed record written.
	props.Metrics = &[]*awss3.BucketMetrics{{Id: jsii.String(quarantineMetricsFilter)}}
	return awss3.NewBucket(r.stack, jsii.String("QuarantineBucket"), props)
}

// newDataBucket returns the bucket the S3 sink and a created Firehose stream
// write to: imported by name, created, or nil when neither needs one.
func newDataBucket(r *recipientStack) awss3.IBucket {
	s := r.s
	if !s.S3.Enabled && !(s.Firehose.Enabled && s.Firehose.StreamARN == "") {
		return nil
	}
	if s.S3.BucketName != "" {
		return awss3.Bucket_FromBucketName(r.stack, jsii.String("DataBucket"), jsii.String(s.S3.BucketName))
	}
	var rules []*awss3.LifecycleRule
	if s.S3.TransitionDays > 0 {
		rules = append(rules, &awss3.LifecycleRule{
			Id: jsii.String("infrequent-access"),
			Transitions: &[]*awss3.Transition{{
				StorageClass:    awss3.StorageClass_INFREQUENT_ACCESS(),
				TransitionAfter: awscdk.Duration_Days(jsii.Number(float64(s.S3.TransitionDays))),
			}},
		})
	}
	if s.S3.ExpirationDays > 0 {
		rules = append(rules, &awss3.LifecycleRule{
			Id:         jsii.String("expire-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(float64(s.S3.ExpirationDays))),
		})
	}
	props := secureBucketProps(r.accessLogs(), "data/", append(rules, noncurrentVersionRule(s)...)...)
	// Versioned, so that an overwrite or a delete keeps the old object for
	// noncurrentVersionExpirationDays.
	props.Versioned = jsii.Bool(true)
	if days := s.S3.ObjectLockDays; days > 0 {
		// Object Lock needs versioning, and once on it cannot be turned off
		// nor versioning suspended.
		props.ObjectLockEnabled = jsii.Bool(true)
		retention := awscdk.Duration_Days(jsii.Number(float64(days)))
		props.ObjectLockDefaultRetention = awss3.ObjectLockRetention_Governance(retention)
		if s.S3.ObjectLockMode == ObjectLockCompliance {
			props.ObjectLockDefaultRetention = awss3.ObjectLockRetention_Compliance(retention)
		}
	}
	if s.S3.KMSKeyARN != "" {
		props.Encryption = awss3.BucketEncryption_KMS
		props.EncryptionKey = awskms.Key_FromKeyArn(r.stack, jsii.String("DataKey"), jsii.String(s.S3.KMSKeyARN))
		props.BucketKeyEnabled = jsii.Bool(true)
	}
	return awss3.NewBucket(r.stack, jsii.String("DataBucket"), props)
}

// firehoseSink is the Firehose stream the firehose function writes to.
type firehoseSink struct {
	name, arn string
}

// newFirehoseSink imports the stream by ARN, or creates one delivering
// gzip-compressed objects to the data bucket. Nil when the sink is off.
func newFirehoseSink(r *recipientStack) *firehoseSink {
	s := r.s
	if !s.Firehose.Enabled {
		return nil
	}
	if s.Firehose.StreamARN != "" {
		return &firehoseSink{name: s.Firehose.StreamName(), arn: s.Firehose.StreamARN}
	}
	bucket := r.data
	prefix, errorPrefix := s.Firehose.Prefix+"/", s.Firehose.Prefix+"-errors/"

	logGroup := awslogs.NewLogGroup(r.stack, jsii.String("FirehoseDeliveryLogs"), &awslogs.LogGroupProps{
		Retention:     retentionDays(s.Function.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	logStream := awslogs.NewLogStream(r.stack, jsii.String("FirehoseDeliveryLogStream"), &awslogs.LogStreamProps{
		LogGroup:      logGroup,
		LogStreamName: jsii.String("S3Delivery"),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})

	// The stream has a fixed name so that its ARN is known before it exists:
	// the role's trust names the stream, and the stream names the role, so a
	// reference either way round would be a cycle.
	name := FirehoseStreamName(s.StackName)
	arn := r.arn("firehose", s.Region, "deliverystream/"+name)
	role := awsiam.NewRole(r.stack, jsii.String("FirehoseDeliveryRole"), &awsiam.RoleProps{
		// Confused deputy: only this stream, in this account.
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("firehose.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": s.Account, "aws:SourceArn": arn}},
		}),
		Description: jsii.String("Lets Firehose deliver logfan records to the data bucket"),
	})
	// The S3 permissions Firehose documents for an S3 destination, on the
	// bucket and the two prefixes it writes.
	objects := []*string{bucket.ArnForObjects(jsii.String(prefix + "*")), bucket.ArnForObjects(jsii.String(errorPrefix + "*"))}
	grant(role, []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}, bucket.BucketArn())
	grant(role, []string{"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"}, objects...)
	grant(role, []string{"logs:PutLogEvents"}, jsii.String(r.arn("logs", s.Region, "log-group:"+*logGroup.LogGroupName()+":log-stream:"+*logStream.LogStreamName())))
	s3cfg := &awskinesisfirehose.CfnDeliveryStream_ExtendedS3DestinationConfigurationProperty{
		BucketArn:         bucket.BucketArn(),
		RoleArn:           role.RoleArn(),
		Prefix:            jsii.String(prefix),
		ErrorOutputPrefix: jsii.String(errorPrefix),
		CompressionFormat: jsii.String("GZIP"),
		BufferingHints: &awskinesisfirehose.CfnDeliveryStream_BufferingHintsProperty{
			IntervalInSeconds: jsii.Number(float64(s.Firehose.BufferSeconds)),
			SizeInMBs:         jsii.Number(float64(s.Firehose.BufferMiB)),
		},
		CloudWatchLoggingOptions: &awskinesisfirehose.CfnDeliveryStream_CloudWatchLoggingOptionsProperty{
			Enabled:       jsii.Bool(true),
			LogGroupName:  logGroup.LogGroupName(),
			LogStreamName: logStream.LogStreamName(),
		},
	}
	if s.S3.KMSKeyARN != "" {
		// Firehose uploads in parts, which needs kms:Decrypt as well.
		r.grantKMS(role, "s3", []string{"kms:GenerateDataKey", "kms:Decrypt"}, jsii.String(s.S3.KMSKeyARN))
		s3cfg.EncryptionConfiguration = &awskinesisfirehose.CfnDeliveryStream_EncryptionConfigurationProperty{
			KmsEncryptionConfig: &awskinesisfirehose.CfnDeliveryStream_KMSEncryptionConfigProperty{AwskmsKeyArn: jsii.String(s.S3.KMSKeyARN)},
		}
	}
	stream := awskinesisfirehose.NewCfnDeliveryStream(r.stack, jsii.String("FirehoseStream"), &awskinesisfirehose.CfnDeliveryStreamProps{
		DeliveryStreamName: jsii.String(name),
		DeliveryStreamType: jsii.String("DirectPut"),
		DeliveryStreamEncryptionConfigurationInput: &awskinesisfirehose.CfnDeliveryStream_DeliveryStreamEncryptionConfigurationInputProperty{
			KeyType: jsii.String("AWS_OWNED_CMK"),
		},
		ExtendedS3DestinationConfiguration: s3cfg,
	})
	// Firehose checks its role's permissions when the stream is created; the
	// GetAtt orders the role itself, this orders the grants.
	stream.Node().AddDependency(role.Node().FindChild(jsii.String("DefaultPolicy")))
	suppress(role, "AwsSolutions-IAM5", "Firehose writes objects whose keys it generates under its own prefixes; the wildcard is limited to those two prefixes of the data bucket.",
		r.nagObjects(bucket, prefix+"*"), r.nagObjects(bucket, errorPrefix+"*"))
	return &firehoseSink{name: *stream.Ref(), arn: *stream.AttrArn()}
}

// maxFirehoseNameLength is Firehose's limit on a stream name.
const maxFirehoseNameLength = 64

// FirehoseStreamName is the fixed name of the Firehose stream the stack
// creates: the stack name (cut to fit) and "-firehose".
func FirehoseStreamName(stackName string) string {
	const suffix = "-firehose"
	if len(stackName) > maxFirehoseNameLength-len(suffix) {
		stackName = stackName[:maxFirehoseNameLength-len(suffix)]
	}
	return stackName + suffix
}

// nagObjects is how cdk-nag names an object ARN pattern of bucket in appliesTo.
func (r *recipientStack) nagObjects(bucket awss3.IBucket, pattern string) string {
	if cfn, ok := bucket.Node().DefaultChild().(awss3.CfnBucket); ok && cfn != nil {
		return "Resource::<" + *r.stack.GetLogicalId(cfn) + ".Arn>/" + pattern
	}
	return "Resource::arn:" + partition(r.s.Region) + ":s3:::" + *bucket.BucketName() + "/" + pattern
}

// grantKMS allows principal actions on a KMS key only in requests service
// makes on its behalf in the stack's region (kms:ViaService), which is how
// every key the stack grants is used: Kinesis decrypting and encrypting
// stream records, S3 encrypting objects.
func (r *recipientStack) grantKMS(principal awsiam.IGrantable, service string, actions []string, keyARN *string) {
	principal.GrantPrincipal().AddToPrincipalPolicy(kmsStatement(awsiam.Effect_ALLOW, "StringEquals", viaService(service, r.s.Region), actions, keyARN))
}

// viaService is the kms:ViaService value of service in region.
func viaService(service, region string) string {
	suffix := ".amazonaws.com"
	if partition(region) == "aws-cn" {
		suffix = ".amazonaws.com.cn"
	}
	return service + "." + region + suffix
}

// kmsStatement is effect on actions on keyARN under operator kms:ViaService = via.
func kmsStatement(effect awsiam.Effect, operator, via string, actions []string, keyARN *string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect:     effect,
		Actions:    jsii.Strings(actions...),
		Resources:  &[]*string{keyARN},
		Conditions: &map[string]any{operator: map[string]any{"kms:ViaService": via}},
	})
}

// grant allows principal the exact actions on the exact resources.
func grant(principal awsiam.IGrantable, actions []string, resources ...*string) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      principal,
		Actions:      jsii.Strings(actions...),
		ResourceArns: &resources,
	})
}

// retentionDays maps a validated number of days to CDK's enum.
func retentionDays(days int) awslogs.RetentionDays {
	return map[int]awslogs.RetentionDays{
		1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
		7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
		60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
		150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
		400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
		1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
		2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
		3653: awslogs.RetentionDays_TEN_YEARS,
	}[days]
}
