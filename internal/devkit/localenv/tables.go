package localenv

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/ledger/dynamoledger"
)

// CreateHealthTable creates the sender-health table as the recipient stack
// does: partition key health.AttrPK and sort key health.AttrSK (strings),
// on demand, TTL on health.AttrExpires. One that exists is left as it is.
func CreateHealthTable(ctx context.Context, c *dynamodb.Client, table string) error {
	return createTable(ctx, c, table, health.AttrExpires, health.AttrPK, health.AttrSK)
}

// CreateLedgerTable creates the ledger's table as the stack does: keyed by
// dynamoledger.AttrKey (a string), on demand, TTL on dynamoledger.AttrExpires.
// One that exists is left as it is.
func CreateLedgerTable(ctx context.Context, c *dynamodb.Client, table string) error {
	return createTable(ctx, c, table, dynamoledger.AttrExpires, dynamoledger.AttrKey)
}

// createTable creates an on-demand table keyed by string attributes (the
// partition key, then an optional sort key), waits for it and turns on TTL
// on ttl. One that exists is left as it is.
func createTable(ctx context.Context, c *dynamodb.Client, table, ttl string, keys ...string) error {
	in := &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest}
	for i, k := range keys {
		kind := ddbtypes.KeyTypeHash
		if i > 0 {
			kind = ddbtypes.KeyTypeRange
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(k), AttributeType: ddbtypes.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(k), KeyType: kind})
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
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
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(ttl), Enabled: aws.Bool(true)},
	}); err != nil {
		return fmt.Errorf("turn on TTL of table %s: %w", table, err)
	}
	return nil
}
