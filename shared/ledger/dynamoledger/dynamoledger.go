// Package dynamoledger keeps ledger entries in a DynamoDB table: one item
// per entry, keyed by the entry's key, the entry gzip-compressed in a binary
// attribute, and an expiry time that the table's TTL deletes it after.
//
// The table (created by the recipient stack) has the partition key
// AttrKey (string), on-demand capacity and TTL on AttrExpires.
package dynamoledger

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logfan/logfan/shared/ledger"
)

// Attribute names of an item.
const (
	// AttrKey is the table's partition key: ledger.Key.
	AttrKey = "pk"
	// AttrEntry is the entry as ledger.Marshal writes it.
	AttrEntry = "entry"
	// AttrExpires is the TTL attribute: when the entry may go, in Unix seconds.
	AttrExpires = "expires"
)

// MaxEntryBytes bounds an item's entry: DynamoDB items hold at most 400 KB,
// and a larger entry keeps its first records only (ledger.Fit).
const MaxEntryBytes = 350 << 10

// maxTextBytes bounds an entry's text when read back: gzip of such text
// compresses at most ~1000x, and a real entry stays far below.
const maxTextBytes = 64 << 20

// API is the DynamoDB calls the store makes; *dynamodb.Client implements it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Store is a ledger.Store in one DynamoDB table.
type Store struct {
	client API
	table  string
	ttl    time.Duration
	now    func() time.Time
}

var _ ledger.Store = (*Store)(nil)

// New returns a Store in table whose entries expire ttl after they are
// written (the stream's retention: by then Lambda can no longer re-deliver
// their records).
func New(client API, table string, ttl time.Duration) *Store {
	return &Store{client: client, table: table, ttl: ttl, now: time.Now}
}

// Get implements ledger.Store. The read is strongly consistent: the entry
// was written just before Lambda was told to retry.
func (s *Store) Get(ctx context.Context, key string) (ledger.Entry, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get %s from %s: %w", key, s.table, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	if exp, ok := out.Item[AttrExpires].(*types.AttributeValueMemberN); ok {
		// TTL deletes expired items within days, not at once: one past its
		// time is of no use (its records are out of the stream).
		if n, err := strconv.ParseInt(exp.Value, 10, 64); err == nil && n < s.now().Unix() {
			return nil, nil
		}
	}
	b, ok := out.Item[AttrEntry].(*types.AttributeValueMemberB)
	if !ok {
		return nil, fmt.Errorf("get %s from %s: item has no binary %s", key, s.table, AttrEntry)
	}
	return ledger.Unmarshal(b.Value, maxTextBytes)
}

// Put implements ledger.Store. An entry too large for an item keeps its
// first records only; the others are delivered again.
func (s *Store) Put(ctx context.Context, key string, e ledger.Entry) error {
	e, b, err := ledger.Fit(e, MaxEntryBytes)
	if err != nil {
		return err
	}
	if len(e) == 0 {
		return s.Delete(ctx, key)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table,
		Item: map[string]types.AttributeValue{
			AttrKey:     &types.AttributeValueMemberS{Value: key},
			AttrEntry:   &types.AttributeValueMemberB{Value: b},
			AttrExpires: &types.AttributeValueMemberN{Value: strconv.FormatInt(s.now().Add(s.ttl).Unix(), 10)},
		},
	})
	if err != nil {
		return fmt.Errorf("put %s to %s: %w", key, s.table, err)
	}
	return nil
}

// Delete implements ledger.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table,
		Key:       map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}},
	})
	if err != nil {
		return fmt.Errorf("delete %s from %s: %w", key, s.table, err)
	}
	return nil
}
