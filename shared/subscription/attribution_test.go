package subscription

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// payloadWith returns a DATA_MESSAGE with the given top-level members
// (each `"key":value`, may be empty) and events (each the members after
// id, timestamp and message).
func payloadWith(top string, events ...string) []byte {
	var b strings.Builder
	b.WriteString(`{"messageType":"DATA_MESSAGE","owner":"999999999999","logGroup":"/g","logStream":"s","subscriptionFilters":["f"]`)
	if top != "" {
		b.WriteString("," + top)
	}
	b.WriteString(`,"logEvents":[`)
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"id-%d","timestamp":%d,"message":"message %d"`, i, 1000+i, i)
		if e != "" {
			b.WriteString("," + e)
		}
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// TestDecodeSystemFields reads the source account and region wherever a
// payload may carry them, and nowhere else.
func TestDecodeSystemFields(t *testing.T) {
	const (
		a1, a2 = "111111111111", "222222222222"
		r1, r2 = "eu-west-1", "us-gov-west-1"
	)
	ef := func(members string) string { return `"extractedFields":{` + members + `}` }
	both := func(a, r string) string { return ef(`"@aws.account":"` + a + `","@aws.region":"` + r + `"`) }
	top := func(a, r string) string { return `"@aws.account":"` + a + `","@aws.region":"` + r + `"` }
	tests := []struct {
		name    string
		payload []byte
		account string
		region  string
		sources []Source // EventSources, when the events differ
	}{
		{"absent", payloadWith("", "", ef(`"ip":"10.0.0.1"`)), "", "", nil},
		{"extractedFields", payloadWith("", both(a1, r1), both(a1, r1)), a1, r1, nil},
		{"extractedFields among other fields, laid out", payloadWith("",
			"\"extractedFields\" : {\n \"ip\" : \"10.0.0.1\",\n \"@aws.region\" : \"eu-west-1\" , \"n\":{\"@aws.account\":\"333333333333\"},\n \"@aws.account\":\"111111111111\"}"), a1, r1, nil},
		{"escaped key and value", payloadWith("", ef(`"@aws\u002eregion":"eu\u002dwest-1","@aws.account":"\u0031\u0031\u0031111111111"`)), a1, r1, nil},
		{"payload top level", payloadWith(top(a1, r1), "", ef(`"ip":"x"`)), a1, r1, nil},
		{"top level after logEvents", []byte(`{"messageType":"DATA_MESSAGE","owner":"999999999999","logGroup":"/g","logStream":"s","subscriptionFilters":[],` +
			`"logEvents":[{"id":"1","timestamp":1,"message":"m"}],"@aws.region":"eu-west-1","@aws.account":"111111111111"}`), a1, r1, nil},
		{"extractedFields win over top level, field by field", payloadWith(top(a1, r1), ef(`"@aws.region":"us-gov-west-1"`)), a1, r2, nil},
		{"events of two sources", payloadWith("", both(a1, r1), both(a2, r1), both(a1, r1)), "", "",
			[]Source{{a1, r1}, {a2, r1}, {a1, r1}}},
		{"an event without, after one with", payloadWith("", both(a1, r1), ""), "", "",
			[]Source{{a1, r1}, {}}},
		{"an event without inherits the top level", payloadWith(top(a2, r2), both(a1, r1), ""), "", "",
			[]Source{{a1, r1}, {a2, r2}}},
		{"runs of sources", payloadWith("", both(a1, r1), both(a1, r1), both(a2, r1), both(a2, r1), both(a1, r1)), "", "",
			[]Source{{a1, r1}, {a1, r1}, {a2, r1}, {a2, r1}, {a1, r1}}},
		{"the same object laid out otherwise", payloadWith("", both(a1, r1), `"extractedFields":{ "@aws.account":"111111111111","@aws.region":"eu-west-1"}`, both(a1, r1)), a1, r1, nil},
		{"the same object around one without", payloadWith("", both(a1, r1), `"extractedFields":null`, both(a1, r1), ef(`"ip":"x"`), ef(`"ip":"x"`), both(a1, r1)), "", "",
			[]Source{{a1, r1}, {}, {a1, r1}, {}, {}, {a1, r1}}},
		{"the same object, then a repeated member", payloadWith("", both(a1, r1), both(a1, r1)+`,"extractedFields":{"ip":"x"}`, both(a1, r1)), "", "",
			[]Source{{a1, r1}, {}, {a1, r1}}},
		{"a repeated logEvents replaces the events", []byte(`{"messageType":"DATA_MESSAGE","owner":"999999999999","logGroup":"/g","logStream":"s","subscriptionFilters":[],` +
			`"logEvents":[{"id":"1","timestamp":1,"message":"m","extractedFields":{"@aws.region":"eu-west-1"}},{"id":"2","timestamp":1,"message":"m","extractedFields":{"@aws.region":"eu-west-1"}}],` +
			`"logEvents":[{"id":"3","timestamp":1,"message":"m","extractedFields":{"@aws.region":"us-gov-west-1"}},{"id":"4","timestamp":1,"message":"m","extractedFields":{"@aws.region":"eu-west-1"}}]}`), "", "",
			[]Source{{"", r2}, {"", r1}}},
		{"not a region", payloadWith("", ef(`"@aws.region":"EU WEST 1"`)), "", "", nil},
		{"an availability zone is not a region", payloadWith("", ef(`"@aws.region":"us-east-1a"`)), "", "", nil},
		{"not an account", payloadWith("", ef(`"@aws.account":"12345","@aws.region":"eu-west-1"`)), "", r1, nil},
		{"not strings", payloadWith(`"@aws.account":111111111111,"@aws.region":null`, ef(`"@aws.account":111111111111,"@aws.region":["eu-west-1"]`)), "", "", nil},
		{"an invalid value falls back to the top level", payloadWith(top(a1, r1), ef(`"@aws.region":"nowhere"`)), a1, r1, nil},
		{"the last member wins", payloadWith("", ef(`"@aws.region":"eu-west-1","@aws.region":"us-gov-west-1"`)), "", r2, nil},
		{"the last member wins, a number", payloadWith("", ef(`"@aws.region":"eu-west-1","@aws.region":1`)), "", "", nil},
		{"the last extractedFields wins", payloadWith("", both(a1, r1)+`,"extractedFields":{"ip":"x"}`), "", "", nil},
		{"a null extractedFields wins", payloadWith("", both(a1, r1)+`,"extractedFields":null`), "", "", nil},
		{"nested, not a member", payloadWith("", ef(`"x":{"@aws.region":"eu-west-1"},"y":["@aws.region","eu-west-1"]`)), "", "", nil},
		{"an event's own members are not read", payloadWith("", `"@aws.region":"eu-west-1"`), "", "", nil},
		{"in the message only", payloadWith("", `"x":"\"@aws.region\":\"eu-west-1\""`), "", "", nil},
	}
	d := NewDecoder(0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := d.Decode(gz(t, tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if m.Account != tt.account || m.Region != tt.region || fmt.Sprint(m.EventSources) != fmt.Sprint(tt.sources) || (m.EventSources == nil) != (tt.sources == nil) {
				t.Errorf("account %q region %q sources %v, want %q %q %v", m.Account, m.Region, m.EventSources, tt.account, tt.region, tt.sources)
			}
			// Reading the system fields spoils nothing else: every event and
			// its compacted extractedFields are what encoding/json reads.
			var ref struct {
				Owner     string
				LogEvents []struct {
					ID, Message     string
					ExtractedFields json.RawMessage
				}
			}
			if err := json.Unmarshal(tt.payload, &ref); err != nil {
				t.Fatal(err)
			}
			if m.Owner != ref.Owner || len(m.LogEvents) != len(ref.LogEvents) {
				t.Fatalf("owner %q, %d events; want %q, %d", m.Owner, len(m.LogEvents), ref.Owner, len(ref.LogEvents))
			}
			for i, e := range ref.LogEvents {
				got := m.LogEvents[i]
				if got.ID != e.ID || got.Message != e.Message {
					t.Errorf("event %d: %q %q, want %q %q", i, got.ID, got.Message, e.ID, e.Message)
				}
				if string(e.ExtractedFields) == "null" {
					e.ExtractedFields = nil
				}
				if string(got.ExtractedFields) != string(appendCompact(nil, e.ExtractedFields)) {
					t.Errorf("event %d: extractedFields %s, want %s compacted", i, got.ExtractedFields, e.ExtractedFields)
				}
				if s := m.SourceOf(i); tt.sources != nil && s != tt.sources[i] {
					t.Errorf("SourceOf(%d) = %v, want %v", i, s, tt.sources[i])
				}
			}
			// And encoding the Message writes them back where Decode reads them.
			j, err := AppendJSON(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := NewDecoder(0).Decode(gz(t, j))
			if err != nil {
				t.Fatal(err)
			}
			if diff := sameMessage(m, m2); diff != "" {
				t.Errorf("round trip: %s\n%s", diff, j)
			}
		})
	}
}

// TestValidRegion pins the shape of a region name.
func TestValidRegion(t *testing.T) {
	for _, r := range []string{"us-east-1", "eu-west-1", "us-gov-west-1", "cn-northwest-1", "ap-southeast-7", "il-central-1", "xx-newplace-12"} {
		if validRegion(r) != r {
			t.Errorf("validRegion(%q) refused it", r)
		}
	}
	for _, r := range []string{"", "us", "us-1", "us-east", "us-east-", "us-east-1a", "US-EAST-1", "us_east_1", "us--east-1", "-us-east-1", "us-east-1-", "us-east-x1",
		"eu west 1", "us-east-1\x00", strings.Repeat("a-", 16) + "1"} {
		if validRegion(r) != "" {
			t.Errorf("validRegion(%q) accepted it", r)
		}
	}
}

// TestSplit groups a message's events by source, keeping their order and
// where each came from.
func TestSplit(t *testing.T) {
	m := &Message{MessageType: DataMessage, Owner: "999999999999", LogGroup: "/g", LogStream: "s", SubscriptionFilters: []string{"f"}}
	srcs := []Source{{"111111111111", "eu-west-1"}, {"222222222222", "eu-west-1"}, {"111111111111", "eu-west-1"}, {"111111111111", "us-east-1"}, {}}
	for i := range srcs {
		m.LogEvents = append(m.LogEvents, LogEvent{ID: fmt.Sprint(i), Timestamp: int64(i), Message: fmt.Sprint("m", i)})
	}
	if Split(m) != nil {
		t.Fatal("Split of a message without EventSources is not nil")
	}
	m.EventSources = srcs
	parts := Split(m)
	want := []struct {
		src    Source
		events []int32
	}{{srcs[0], []int32{0, 2}}, {srcs[1], []int32{1}}, {srcs[3], []int32{3}}, {Source{}, []int32{4}}}
	if len(parts) != len(want) {
		t.Fatalf("%d parts, want %d", len(parts), len(want))
	}
	for k, p := range parts {
		pm := p.Message
		if pm.Account != want[k].src.Account || pm.Region != want[k].src.Region || pm.EventSources != nil ||
			pm.Owner != m.Owner || pm.LogGroup != m.LogGroup || fmt.Sprint(p.Events) != fmt.Sprint(want[k].events) {
			t.Errorf("part %d: %+v events %v, want source %v events %v", k, *pm, p.Events, want[k].src, want[k].events)
		}
		for j, i := range p.Events {
			if pm.LogEvents[j].ID != m.LogEvents[i].ID {
				t.Errorf("part %d event %d is %q, want %q", k, j, pm.LogEvents[j].ID, m.LogEvents[i].ID)
			}
		}
	}
}

// TestAttribute trusts a payload's source account only from the hub's own
// log groups: a sender cannot claim another account.
func TestAttribute(t *testing.T) {
	const hub, sender, source = "999999999999", "111111111111", "222222222222"
	tests := []struct {
		name                   string
		owner, account, hubArg string
		wantOwner, wantHub     string
	}{
		{"the hub's log group names its source", hub, source, hub, source, hub},
		{"the hub's own events", hub, hub, hub, hub, ""},
		{"the hub's log group without system fields", hub, "", hub, hub, ""},
		{"a sender claiming another account", sender, source, hub, sender, ""},
		{"a sender claiming the hub", sender, hub, hub, sender, ""},
		{"a sender naming itself", sender, sender, hub, sender, ""},
		{"no hub trusts nobody", hub, source, "", hub, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{Owner: tt.owner, Account: tt.account, Region: "eu-west-1"}
			Attribute(m, tt.hubArg)
			if m.Owner != tt.wantOwner || m.HubAccount != tt.wantHub || m.Account != tt.account || m.Region != "eu-west-1" {
				t.Errorf("owner %q hubAccount %q (account %q), want %q %q", m.Owner, m.HubAccount, m.Account, tt.wantOwner, tt.wantHub)
			}
			Attribute(m, tt.hubArg) // idempotent
			if m.Owner != tt.wantOwner || m.HubAccount != tt.wantHub {
				t.Errorf("twice: owner %q hubAccount %q", m.Owner, m.HubAccount)
			}
		})
	}
}

// TestEncodeSources writes sources where Decode reads them, the hub as the
// payload's owner, and refuses sources that cannot be written.
func TestEncodeSources(t *testing.T) {
	ev := func(ef string) LogEvent {
		e := LogEvent{ID: "1", Timestamp: 1, Message: "m"}
		if ef != "" {
			e.ExtractedFields = json.RawMessage(ef)
		}
		return e
	}
	base := Message{MessageType: DataMessage, Owner: "999999999999", LogGroup: "/g", LogStream: "s", SubscriptionFilters: []string{}}
	t.Run("from the top level", func(t *testing.T) {
		m := base
		m.LogEvents = []LogEvent{ev(""), ev(`{"ip":"x"}`)}
		m.Account, m.Region = "111111111111", "eu-west-1"
		j, err := AppendJSON(nil, &m)
		if err != nil || !strings.Contains(string(j), `"@aws.account":"111111111111","@aws.region":"eu-west-1","logEvents"`) {
			t.Fatalf("%s %v", j, err)
		}
	})
	t.Run("carried by every event", func(t *testing.T) {
		m := base
		m.LogEvents = []LogEvent{ev(`{"@aws.account":"111111111111","@aws.region":"eu-west-1"}`)}
		m.Account, m.Region = "111111111111", "eu-west-1"
		j, err := AppendJSON(nil, &m)
		if err != nil || strings.Count(string(j), "@aws.region") != 1 {
			t.Fatalf("want the fields once, in extractedFields: %s %v", j, err)
		}
	})
	t.Run("attributed to the hub's source", func(t *testing.T) {
		m := base
		m.LogEvents = []LogEvent{ev(`{"@aws.account":"111111111111","@aws.region":"eu-west-1"}`)}
		m.Account, m.Region = "111111111111", "eu-west-1"
		Attribute(&m, "999999999999")
		j, err := AppendJSON(nil, &m)
		if err != nil || !strings.Contains(string(j), `"owner":"999999999999"`) {
			t.Fatalf("want the hub as the payload's owner: %s %v", j, err)
		}
	})
	t.Run("contradicted by extractedFields", func(t *testing.T) {
		m := base
		m.LogEvents = []LogEvent{ev(`{"@aws.region":"eu-west-1"}`)}
		m.Region = "us-east-1"
		if j, err := AppendJSON(nil, &m); err == nil {
			t.Fatalf("encoded %s", j)
		}
	})
	t.Run("two sources from the top level", func(t *testing.T) {
		m := base
		m.LogEvents = []LogEvent{ev(""), ev("")}
		m.EventSources = []Source{{Region: "us-east-1"}, {Region: "eu-west-1"}}
		if j, err := AppendJSON(nil, &m); err == nil {
			t.Fatalf("encoded %s", j)
		}
	})
	t.Run("built by hand without sources", func(t *testing.T) {
		m := base
		m.LogEvents = []LogEvent{ev(`{"@aws.region":"eu-west-1"}`)}
		j, err := AppendJSON(nil, &m)
		if err != nil || strings.Count(string(j), "@aws.region") != 1 {
			t.Fatalf("%s %v", j, err)
		}
	})
}
