package subscription

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestEncodeRoundTrip checks that Encode is the inverse of Decode: every
// fixture, decoded, encodes to a payload that decodes to the same Message,
// and so do hand-built Messages with every kind of string Decode can return.
func TestEncodeRoundTrip(t *testing.T) {
	d := NewDecoder(0)
	var msgs []*Message
	for _, name := range fixtureNames(t) {
		m, err := d.Decode(gz(t, readFixture(t, name)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs,
		&Message{MessageType: DataMessage, Owner: "111111111111", LogGroup: "/g\u2028", LogStream: "s\x00\"\\",
			SubscriptionFilters: []string{"a", "b\xff"}, PolicyLevel: "ACCOUNT_LEVEL_POLICY",
			LogEvents: []LogEvent{
				{ID: "1", Timestamp: -5, Message: "tab\there \"q\" \u2029 \x7f \xed\xa0\x80 <&> \b\f"},
				{ID: "2", Timestamp: 1 << 62, Message: "", ExtractedFields: json.RawMessage(`{"k":"v","n":[1,{"x":null}]}`)},
			}},
		&Message{MessageType: DataMessage, Owner: "o", LogGroup: "g", LogStream: "s", LogEvents: []LogEvent{}},
		&Message{MessageType: ControlMessage, Owner: "CloudwatchLogs", SubscriptionFilters: []string{}},
	)
	for i, m := range msgs {
		data, err := Encode(m)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		got, err := d.Decode(data)
		if err != nil {
			t.Fatalf("message %d: encoded payload does not decode: %v", i, err)
		}
		if diff := sameMessage(got, m); diff != "" {
			t.Errorf("message %d: round trip changed it: %s", i, diff)
		}
	}
}

// TestAppendJSON pins the layout: CloudWatch Logs' field order, optional
// fields only when set, empty arrays rather than null, no whitespace.
func TestAppendJSON(t *testing.T) {
	m := &Message{MessageType: DataMessage, Owner: "1", LogGroup: "g", LogStream: "s",
		LogEvents: []LogEvent{{ID: "a", Timestamp: 7, Message: "m\n", ExtractedFields: json.RawMessage("{ \"k\" :\n \"v\" }")}}}
	got, err := AppendJSON([]byte("x"), m)
	if err != nil {
		t.Fatal(err)
	}
	want := `x{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"a","timestamp":7,"message":"m\n","extractedFields":{"k":"v"}}]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	m.PolicyLevel, m.SubscriptionFilters, m.LogEvents = "ACCOUNT_LEVEL_POLICY", []string{"f"}, nil
	got, _ = AppendJSON(nil, m)
	if want := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[]}`; string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestEncodeRejectsBadExtractedFields: what Decode would refuse is not written.
func TestEncodeRejectsBadExtractedFields(t *testing.T) {
	for _, raw := range []string{`[1]`, `{"a":`, `{"a":1} x`, `"s"`, `{'a':1}`} {
		m := &Message{MessageType: DataMessage, LogEvents: []LogEvent{{ExtractedFields: json.RawMessage(raw)}}}
		_, err := Encode(m)
		if err == nil || !strings.Contains(err.Error(), "logEvents[0].extractedFields") {
			t.Errorf("%s: got %v, want an error naming the field", raw, err)
		}
	}
}

// TestCompressDeterministic: the same bytes always compress the same way
// (sample events are golden files), and Decode reads the result.
func TestCompressDeterministic(t *testing.T) {
	b := bytes.Repeat([]byte(`{"messageType":"CONTROL_MESSAGE"}`), 3)[:33]
	if !bytes.Equal(Compress(b), Compress(b)) {
		t.Fatal("Compress is not deterministic")
	}
	if _, err := NewDecoder(0).Decode(Compress([]byte("{}"))); !errors.Is(err, ErrUnknownType) && !errors.Is(err, ErrShape) {
		t.Errorf("Decode(Compress({})) = %v, want a shape error (the gzip layer is fine)", err)
	}
}
