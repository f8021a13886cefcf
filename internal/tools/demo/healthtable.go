package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logfan/logfan/shared/health"
)

// CreateHealthTable creates the sender-health table as the recipient stack
// does: partition key health.AttrPK and sort key health.AttrSK (strings),
// on demand, TTL on health.AttrExpires. One that exists is left as it is.
func CreateHealthTable(ctx context.Context, c *dynamodb.Client, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String(health.AttrPK), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(health.AttrSK), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(health.AttrPK), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(health.AttrSK), KeyType: ddbtypes.KeyTypeRange},
		},
	})
	if err != nil {
		if alreadyExists(err) {
			return nil
		}
		return fmt.Errorf("create table %s: %w", table, err)
	}
	if err := dynamodb.NewTableExistsWaiter(c).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", table, err)
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(health.AttrExpires), Enabled: aws.Bool(true)},
	}); err != nil {
		return fmt.Errorf("turn on TTL of table %s: %w", table, err)
	}
	return nil
}
