package dynamoledger_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/ledger/dynamoledger"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

func newStore(t *testing.T, table string, ttl time.Duration) (*dynamoledger.Store, *dynamodb.Client) {
	t.Helper()
	c := emutest.LedgerTable(t, srv, table)
	return dynamoledger.New(c, table, ttl), c
}

func TestStoreOnMoto(t *testing.T) {
	s, c := newStore(t, "ledger-roundtrip", time.Hour)
	ctx := context.Background()
	key := ledger.Key("logs", "shardId-000000000000", "49590000000000000000000000000000000000000000000000000001")
	if e, err := s.Get(ctx, key); err != nil || e != nil {
		t.Fatalf("Get of a missing key = %v, %v; want nothing", e, err)
	}
	want := ledger.Entry{
		{SequenceNumber: "49590000000000000000000000000000000000000000000000000001", Units: []string{"e0-3", "e5-150"}},
		{SequenceNumber: "49590000000000000000000000000000000000000000000000000002", Units: []string{"e0-150"}},
	}
	if err := s.Put(ctx, key, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, key)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get = %v, %v; want %v", got, err, want)
	}
	// The item expires after the TTL: DynamoDB's TTL attribute is set.
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("ledger-roundtrip"), Key: map[string]types.AttributeValue{dynamoledger.AttrKey: &types.AttributeValueMemberS{Value: key}}})
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := out.Item[dynamoledger.AttrExpires].(*types.AttributeValueMemberN)
	if !ok || exp.Value < fmt.Sprint(time.Now().Add(50*time.Minute).Unix()) {
		t.Errorf("%s = %v, want about an hour from now", dynamoledger.AttrExpires, out.Item[dynamoledger.AttrExpires])
	}
	// An item past its time is not used, even before TTL deletes it.
	expired, _ := newStore(t, "ledger-roundtrip", -time.Minute)
	if err := expired.Put(ctx, "old", want); err != nil {
		t.Fatal(err)
	}
	if e, err := s.Get(ctx, "old"); err != nil || e != nil {
		t.Errorf("Get of an expired entry = %v, %v; want nothing", e, err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if e, err := s.Get(ctx, key); err != nil || e != nil {
		t.Fatalf("Get after Delete = %v, %v", e, err)
	}
}

// An entry over the item size keeps its first records only (never a later
// record without the earlier ones) and still fits DynamoDB's 400 KB.
func TestStoreLargeEntryKeepsAPrefix(t *testing.T) {
	s, _ := newStore(t, "ledger-large", time.Hour)
	ctx := context.Background()
	var e ledger.Entry
	for i := range 60000 {
		// Distinct, poorly compressible units so the entry cannot fit.
		e = append(e, ledger.Record{SequenceNumber: fmt.Sprintf("4959%052d", i*7919), Units: []string{fmt.Sprintf("e%d-%d", i*31%97, i*31%97+1+i%1013)}})
	}
	if err := s.Put(ctx, "big", e); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || len(got) >= len(e) || !reflect.DeepEqual(got, e[:len(got)]) {
		t.Fatalf("kept %d of %d records, want a proper prefix", len(got), len(e))
	}
	t.Logf("kept %d of %d records", len(got), len(e))
}
