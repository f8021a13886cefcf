package logssink

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink"
)

// panickyPut fakes the one call PutLogEvents with a bug that panics.
type panickyPut struct{ *cloudwatchlogs.Client }

func (panickyPut) PutLogEvents(context.Context, *cloudwatchlogs.PutLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error) {
	panic("injected bug")
}

// TestPanicReachesDeliverCaller: a panic inside a stream goroutine does not
// crash the process from that goroutine; it reaches the goroutine that
// called Deliver as a *sink.Panic with the stack where it happened, for the
// consumer's guard to turn into a retry of the whole batch.
func TestPanicReachesDeliverCaller(t *testing.T) {
	b := &sink.Batch{ShardID: "x", Records: []sink.DecodedRecord{
		msgFrom("1", "/g", "a", le("e0", 1, "fine")),
		msgFrom("1", "/g", "b", le("e1", 1, "")), // empty: undeliverable, never sent
		msgFrom("2", "/g", "c", le("e2", 1, "fine too")),
	}}
	s := New(panickyPut{fakeClient(&okTransport{})}, config.Logs{})
	var got any
	func() {
		defer func() { got = recover() }()
		res := s.Deliver(context.Background(), b)
		t.Errorf("Deliver returned %+v, want a panic", res)
	}()
	p, ok := got.(*sink.Panic)
	if !ok {
		t.Fatalf("recovered %T %v, want *sink.Panic", got, got)
	}
	if p.Value != "injected bug" || p.Error() != "injected bug" {
		t.Fatalf("panic value %v", p.Value)
	}
	// The stack is the panicking goroutine's, not that of Wait's re-panic.
	if st := string(p.Stack); !strings.Contains(st, "panickyPut.PutLogEvents") || !strings.Contains(st, "(*delivery).put") {
		t.Fatalf("stack does not show where the panic happened:\n%s", st)
	}
}
