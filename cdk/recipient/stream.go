package recipient

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"
)

// dataStream is the Kinesis stream the destination writes to, and its
// customer-managed key when there is one (nil with the AWS-managed key).
type dataStream struct {
	stream awskinesis.Stream
	key    awskms.IKey
}

// newDataStream creates the stream: on-demand unless provisioned with a shard
// count, always encrypted at rest.
func newDataStream(r *recipientStack) *dataStream {
	cfg := r.s.Stream
	props := &awskinesis.StreamProps{
		RetentionPeriod: awscdk.Duration_Hours(jsii.Number(float64(cfg.RetentionHours))),
		StreamMode:      awskinesis.StreamMode_ON_DEMAND,
		Encryption:      awskinesis.StreamEncryption_MANAGED,
		RemovalPolicy:   awscdk.RemovalPolicy_RETAIN,
	}
	if cfg.Mode == StreamProvisioned {
		props.StreamMode = awskinesis.StreamMode_PROVISIONED
		props.ShardCount = jsii.Number(float64(cfg.ShardCount))
	}
	d := &dataStream{}
	if cfg.Encryption == EncryptionKMS {
		if cfg.KMSKeyARN != "" {
			d.key = awskms.Key_FromKeyArn(r.stack, jsii.String("StreamKey"), jsii.String(cfg.KMSKeyARN))
		} else {
			d.key = awskms.NewKey(r.stack, jsii.String("StreamKey"), &awskms.KeyProps{
				Description:       jsii.String("logfan: encrypts the recipient Kinesis stream"),
				EnableKeyRotation: jsii.Bool(true),
				RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
			})
		}
		props.Encryption = awskinesis.StreamEncryption_KMS
		props.EncryptionKey = d.key
	}
	d.stream = awskinesis.NewStream(r.stack, jsii.String("Stream"), props)
	if d.key != nil {
		suppress(d.stream, "AwsSolutions-KDS3", "A customer-managed key is used only when streamEncryption=kms asks for one (compliance); the default is the AWS-managed key, and docs/deploy.md notes the KMS request cost.")
	}
	return d
}
