package recipient

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/shared/ledger/dynamoledger"
)

// newLedgerTable creates the table of the consumers' ledger (package
// shared/ledger): what landed of a batch that ended with a retry point, so
// that its retry skips it. Entries live for the stream's retention at most
// (the functions set the TTL attribute); the table holds a few items per
// shard at any time, so on-demand capacity costs next to nothing at rest.
func newLedgerTable(r *recipientStack) awsdynamodb.Table {
	if !r.s.Dedupe {
		return nil
	}
	t := awsdynamodb.NewTable(r.stack, jsii.String("LedgerTable"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(dynamoledger.AttrKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		// Encrypted at rest with a key the account can audit in CloudTrail.
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute: jsii.String(dynamoledger.AttrExpires),
		// cdk-nag AwsSolutions-DDB3; the table is a few KB, so PITR costs next to nothing.
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		// Entries only matter while Lambda may still retry their records.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	return t
}

// grantLedger gives a consumer's role exactly the calls dynamoledger makes, on the table.
func grantLedger(r *recipientStack, role awsiam.IRole) {
	if r.ledger == nil {
		return
	}
	grant(role, []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}, r.ledger.TableArn())
}
