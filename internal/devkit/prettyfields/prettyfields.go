// Package prettyfields is the fixture for one class of bug: a subscription
// payload whose extractedFields objects are laid out over several lines and
// carry U+2028 and U+2029, which every sink must still write as one escaped
// NDJSON line per event. Check tells whether an output does.
package prettyfields

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// JSON is the decompressed payload: extractedFields pretty-printed with
// indentation, tabs and line breaks between tokens; U+2028 and U+2029 raw
// in strings of extractedFields and of a message, escaped in another
// string; quotes, backslashes and runs of spaces inside strings.
const JSON = "{\n" +
	`    "messageType": "DATA_MESSAGE",` + "\n" +
	`    "owner": "123456789012",` + "\n" +
	`    "logGroup": "/ecs/web",` + "\n" +
	`    "logStream": "web/app/4f1c",` + "\n" +
	`    "subscriptionFilters": ["ExamplePolicy"],` + "\n" +
	`    "logEvents": [` + "\n" +
	`        {` + "\n" +
	`            "id": "31953106606966983378809025079804211143289615424298221581",` + "\n" +
	`            "timestamp": 1432826855000,` + "\n" +
	"            \"message\": \"GET /a\u2028b HTTP/1.0 200\",\n" +
	`            "extractedFields": {` + "\n" +
	`                "ip": "127.0.0.1",` + "\n" +
	"                \"request\": \"GET /a\u2028b   HTTP/1.0\",\n" +
	`                "note": "line\u2029sep \"quoted\" back\\slash",` + "\n" +
	`                "nested": {` + "\n" +
	"\t\t\t\t\t\"list\": [ 1, 2.5e3, true, null ],\r\n" +
	`                    "empty": { }` + "\n" +
	`                }` + "\n" +
	`            }` + "\n" +
	`        },` + "\n" +
	`        {` + "\n" +
	`            "id": "31953106606966983378809025079804211143289615424298221582",` + "\n" +
	`            "timestamp": 1432826855001,` + "\n" +
	`            "message": "separators raw in the fields only",` + "\n" +
	"            \"extractedFields\":\t{\"a\":\"x\u2028y\u2029z\"}\n" +
	`        },` + "\n" +
	`        {` + "\n" +
	`            "id": "31953106606966983378809025079804211143289615424298221583",` + "\n" +
	`            "timestamp": 1432826855002,` + "\n" +
	`            "message": "no fields"` + "\n" +
	`        }` + "\n" +
	`    ]` + "\n" +
	"}\n"

// Compact is what each event's extractedFields must read once written:
// one line, no whitespace between tokens, U+2028 and U+2029 escaped,
// nothing else changed ("" for an event without fields).
var Compact = []string{
	`{"ip":"127.0.0.1","request":"GET /a\u2028b   HTTP/1.0","note":"line\u2029sep \"quoted\" back\\slash","nested":{"list":[1,2.5e3,true,null],"empty":{}}}`,
	`{"a":"x\u2028y\u2029z"}`,
	``,
}

// Message decodes JSON as a consumer does.
func Message() (*subscription.Message, error) {
	return subscription.NewDecoder(0).Decode(subscription.Compress([]byte(JSON)))
}

// Batch is Message as the only record of a sink batch.
func Batch() (*sink.Batch, error) {
	m, err := Message()
	if err != nil {
		return nil, err
	}
	return &sink.Batch{ShardID: "shardId-000000000000", Records: []sink.DecodedRecord{{SequenceNumber: "1", Message: m}}}, nil
}

// Test has write deliver Batch through a sink's encoder and return the
// NDJSON it wrote, and fails tb with what is wrong with that output (Check).
func Test(tb testing.TB, write func(*sink.Batch) ([]byte, error)) {
	tb.Helper()
	b, err := Batch()
	if err != nil {
		tb.Fatal(err)
	}
	ndjson, err := write(b)
	if err != nil {
		tb.Fatal(err)
	}
	if err := Check(ndjson); err != nil {
		tb.Error(err)
	}
}

// line is the part of an output record Check reads.
type line struct {
	ID              string          `json:"id"`
	Message         string          `json:"message"`
	ExtractedFields json.RawMessage `json:"extractedFields"`
}

// Check reports what is wrong with ndjson as a sink's output of Batch: it
// must hold one line per event, in order, each a JSON object with the
// event's message and its extractedFields exactly as Compact, and no raw
// U+2028 or U+2029 anywhere.
func Check(ndjson []byte) error {
	m, err := Message()
	if err != nil {
		return err
	}
	if bytes.ContainsRune(ndjson, '\u2028') || bytes.ContainsRune(ndjson, '\u2029') {
		return fmt.Errorf("raw U+2028 or U+2029 in the output: %q", ndjson)
	}
	lines := bytes.Split(bytes.TrimSuffix(ndjson, []byte("\n")), []byte("\n"))
	if len(lines) != len(m.LogEvents) {
		return fmt.Errorf("%d lines for %d events: %q", len(lines), len(m.LogEvents), ndjson)
	}
	for i, l := range lines {
		var got line
		if err := json.Unmarshal(l, &got); err != nil {
			return fmt.Errorf("line %d is not JSON: %v: %q", i, err, l)
		}
		ev := m.LogEvents[i]
		if got.ID != ev.ID || got.Message != ev.Message {
			return fmt.Errorf("line %d: id/message %q/%q, want %q/%q", i, got.ID, got.Message, ev.ID, ev.Message)
		}
		if string(got.ExtractedFields) != Compact[i] {
			return fmt.Errorf("line %d: extractedFields\n got %s\nwant %s", i, got.ExtractedFields, Compact[i])
		}
	}
	return sameValues()
}

// sameValues checks that Compact holds the values the payload sent.
func sameValues() error {
	var sent struct {
		LogEvents []struct {
			ExtractedFields any `json:"extractedFields"`
		} `json:"logEvents"`
	}
	if err := json.Unmarshal([]byte(JSON), &sent); err != nil {
		return err
	}
	for i, c := range Compact {
		var got any
		if c != "" {
			if err := json.Unmarshal([]byte(c), &got); err != nil {
				return err
			}
		}
		if !reflect.DeepEqual(got, sent.LogEvents[i].ExtractedFields) {
			return fmt.Errorf("event %d: extractedFields values %v, sent %v", i, got, sent.LogEvents[i].ExtractedFields)
		}
	}
	return nil
}
