// Package dynamohealth keeps sender health (package health) in the DynamoDB
// table the recipient stack creates: it writes the consumers' aggregates
// and reads them back for the watchdog and `logfan senders`.
//
// Each write is one UpdateItem: ADD for the counters (so that several
// function instances add up), and a SET of the last-seen time under the
// condition that it only raises it. When another instance has written a
// later time already, the condition fails and the counters are added
// alone (a second write, rare: only when instances race on one key).
package dynamohealth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logfan/logfan/shared/health"
)

// API is the DynamoDB calls the store makes; *dynamodb.Client implements it.
type API interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store is sender health in one DynamoDB table.
type Store struct {
	client API
	table  string
}

var _ health.Writer = (*Store)(nil)

// New returns a Store in table.
func New(client API, table string) *Store { return &Store{client: client, table: table} }

// Table is the table's name.
func (s *Store) Table() string { return s.table }

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// WriteSender implements health.Writer.
func (s *Store) WriteSender(ctx context.Context, u health.SenderUpdate) error {
	key := map[string]types.AttributeValue{health.AttrPK: str(health.SendersPK), health.AttrSK: str(health.SenderSK(u.Account, u.Region))}
	expires := time.UnixMilli(u.LastHeartbeat).Add(health.SenderRetention).Unix()
	err := s.update(ctx, key,
		"ADD #n :n SET #a = :a, #r = :r, #x = :x, #l = :t",
		map[string]string{"#n": health.AttrHeartbeats, "#a": health.AttrAccount, "#r": health.AttrRegion, "#x": health.AttrExpires, "#l": health.AttrLastHeartbeat},
		map[string]types.AttributeValue{":n": num(u.Heartbeats), ":a": str(u.Account), ":r": str(u.Region), ":x": num(expires), ":t": num(u.LastHeartbeat)},
		true)
	if isConditionFailed(err) {
		// A later heartbeat is recorded already (another instance): add the count alone.
		err = s.update(ctx, key, "ADD #n :n", map[string]string{"#n": health.AttrHeartbeats}, map[string]types.AttributeValue{":n": num(u.Heartbeats)}, false)
	}
	if err != nil {
		return fmt.Errorf("record heartbeats of %s in %q in table %s: %w", u.Account, u.Region, s.table, err)
	}
	return nil
}

// WriteLogGroup implements health.Writer.
func (s *Store) WriteLogGroup(ctx context.Context, u health.LogGroupUpdate) error {
	key := map[string]types.AttributeValue{health.AttrPK: str(health.DayPK(u.Day)), health.AttrSK: str(health.LogGroupSK(u.Account, u.Region, u.LogGroup))}
	day, err := time.Parse(health.DayLayout, u.Day)
	if err != nil {
		return fmt.Errorf("log group %s of %s: day %q: %w", u.LogGroup, u.Account, u.Day, err)
	}
	counters := map[string]types.AttributeValue{":e": num(u.Events), ":b": num(u.Bytes)}
	names := map[string]string{"#e": health.AttrEvents, "#b": health.AttrBytes, "#a": health.AttrAccount, "#r": health.AttrRegion, "#g": health.AttrLogGroup, "#d": health.AttrDay, "#x": health.AttrExpires}
	values := map[string]types.AttributeValue{":a": str(u.Account), ":r": str(u.Region), ":g": str(u.LogGroup), ":d": str(u.Day), ":x": num(day.Add(health.DayRetention).Unix())}
	for k, v := range counters {
		values[k] = v
	}
	expr := "ADD #e :e, #b :b SET #a = :a, #r = :r, #g = :g, #d = :d, #x = :x"
	if u.LastEvent > 0 {
		expr += ", #l = :t"
		names["#l"] = health.AttrLastEvent
		values[":t"] = num(u.LastEvent)
	}
	err = s.update(ctx, key, expr, names, values, u.LastEvent > 0)
	if isConditionFailed(err) {
		err = s.update(ctx, key, "ADD #e :e, #b :b", map[string]string{"#e": health.AttrEvents, "#b": health.AttrBytes}, counters, false)
	}
	if err != nil {
		return fmt.Errorf("record traffic of log group %s of %s in %q on %s in table %s: %w", u.LogGroup, u.Account, u.Region, u.Day, s.table, err)
	}
	return nil
}

// update is one UpdateItem; raise adds the condition that "#l" is absent
// or not later than ":t", so that a last-seen time only ever goes up.
func (s *Store) update(ctx context.Context, key map[string]types.AttributeValue, expr string, names map[string]string, values map[string]types.AttributeValue, raise bool) error {
	in := &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key, UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}
	if raise {
		in.ConditionExpression = aws.String("attribute_not_exists(#l) OR #l <= :t")
	}
	_, err := s.client.UpdateItem(ctx, in)
	return err
}

func isConditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// Senders reads every sender item.
func (s *Store) Senders(ctx context.Context) ([]health.Sender, error) {
	items, err := s.query(ctx, health.SendersPK)
	if err != nil {
		return nil, fmt.Errorf("read the senders from table %s: %w", s.table, err)
	}
	out := make([]health.Sender, 0, len(items))
	for _, it := range items {
		out = append(out, health.Sender{
			Account: getS(it, health.AttrAccount), Region: getS(it, health.AttrRegion),
			LastHeartbeat: getTime(it, health.AttrLastHeartbeat), Heartbeats: getN(it, health.AttrHeartbeats),
		})
	}
	return out, nil
}

// LogGroupDays reads the log-group items of one UTC day (health.DayLayout).
func (s *Store) LogGroupDays(ctx context.Context, day string) ([]health.LogGroupDay, error) {
	items, err := s.query(ctx, health.DayPK(day))
	if err != nil {
		return nil, fmt.Errorf("read the log groups of %s from table %s: %w", day, s.table, err)
	}
	out := make([]health.LogGroupDay, 0, len(items))
	for _, it := range items {
		out = append(out, health.LogGroupDay{
			Account: getS(it, health.AttrAccount), Region: getS(it, health.AttrRegion), LogGroup: getS(it, health.AttrLogGroup),
			Day: getS(it, health.AttrDay), LastEvent: getTime(it, health.AttrLastEvent),
			Events: getN(it, health.AttrEvents), Bytes: getN(it, health.AttrBytes),
		})
	}
	return out, nil
}

// query reads every item of one partition, page by page.
func (s *Store) query(ctx context.Context, pk string) ([]map[string]types.AttributeValue, error) {
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": health.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	})
	var items []map[string]types.AttributeValue
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		items = append(items, page.Items...)
	}
	return items, nil
}

func getS(it map[string]types.AttributeValue, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it map[string]types.AttributeValue, k string) int64 {
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err == nil {
			return n
		}
	}
	return 0
}

func getTime(it map[string]types.AttributeValue, k string) time.Time {
	if ms := getN(it, k); ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}
