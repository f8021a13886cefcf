package logssink

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
)

// TestPrettyExtractedFieldsPayload: CloudWatch Logs receives only the
// message, so the payload's layout must not matter: each event is one log
// event of the PutLogEvents body, its U+2028 escaped, the body the SDK's.
func TestPrettyExtractedFieldsPayload(t *testing.T) {
	m, err := prettyfields.Message()
	if err != nil {
		t.Fatal(err)
	}
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(m.LogGroup), LogStreamName: aws.String(m.LogStream)}
	for _, ev := range m.LogEvents {
		in.LogEvents = append(in.LogEvents, types.InputLogEvent{Message: aws.String(ev.Message), Timestamp: aws.Int64(ev.Timestamp)})
	}
	body, err := appendPutLogEvents(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	var sdkBody []byte
	if _, err := fakeClient(&okTransport{keep: func(b []byte) { sdkBody = b }}).PutLogEvents(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, sdkBody) {
		t.Errorf("body differs from the SDK's:\nours %s\n sdk %s", body, sdkBody)
	}
	if bytes.ContainsRune(body, '\u2028') || bytes.ContainsAny(body, "\n\r") {
		t.Errorf("raw line separator in the body: %q", body)
	}
	var got struct {
		LogEvents []struct {
			Message string `json:"message"`
		} `json:"logEvents"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.LogEvents) != len(m.LogEvents) {
		t.Fatalf("%d log events for %d events", len(got.LogEvents), len(m.LogEvents))
	}
	for i, ev := range m.LogEvents {
		if got.LogEvents[i].Message != ev.Message {
			t.Errorf("event %d: message %q, want %q", i, got.LogEvents[i].Message, ev.Message)
		}
	}
}
