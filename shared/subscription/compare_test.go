package subscription

import (
	"fmt"
	"testing"
)

// TestImplementationsAgree decodes the same generated records with logfan's
// decoder, the plain-stdlib baseline (compress/gzip + encoding/json into
// aws-lambda-go's CloudwatchLogsData) and the fastjson reference, and
// requires identical events. The inputs are valid UTF-8 (encoding/json
// would replace invalid bytes, which logfan deliberately does not).
func TestImplementationsAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive, on one goroutine: -race finds nothing more here; the run without -short covers it")
	}
	d := NewDecoder(0)
	var fj fastjsonDecoder
	for seed := uint64(0); seed < 12; seed++ {
		for _, fl := range []flavour{realistic, random, systemFields} {
			n := []int{0, 1, 7, 100, 1000}[seed%5]
			t.Run(fmt.Sprintf("%s/seed=%d/events=%d", fl, seed, n), func(t *testing.T) {
				data := gz(t, genPayload(seed, n, fl))
				got, err := d.Decode(data)
				if err != nil {
					t.Fatal(err)
				}
				base, err := baselineDecode(data)
				if err != nil {
					t.Fatal(err)
				}
				want := &Message{
					MessageType: base.MessageType, Owner: base.Owner, LogGroup: base.LogGroup,
					LogStream: base.LogStream, SubscriptionFilters: base.SubscriptionFilters,
					LogEvents: make([]LogEvent, len(base.LogEvents)),
				}
				for i, e := range base.LogEvents {
					want.LogEvents[i] = LogEvent{ID: e.ID, Timestamp: e.Timestamp, Message: e.Message}
				}
				if fl == systemFields {
					// Neither reference reads extractedFields or system fields.
					for i := range want.LogEvents {
						want.LogEvents[i].ExtractedFields = []byte(genSystemFields)
					}
					if n > 0 {
						want.Account, want.Region = "222222222222", "eu-west-1"
					}
				}
				if len(got.LogEvents) != n {
					t.Fatalf("decoded %d events, generated %d", len(got.LogEvents), n)
				}
				if diff := sameMessage(got, want); diff != "" {
					t.Errorf("logfan vs baseline: %s", diff)
				}
				ref, err := fj.decode(data)
				if err != nil {
					t.Fatal(err)
				}
				for i := range ref.LogEvents {
					ref.LogEvents[i].ExtractedFields = want.LogEvents[i].ExtractedFields
				}
				ref.Account, ref.Region = want.Account, want.Region
				if diff := sameMessage(got, ref); diff != "" {
					t.Errorf("logfan vs fastjson: %s", diff)
				}
			})
		}
	}
}
