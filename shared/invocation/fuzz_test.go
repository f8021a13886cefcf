package invocation_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/logfan/logfan/shared/invocation"
)

// FuzzParse: Parse never panics, fails only with ErrMalformed or
// ErrUnknownEvent, and what it returns survives a re-encode in the shape
// Lambda sends.
func FuzzParse(f *testing.F) {
	f.Add(readFixture(f, "kinesis_event.json"))
	f.Add(readFixture(f, "cloudwatch_logs_event.json"))
	f.Add(generate(f, 1, 3, 2).payload)
	for _, s := range []string{`{"Records":[]}`, `{"awslogs":{"data":"H4sI"}}`, `{"Records":[{"kinesis":{"sequenceNumber":"1","data":"AA=="}}]}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		inv, err := invocation.Parse(payload)
		if err != nil {
			if inv != nil || !(errors.Is(err, invocation.ErrMalformed) || errors.Is(err, invocation.ErrUnknownEvent)) {
				t.Fatalf("Parse: %v (Invocation %v)", err, inv != nil)
			}
			return
		}
		if inv.IsAWSLogs {
			b, err := json.Marshal(invocation.AWSLogsEvent(inv.AWSLogsData))
			if err != nil {
				t.Fatal(err)
			}
			again, err := invocation.Parse(b)
			if err != nil || !bytes.Equal(again.AWSLogsData, inv.AWSLogsData) {
				t.Fatalf("awslogs round trip: %v", err)
			}
			return
		}
		// Not KinesisEvent: it builds eventID from the shard and sequence
		// number, and the arrival time from a time.Time, where this checks
		// that Parse keeps whatever values the event held.
		type kinesis struct {
			SequenceNumber string  `json:"sequenceNumber"`
			PartitionKey   string  `json:"partitionKey"`
			Data           []byte  `json:"data"`
			Arrival        float64 `json:"approximateArrivalTimestamp"`
		}
		type record struct {
			EventID        string  `json:"eventID"`
			EventSourceARN string  `json:"eventSourceARN"`
			Kinesis        kinesis `json:"kinesis"`
		}
		var ev struct {
			Records []record `json:"Records"`
		}
		for _, r := range inv.Records {
			for _, s := range []string{r.EventID, r.EventSourceARN, r.SequenceNumber, r.PartitionKey} {
				if !utf8.ValidString(s) {
					return // encoding/json would not write it back byte for byte
				}
			}
			ev.Records = append(ev.Records, record{r.EventID, r.EventSourceARN, kinesis{r.SequenceNumber, r.PartitionKey, r.Data, r.ApproximateArrivalTimestamp}})
		}
		if ev.Records == nil {
			ev.Records = []record{}
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		again, err := invocation.Parse(b)
		if err != nil {
			t.Fatalf("re-encoded event does not parse: %v\n%s", err, b)
		}
		if len(again.Records) != len(inv.Records) {
			t.Fatalf("%d records, then %d", len(inv.Records), len(again.Records))
		}
		for i := range inv.Records {
			if diff := sameRecord(&again.Records[i], &inv.Records[i]); diff != "" {
				t.Fatalf("record %d: %s", i, diff)
			}
		}
	})
}
