package recipient

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
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

// grantLedger gives a consumer's role exactly the calls dynamoledger makes,
// on the table, in a policy of its own: added to the role's default policy
// it could push a large routed stack's policy over the inline size, into an
// overflow policy that the role's cdk-nag suppressions do not reach.
// The function depends on it, so that it never runs without it.
func grantLedger(r *recipientStack, id string, role awsiam.IRole, fn constructs.IConstruct) {
	if r.ledger == nil {
		return
	}
	p := awsiam.NewPolicy(r.stack, jsii.String(id+"LedgerPolicy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
			Resources: jsii.Strings(*r.ledger.TableArn()),
		})},
	})
	fn.Node().AddDependency(p)
}
