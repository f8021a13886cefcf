package logssink

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/sink"
)

// panickyPut fakes the one call PutLogEvents with a bug that panics.
type panickyPut struct{ *cloudwatchlogs.Client }

func (panickyPut) PutLogEvents(context.Context, *cloudwatchlogs.PutLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error) {
	panic("injected bug")
}

type panickyQuarantine struct{}

func (panickyQuarantine) Put(context.Context, quarantine.Entry) error { panic("injected bug") }

// TestPanicsBecomeFailures: a panic inside the sink's goroutines leaves the
// events unsent and reported through FailedAt, never crashes the function.
func TestPanicsBecomeFailures(t *testing.T) {
	b := &sink.Batch{ShardID: "x", Records: []sink.DecodedRecord{
		msgFrom("1", "/g", "a", le("e0", 1, "fine")),
		msgFrom("1", "/g", "b", le("e1", 1, "")), // empty: goes to the quarantine
	}}
	res := New(panickyPut{fakeClient(&okTransport{})}, config.Logs{}, &quarantine.Memory{}).Deliver(context.Background(), b)
	checkInvariant(t, b, res)
	if res.FailedAt != 0 || res.Delivered != 0 || !strings.Contains(res.Err.Error(), "injected bug") {
		t.Fatalf("panicking put: %+v", res)
	}
	res = New(fakeClient(&okTransport{}), config.Logs{}, panickyQuarantine{}).Deliver(context.Background(), b)
	checkInvariant(t, b, res)
	if res.FailedAt != 1 || res.Delivered != 1 || res.Quarantined != 0 || !strings.Contains(res.Err.Error(), "injected bug") {
		t.Fatalf("panicking quarantine: %+v", res)
	}
}
