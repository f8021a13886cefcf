package sink

import (
	"fmt"
	"testing"

	"github.com/logfan/logfan/shared/subscription"
)

func TestEventsKey(t *testing.T) {
	from, to, ok := ParseEventsKey(EventsKey(3, 17))
	if !ok || from != 3 || to != 17 {
		t.Fatalf("round trip: %d %d %v", from, to, ok)
	}
	for _, bad := range []string{"", "e", "e3", "e3-3", "e5-2", "e-1-2", "x3-4", "t1/e0-1", "e1-x"} {
		if _, _, ok := ParseEventsKey(bad); ok {
			t.Errorf("ParseEventsKey(%q) accepted", bad)
		}
	}
}

// Landing reports runs of events in the record's own numbering, also when
// some of its events were left out of the Message (Origin).
func TestLandingUnits(t *testing.T) {
	evs := func(n int) []subscription.LogEvent { return make([]subscription.LogEvent, n) }
	b := &Batch{Records: []DecodedRecord{
		{SequenceNumber: "1", Message: &subscription.Message{LogEvents: evs(4)}},
		{SequenceNumber: "2", Message: &subscription.Message{LogEvents: evs(5)}},
		// Events 0, 1, 4, 5, 6 of the record as it is in the stream.
		{SequenceNumber: "3", Message: &subscription.Message{LogEvents: evs(5)}, Origin: []int32{0, 1, 4, 5, 6}},
	}}
	l := NewLanding(b, 1)
	l.Add(b, 0, 0) // before the Landing's first record: ignored
	for _, e := range []int{0, 1, 3} {
		l.Add(b, 1, e)
	}
	for _, e := range []int{1, 2, 3} { // stream events 1, 4, 5
		l.Add(b, 2, e)
	}
	got := fmt.Sprint(l.Units(b))
	if want := "[{1 e0-2} {1 e3-4} {2 e1-2} {2 e4-6}]"; got != want {
		t.Fatalf("Units = %s, want %s", got, want)
	}
}
