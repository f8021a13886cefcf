package readback

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/logfan/logfan/shared/parquetrec"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/subscription"
)

// TestDecodeParquet reads back what the S3 sink's Parquet writer wrote:
// the records NDJSON readers get (record.From), extractedFields as an
// object of strings.
func TestDecodeParquet(t *testing.T) {
	m := &subscription.Message{Owner: "111111111111", LogGroup: "/aws/lambda/a", LogStream: "s", SubscriptionFilters: []string{"logfan"}}
	evs := []subscription.LogEvent{
		{ID: "1", Timestamp: 1767225600000, Message: "one"},
		{ID: "2", Timestamp: 1767225600001, Message: "two", ExtractedFields: json.RawMessage(`{"@aws.region":"eu-west-1","n":5}`)},
	}
	w := parquetrec.NewWriter()
	var buf bytes.Buffer
	w.Reset(&buf)
	var want []record.Event
	for i := 0; i < 1100; i++ { // more than one read of rows
		ev := &evs[i%2]
		if err := w.Add(m, ev); err != nil {
			t.Fatal(err)
		}
		r := record.From(m, ev)
		if ev.ExtractedFields != nil {
			r.ExtractedFields = json.RawMessage(`{"@aws.region":"eu-west-1","n":"5"}`)
		}
		want = append(want, r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeParquetBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %d records, first %+v; want %d, first %+v", len(got), got[0], len(want), want[0])
	}
	if _, err := DecodeParquetBytes([]byte("not parquet")); err == nil {
		t.Error("want an error for a file that is not Parquet")
	}
}
