package ledger

import (
	"reflect"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	e := Entry{{SequenceNumber: "4959001", Units: []string{"e0-3", "t1/e5-9"}}, {SequenceNumber: "4959002", Units: []string{"e0-1"}}}
	b, err := Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b, 1<<20)
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("Unmarshal = %v, %v; want %v", got, err, e)
	}
	if _, err := Unmarshal(b, 5); err == nil {
		t.Error("an entry over maxBytes: no error")
	}
	if _, err := Unmarshal([]byte("not gzip"), 1<<20); err == nil {
		t.Error("garbage: no error")
	}
	for _, bad := range []Entry{{{SequenceNumber: ""}}, {{SequenceNumber: "1 2"}}, {{SequenceNumber: "1", Units: []string{"a b"}}}, {{SequenceNumber: "1", Units: []string{""}}}} {
		if _, err := Marshal(bad); err == nil {
			t.Errorf("Marshal(%v): no error", bad)
		}
	}
}

func TestFitKeepsAPrefix(t *testing.T) {
	var e Entry
	for i := range 200 {
		e = append(e, Record{SequenceNumber: string(rune('a'+i%26)) + string(rune('a'+i/26)), Units: []string{"e0-1"}})
	}
	all, _ := Marshal(e)
	got, b, err := Fit(e, len(all)/2)
	if err != nil || len(got) == 0 || len(got) >= len(e) || len(b) > len(all)/2 || !reflect.DeepEqual(got, e[:len(got)]) {
		t.Fatalf("Fit kept %d of %d (%d bytes, limit %d), %v", len(got), len(e), len(b), len(all)/2, err)
	}
	if back, _ := Unmarshal(b, 1<<20); !reflect.DeepEqual(back, got) {
		t.Error("Fit's encoding is not of the records it kept")
	}
	if got, _, _ := Fit(e, 1); got != nil {
		t.Errorf("nothing fits: kept %d records", len(got))
	}
}
