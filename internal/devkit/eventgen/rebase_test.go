package eventgen

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/subscription"
)

func TestRebase(t *testing.T) {
	payload, err := os.ReadFile("../../../events/kinesis-poison.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC)
	out, err := Rebase(payload, now)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := invocation.Parse(payload)
	after, err := invocation.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	dec := subscription.NewDecoder(0)
	var newest int64
	for i, r := range after.Records {
		m, err := dec.Decode(r.Data)
		if err != nil {
			// Poison records are left byte-for-byte as they were.
			if !bytes.Equal(r.Data, before.Records[i].Data) {
				t.Errorf("record %d: undecodable record changed", i)
			}
			continue
		}
		if r.SequenceNumber != before.Records[i].SequenceNumber {
			t.Errorf("record %d: sequence number changed", i)
		}
		for _, e := range m.LogEvents {
			newest = max(newest, e.Timestamp)
		}
	}
	if newest != now.UnixMilli() {
		t.Errorf("newest timestamp %d, want %d", newest, now.UnixMilli())
	}
}
