package parquetrec

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/subscription"
)

// TestRoundTrip writes two files with one Writer and reads them back with
// parquet-go's reader: every field equals the record NDJSON readers get
// (record.From), optional fields null where NDJSON omits them.
func TestRoundTrip(t *testing.T) {
	m := &subscription.Message{Owner: "111111111111", LogGroup: "/aws/lambda/a", LogStream: "s\xff", SubscriptionFilters: []string{"logfan", "f\xfe"}, PolicyLevel: "ACCOUNT_LEVEL_POLICY",
		Region: "eu-west-1", HubAccount: "999999999999"}
	bare := &subscription.Message{Owner: "222222222222", LogGroup: "g", LogStream: "s"}
	events := []subscription.LogEvent{
		{ID: "1", Timestamp: 1767225600000, Message: "plain \"q\" \n ü \u2028"},
		{ID: "2", Timestamp: -5, Message: "bad \xff\xfe utf8", ExtractedFields: json.RawMessage(`{"@aws.account":"111111111111","n":5,"o":{"a":"b"}}`)},
	}
	w := NewWriter()
	for file := 0; file < 2; file++ {
		var buf bytes.Buffer
		w.Reset(&buf)
		var want []Row
		for i := 0; i < 1200; i++ { // more than one batch of rows
			msg := m
			if i%2 == 1 {
				msg = bare
			}
			ev := &events[i%2]
			if err := w.Add(msg, ev); err != nil {
				t.Fatal(err)
			}
			r := record.From(msg, ev)
			row := Row{Owner: r.Owner, LogGroup: r.LogGroup, LogStream: r.LogStream, SubscriptionFilters: r.SubscriptionFilters,
				ID: r.ID, Timestamp: r.Timestamp, Message: r.Message, PolicyLevel: r.PolicyLevel, Region: r.Region, HubAccount: r.HubAccount}
			if row.SubscriptionFilters == nil {
				row.SubscriptionFilters = []string{}
			}
			if ev.ExtractedFields != nil {
				row.ExtractedFields = &map[string]string{"@aws.account": "111111111111", "n": "5", "o": `{"a":"b"}`}
			}
			want = append(want, row)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rd := parquet.NewGenericReader[Row](bytes.NewReader(buf.Bytes()))
		got := make([]Row, rd.NumRows())
		if n, err := rd.Read(got); n != len(got) || (err != nil && err != io.EOF) {
			t.Fatalf("read %d of %d rows: %v", n, len(got), err)
		}
		if len(got) != len(want) {
			t.Fatalf("file %d: %d rows, want %d", file, len(got), len(want))
		}
		for i := range want {
			if len(got[i].SubscriptionFilters) == 0 {
				got[i].SubscriptionFilters = []string{}
			}
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("file %d row %d:\n got %+v\nwant %+v", file, i, got[i], want[i])
			}
		}
	}
}

func TestAddRejectsBadExtractedFields(t *testing.T) {
	w := NewWriter()
	w.Reset(io.Discard)
	m := &subscription.Message{Owner: "1", LogGroup: "g", LogStream: "s"}
	if err := w.Add(m, &subscription.LogEvent{ID: "x", ExtractedFields: json.RawMessage(`[1]`)}); err == nil {
		t.Fatal("an extractedFields array was accepted")
	}
}

// TestSchemaIsTheRecord holds the Parquet columns to record.Columns, with
// the physical types a Hive type of each maps to.
func TestSchemaIsTheRecord(t *testing.T) {
	fields := parquet.SchemaOf(Row{}).Fields()
	if len(fields) != len(record.Columns) {
		t.Fatalf("%d Parquet columns, %d record columns", len(fields), len(record.Columns))
	}
	for i, f := range fields {
		c := record.Columns[i]
		if f.Name() != c.Name {
			t.Errorf("column %d: Parquet %q, record %q", i, f.Name(), c.Name)
		}
		var want string
		switch {
		case c.Type == "string":
			want = "STRING"
		case c.Type == "bigint":
			want = "INT(64,TRUE)"
		case strings.HasPrefix(c.Type, "array<"):
			want = "LIST"
		case strings.HasPrefix(c.Type, "map<"):
			want = "MAP"
		}
		got := f.Type().String()
		if lt := f.Type().LogicalType(); lt != nil {
			got = lt.String()
		}
		if !strings.Contains(strings.ToUpper(got), want) {
			t.Errorf("column %s: Parquet type %s, want %s for Hive %s", c.Name, got, want, c.Type)
		}
	}
}
