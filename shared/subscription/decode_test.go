package subscription

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the decoder's output")

// TestDecodeFixtures decodes every fixture and compares it with its golden
// file; the fixtures include AWS's documented example payloads.
func TestDecodeFixtures(t *testing.T) {
	d := NewDecoder(0)
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			m, err := d.Decode(gz(t, readFixture(t, name)))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(m); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("decoded %s differs from %s:\n%s", name, path, got.Bytes())
			}
		})
	}
}

// TestDecodeDocumentedExamples pins the facts of AWS's examples explicitly,
// so a wrong golden file cannot hide a wrong decoder.
func TestDecodeDocumentedExamples(t *testing.T) {
	d := NewDecoder(0)
	tests := []struct {
		fixture             string
		typ, owner, group   string
		policy              string
		events              int
		firstID, firstMsg   string
		firstTS             int64
		control, extraction bool
	}{
		{"aws_data_message.json", DataMessage, "111111111111", "CloudTrail/logs", "", 3,
			"3195310660696698337880902507980421114328961542429EXAMPLE", `{"eventVersion":"1.03","userIdentity":{"type":"Root"}`, 1432826855000, false, false},
		{"aws_account_level_policy.json", DataMessage, "123456789012", "Example1", "ACCOUNT_LEVEL_POLICY", 3,
			"31953106606966983378809025079804211143289615424298221568", `{"eventVersion":"1.03","userIdentity":{"type":"Root"}`, 1432826855000, false, false},
		{"aws_control_message.json", ControlMessage, "CloudwatchLogs", "", "", 0, "", "", 0, true, false},
		{"aws_lambda_example.json", DataMessage, "123456789012", "/aws/lambda/echo-nodejs", "", 1,
			"34622316099697884706540976068822859012661220141643892546",
			"REPORT RequestId: 6234bffe-149a-b642-81ff-2e8e376d8aff\tDuration: 46.84 ms\tBilled Duration: 47 ms \tMemory Size: 192 MB\tMax Memory Used: 72 MB\t\n",
			1552518348220, false, false},
		{"extracted_fields.json", DataMessage, "123456789012", "/ecs/web", "ACCOUNT_LEVEL_POLICY", 3,
			"31953106606966983378809025079804211143289615424298221571",
			`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`, 1432826855000, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			m, err := d.Decode(gz(t, readFixture(t, tt.fixture)))
			if err != nil {
				t.Fatal(err)
			}
			if m.MessageType != tt.typ || m.Owner != tt.owner || m.LogGroup != tt.group || m.PolicyLevel != tt.policy {
				t.Errorf("got type/owner/group/policy %q/%q/%q/%q", m.MessageType, m.Owner, m.LogGroup, m.PolicyLevel)
			}
			if m.IsControl() != tt.control || len(m.LogEvents) != tt.events {
				t.Fatalf("IsControl=%v with %d events, want %v with %d", m.IsControl(), len(m.LogEvents), tt.control, tt.events)
			}
			if tt.events > 0 {
				ev := m.LogEvents[0]
				if ev.ID != tt.firstID || ev.Message != tt.firstMsg || ev.Timestamp != tt.firstTS {
					t.Errorf("first event %#v", ev)
				}
			}
			if tt.extraction {
				want := `{"ip":"127.0.0.1","user":"frank","request":"GET /apache_pb.gif HTTP/1.0","status_code":"200","bytes":"1534"}`
				if got := string(m.LogEvents[0].ExtractedFields); got != want {
					t.Errorf("extractedFields = %s, want the object compacted %s", got, want)
				}
				if m.LogEvents[1].ExtractedFields != nil {
					t.Errorf("null extractedFields = %q, want nil", m.LogEvents[1].ExtractedFields)
				}
				if !json.Valid(m.LogEvents[2].ExtractedFields) {
					t.Errorf("nested extractedFields not valid JSON: %s", m.LogEvents[2].ExtractedFields)
				}
			} else if tt.events > 0 && m.LogEvents[0].ExtractedFields != nil {
				t.Errorf("extractedFields = %s, want nil when absent", m.LogEvents[0].ExtractedFields)
			}
		})
	}
}

func TestDecodeControlMessage(t *testing.T) {
	d := NewDecoder(0)
	for _, payload := range []string{
		`{"messageType":"CONTROL_MESSAGE"}`,
		`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`,
		`{"logEvents":[],"owner":null,"messageType":"CONTROL_MESSAGE"}`,
	} {
		m, err := d.Decode(gz(t, []byte(payload)))
		if err != nil {
			t.Fatalf("%s: %v", payload, err)
		}
		if !m.IsControl() || m.LogEvents != nil {
			t.Errorf("%s: IsControl=%v events=%v, want a control message without events", payload, m.IsControl(), m.LogEvents)
		}
	}
}

// decodeErrorCase is one bad input and the error it must give.
type decodeErrorCase struct {
	name   string
	data   []byte
	kind   error
	detail string // substring of the error text
}

func TestDecodeErrors(t *testing.T) {
	valid := readFixture(t, "aws_account_level_policy.json")
	good := gz(t, valid)
	withCRC := func(mutate func(b []byte)) []byte {
		b := bytes.Clone(good)
		mutate(b)
		return b
	}
	event := func(fields string) []byte {
		return gz(t, []byte(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[`+fields+`]}`))
	}
	msg := func(fields string) []byte { return gz(t, []byte(`{`+fields+`}`)) }
	const okEvent = `{"id":"1","timestamp":1,"message":"m"}`
	var zl bytes.Buffer
	zw := zlib.NewWriter(&zl)
	if _, err := zw.Write(valid); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	tests := []decodeErrorCase{
		// Not gzip.
		{"empty input", nil, ErrNotGzip, "empty input"},
		{"plain JSON", valid, ErrNotGzip, "input starts with 7b0a2020..., want 1f8b"},
		{"zlib stream", zl.Bytes(), ErrNotGzip, "want 1f8b"},
		{"second magic byte wrong", []byte{0x1f, 0x00, 0x08}, ErrNotGzip, "1f0008"},
		// Truncated or corrupt gzip.
		{"only the first magic byte", []byte{0x1f}, ErrTruncated, "gzip member 1"},
		{"header cut", good[:7], ErrTruncated, "gzip member 1"},
		{"trailer cut", good[:len(good)-3], ErrTruncated, "gzip member 1"},
		{"not deflate", withCRC(func(b []byte) { b[2] = 7 }), ErrCorruptGzip, "bad header of gzip member 1"},
		{"reserved flag bits", withCRC(func(b []byte) { b[3] = 0xe0 }), ErrCorruptGzip, "bad header"},
		{"invalid deflate block type", withCRC(func(b []byte) { b[10] = 0xff }), ErrCorruptGzip, "invalid deflate data"},
		{"CRC mismatch", withCRC(func(b []byte) { b[len(b)-8] ^= 1 }), ErrCorruptGzip, "CRC-32 or size check"},
		{"size mismatch", withCRC(func(b []byte) { b[len(b)-4] ^= 1 }), ErrCorruptGzip, "CRC-32 or size check"},
		{"trailing garbage", append(bytes.Clone(good), "garbage"...), ErrCorruptGzip, "7 bytes of trailing data after gzip member 1"},
		{"trailing zero padding", append(bytes.Clone(good), 0, 0, 0, 0), ErrCorruptGzip, "trailing data"},
		{"second member cut", append(bytes.Clone(good), good[:12]...), ErrTruncated, "gzip member 2"},
		{"second member corrupt", append(bytes.Clone(good), withCRC(func(b []byte) { b[len(b)-8] ^= 1 })...), ErrCorruptGzip, "gzip member 2"},
		// Not JSON.
		{"empty payload", gz(t, nil), ErrNotJSON, "holds no JSON value"},
		{"whitespace payload", gz(t, []byte(" \n\t ")), ErrNotJSON, "holds no JSON value"},
		{"text payload", gz(t, []byte("hello")), ErrNotJSON, "unexpected 'h' at offset 0"},
		{"truncated JSON", gz(t, valid[:len(valid)/2]), ErrNotJSON, "unexpected end of data"},
		{"trailing data after object", gz(t, append(bytes.Clone(valid), " x"...)), ErrNotJSON, "trailing data after the JSON value"},
		{"two objects", gz(t, append(bytes.Clone(valid), valid...)), ErrNotJSON, "trailing data"},
		{"raw newline in string", event(`{"id":"1","timestamp":1,"message":"a` + "\n" + `b"}`), ErrNotJSON, "byte 0x0a"},
		{"invalid escape", event(`{"id":"1","timestamp":1,"message":"\x41"}`), ErrNotJSON, "valid escape"},
		{"short unicode escape", event(`{"id":"1","timestamp":1,"message":"\u12"}`), ErrNotJSON, "four hex digits"},
		{"bad second half of a pair", event(`{"id":"1","timestamp":1,"message":"\ud83d\uzzzz"}`), ErrNotJSON, "four hex digits"},
		{"trailing comma in array", event(okEvent + `,`), ErrNotJSON, "want a JSON value"},
		{"trailing comma in object", event(`{"id":"1","timestamp":1,"message":"m",}`), ErrNotJSON, "want a string key"},
		{"missing colon", msg(`"messageType" "DATA_MESSAGE"`), ErrNotJSON, "want ':'"},
		{"unquoted key", msg(`messageType:"x"`), ErrNotJSON, "want a string key"},
		{"bad literal", msg(`"x":nul`), ErrNotJSON, "want null"},
		{"leading zero", event(`{"id":"1","timestamp":01,"message":"m"}`), ErrNotJSON, "',' or '}'"},
		{"bare minus", event(`{"id":"1","timestamp":-,"message":"m"}`), ErrNotJSON, "want a digit"},
		{"fraction without digits", event(`{"id":"1","timestamp":1.,"message":"m"}`), ErrNotJSON, "decimal point"},
		{"deep nesting in an unknown field", msg(`"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000)), ErrNotJSON, "nesting deeper than 10000"},
		{"not JSON beats a shape error", msg(`"messageType":1,"owner":`), ErrNotJSON, "unexpected '}' at offset 25, want a JSON value"},
		// Wrong shape.
		{"JSON null", gz(t, []byte("null")), ErrShape, "payload: want an object, got null"},
		{"JSON array", gz(t, []byte(`[{"messageType":"DATA_MESSAGE"}]`)), ErrShape, "payload: want an object, got an array"},
		{"JSON number", gz(t, []byte("42")), ErrShape, "payload: want an object, got a number"},
		{"JSON string", gz(t, []byte(`"DATA_MESSAGE"`)), ErrShape, "got a string"},
		{"empty object", msg(``), ErrShape, "missing messageType"},
		{"messageType number", msg(`"messageType":1`), ErrShape, "messageType: want a string, got a number"},
		{"messageType null", msg(`"messageType":null`), ErrShape, "messageType: want a string, got null"},
		{"DATA_MESSAGE without logEvents", msg(`"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[]`), ErrShape, "missing logEvents"},
		{"DATA_MESSAGE without owner", msg(`"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[]`), ErrShape, "missing owner"},
		{"null owner", msg(`"messageType":"DATA_MESSAGE","owner":null,"logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[]`), ErrShape, "owner: want a string, got null"},
		{"null logEvents", msg(`"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":null`), ErrShape, "logEvents: want an array of objects, got null"},
		{"owner number", msg(`"messageType":"DATA_MESSAGE","owner":111111111111`), ErrShape, "owner: want a string, got a number"},
		{"logGroup object", msg(`"logGroup":{},"messageType":"DATA_MESSAGE"`), ErrShape, "logGroup: want a string, got an object"},
		{"filters string", msg(`"messageType":"DATA_MESSAGE","subscriptionFilters":"f"`), ErrShape, "subscriptionFilters: want an array of strings, got a string"},
		{"filter element number", msg(`"messageType":"DATA_MESSAGE","subscriptionFilters":["a",2]`), ErrShape, "subscriptionFilters[1]: want a string, got a number"},
		{"logEvents object", msg(`"messageType":"DATA_MESSAGE","logEvents":{}`), ErrShape, "logEvents: want an array of objects, got an object"},
		{"event not an object", event(okEvent + `,"x"`), ErrShape, "logEvents[1]: want an object, got a string"},
		{"timestamp string", event(okEvent + `,` + okEvent + `,` + okEvent + `,{"id":"1","timestamp":"1432826855000","message":"m"}`), ErrShape, "logEvents[3].timestamp: want a number, got a string"},
		{"timestamp null", event(`{"id":"1","timestamp":null,"message":"m"}`), ErrShape, "logEvents[0].timestamp: want a number, got null"},
		{"timestamp beyond int64", event(`{"id":"1","timestamp":9223372036854775808,"message":"m"}`), ErrShape, "logEvents[0].timestamp: 9223372036854775808 is out of range"},
		{"timestamp below int64", event(`{"id":"1","timestamp":-9223372036854775809,"message":"m"}`), ErrShape, "out of range"},
		{"timestamp float beyond int64", event(`{"id":"1","timestamp":1e19,"message":"m"}`), ErrShape, "1e19 is out of range"},
		{"timestamp overflowing float", event(`{"id":"1","timestamp":1e400,"message":"m"}`), ErrShape, "out of range"},
		{"id boolean", event(`{"id":true,"timestamp":1,"message":"m"}`), ErrShape, "logEvents[0].id: want a string or a number, got a boolean"},
		{"id null", event(`{"id":null,"timestamp":1,"message":"m"}`), ErrShape, "logEvents[0].id: want a string or a number, got null"},
		{"message number", event(`{"id":"1","timestamp":1,"message":5}`), ErrShape, "logEvents[0].message: want a string, got a number"},
		{"message array", event(`{"id":"1","timestamp":1,"message":["m"]}`), ErrShape, "got an array"},
		{"missing id", event(`{"timestamp":1,"message":"m"}`), ErrShape, "logEvents[0]: missing id"},
		{"missing timestamp", event(okEvent + `,{"id":"1","message":"m"}`), ErrShape, "logEvents[1]: missing timestamp"},
		{"missing message", event(`{"id":"1","timestamp":1}`), ErrShape, "logEvents[0]: missing message"},
		{"extractedFields array", event(`{"id":"1","timestamp":1,"message":"m","extractedFields":[]}`), ErrShape, "logEvents[0].extractedFields: want an object, got an array"},
		{"extractedFields string", event(`{"id":"1","timestamp":1,"message":"m","extractedFields":"{}"}`), ErrShape, "want an object, got a string"},
		{"control message with a bad event", msg(`"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","message":"m"}]`), ErrShape, "logEvents[0]: missing timestamp"},
		// Unknown type.
		{"unknown messageType", msg(`"messageType":"HEALTH_MESSAGE"`), ErrUnknownType, `"HEALTH_MESSAGE"`},
		{"lowercase messageType", msg(`"messageType":"data_message"`), ErrUnknownType, `"data_message"`},
		{"unknown type beats shape", msg(`"owner":5,"messageType":"V2_MESSAGE"`), ErrUnknownType, `"V2_MESSAGE"`},
	}
	d := NewDecoder(0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDecodeError(t, d, tt)
		})
	}
	// The decoder is still good after all of that.
	if _, err := d.Decode(good); err != nil {
		t.Fatalf("valid payload after errors: %v", err)
	}
}

func checkDecodeError(t *testing.T, d *Decoder, tt decodeErrorCase) {
	t.Helper()
	m, err := d.Decode(tt.data)
	if err == nil {
		t.Fatalf("Decode succeeded with %+v, want %v", m, tt.kind)
	}
	if m != nil {
		t.Errorf("Decode returned a Message with its error")
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %T %v is not a *DecodeError", err, err)
	}
	if !errors.Is(err, tt.kind) || de.Kind != tt.kind {
		t.Errorf("error %q has kind %v, want %v", err, de.Kind, tt.kind)
	}
	if !strings.Contains(err.Error(), tt.detail) {
		t.Errorf("error %q does not say %q", err, tt.detail)
	}
	if !strings.HasPrefix(err.Error(), tt.kind.Error()) {
		t.Errorf("error %q does not start with its kind", err)
	}
}

// TestDecodeTruncatedEverywhere cuts valid payloads at every byte (a small
// one) and at many points (a multi-block one): each cut is ErrTruncated.
func TestDecodeTruncatedEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive, on one goroutine: -race finds nothing more here; the run without -short covers it")
	}
	d := NewDecoder(0)
	small := gz(t, readFixture(t, "extracted_fields.json"))
	big := gz(t, genPayload(7, 2000, random))
	for _, c := range []struct {
		name string
		data []byte
		step int
	}{{"small", small, 1}, {"multi-block", big, len(big)/100 + 1}} {
		for cut := 1; cut < len(c.data); cut += c.step {
			_, err := d.Decode(c.data[:cut])
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s cut at %d of %d: %v, want %v", c.name, cut, len(c.data), err, ErrTruncated)
			}
		}
	}
}

// TestDecodeSizeCap checks the gzip-bomb defence: the cap is exact, and a
// bomb never grows the buffer past cap+1 bytes.
func TestDecodeSizeCap(t *testing.T) {
	payload := readFixture(t, "aws_data_message.json")
	n := int64(len(payload))
	data := gz(t, payload)

	if _, err := NewDecoder(n).Decode(data); err != nil {
		t.Errorf("payload of exactly the cap: %v", err)
	}
	checkDecodeError(t, NewDecoder(n-1), decodeErrorCase{data: data, kind: ErrTooLarge, detail: "more than"})

	const limit = 1 << 20
	bomb := gz(t, make([]byte, 8<<20)) // 8 MiB of zeros, about 8 KiB of gzip
	d := NewDecoder(limit)
	checkDecodeError(t, d, decodeErrorCase{data: bomb, kind: ErrTooLarge, detail: "more than 1048576 bytes"})
	if c := cap(d.buf); c > limit+1 {
		t.Errorf("bomb grew the buffer to %d bytes, cap is %d", c, limit)
	}

	// A trailer that claims 4 GiB must not make the decoder allocate it.
	liar := bytes.Clone(data)
	binary.LittleEndian.PutUint32(liar[len(liar)-4:], math.MaxUint32)
	d = NewDecoder(0)
	checkDecodeError(t, d, decodeErrorCase{data: liar, kind: ErrCorruptGzip, detail: "size check"})
	if c := cap(d.buf); c > len(liar)*hintRatio+4096 {
		t.Errorf("lying size trailer made a %d-byte buffer", c)
	}
}

func TestDecodeConcatenatedMembers(t *testing.T) {
	payload := readFixture(t, "aws_lambda_example.json")
	half := len(payload) / 2
	data := append(gz(t, payload[:half]), gz(t, payload[half:])...)
	data = append(data, gz(t, nil)...) // an empty member is still a member
	m, err := NewDecoder(0).Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.LogEvents) != 1 || m.LogGroup != "/aws/lambda/echo-nodejs" {
		t.Errorf("got %+v", m)
	}
}

// TestDecodeStrings pins unescaping against encoding/json, which agrees with
// the decoder on every escape including lone surrogates (both give U+FFFD).
func TestDecodeStrings(t *testing.T) {
	raw := readFixture(t, "escapes.json")
	m, err := NewDecoder(0).Decode(gz(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"nul":           "a\x00b",
		"solidus":       "http://example.com/x",
		"pair":          "smile \U0001F600 done",
		"bmp":           "café € \u2028",
		"lone-high":     "x\uFFFDy",
		"lone-low":      "x\uFFFDy",
		"high-then-bmp": "x\uFFFDAy",
		"high-at-end":   "\uFFFD",
		"short":         "\"\\/\b\f\n\r\t",
		"raw-utf8":      "café = café, 😀",
		"html":          "<script> &amp;",
	}
	var ref struct {
		LogEvents []struct{ ID, Message string }
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(m.LogEvents) != len(want) || len(ref.LogEvents) != len(want) {
		t.Fatalf("got %d events, encoding/json %d, want %d", len(m.LogEvents), len(ref.LogEvents), len(want))
	}
	for i, ev := range m.LogEvents {
		if ev.Message != want[ev.ID] {
			t.Errorf("%s: got %+q, want %+q", ev.ID, ev.Message, want[ev.ID])
		}
		if ev.Message != ref.LogEvents[i].Message {
			t.Errorf("%s: got %+q, encoding/json says %+q", ev.ID, ev.Message, ref.LogEvents[i].Message)
		}
	}
}

// TestDecodeInvalidUTF8 checks that bytes that are not UTF-8 pass through
// every kind of field untouched, next to escapes.
func TestDecodeInvalidUTF8(t *testing.T) {
	bad := []string{"\xff\xfe", "\xed\xa0\x80" /* a surrogate written raw */, "\xc3", "\xc0\xaf", "ok\xe2\x82"}
	for _, s := range bad {
		payload := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g` + s + `","logStream":"s","subscriptionFilters":["f` + s + `"],` +
			`"logEvents":[{"id":"` + s + `","timestamp":1,"message":"` + s + `\n` + s + `","extractedFields":{"k":"` + s + `"}}]}`
		m, err := NewDecoder(0).Decode(gz(t, []byte(payload)))
		if err != nil {
			t.Fatalf("%+q: %v", s, err)
		}
		ev := m.LogEvents[0]
		if m.LogGroup != "g"+s || m.SubscriptionFilters[0] != "f"+s || ev.ID != s || ev.Message != s+"\n"+s ||
			string(ev.ExtractedFields) != `{"k":"`+s+`"}` {
			t.Errorf("%+q was altered: %#v", s, m)
		}
	}
}

func TestDecodeIDs(t *testing.T) {
	m, err := NewDecoder(0).Decode(gz(t, readFixture(t, "moto_numeric_ids.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1", "2", "31953106606966983378809025079804211143289615424298221568", "-7.5e+3"}
	if len(m.LogEvents) != len(want) {
		t.Fatalf("%d events", len(m.LogEvents))
	}
	for i, w := range want {
		if m.LogEvents[i].ID != w {
			t.Errorf("event %d id %q, want the JSON text %q", i, m.LogEvents[i].ID, w)
		}
	}
}

// TestDecodeTimestamps pins the documented timestamp rules.
func TestDecodeTimestamps(t *testing.T) {
	d := NewDecoder(0)
	for _, tt := range []struct {
		json string
		want int64
	}{
		{"1432826855000", 1432826855000},
		{"0", 0},
		{"-0", 0},
		{"-1", -1},
		{"-86400000", -86400000},
		{"9223372036854775807", math.MaxInt64},
		{"-9223372036854775808", math.MinInt64},
		{"1.432826855e12", 1432826855000},
		{"1432826855000.0", 1432826855000},
		{"1E3", 1000},
		{"1432826855000.9", 1432826855000},
		{"-1.9", -1},
		{"1e-3", 0},
	} {
		payload := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"1","timestamp":` + tt.json + `,"message":"m"}]}`
		m, err := d.Decode(gz(t, []byte(payload)))
		if err != nil {
			t.Errorf("%s: %v", tt.json, err)
			continue
		}
		if got := m.LogEvents[0].Timestamp; got != tt.want {
			t.Errorf("timestamp %s decoded to %d, want %d", tt.json, got, tt.want)
		}
	}
}

// TestDecodeKeysAndOrder: fields in any order, escaped keys, unknown fields
// of every kind, repeated fields (last wins), whitespace everywhere.
func TestDecodeKeysAndOrder(t *testing.T) {
	payload := " \n{ \"logEvents\" : [ { \"message\" : \"m1\" , \"x\" : {\"a\":[1,{\"b\":null}]}, \"timestamp\" : 5 , \"id\" : \"a\" } ] ,\r\n" +
		`"future":{"nested":[true,false,null,-1.5e-3,"s\"t"]}, "owner":"first", "owner":"second",` +
		`"sub\u0073criptionFilters":["f1","f2"], "logStream":"s", "logGroup":"g", "messageType":"DATA_MESSAGE"` + "\t}\n "
	m, err := NewDecoder(0).Decode(gz(t, []byte(payload)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Message{
		MessageType: DataMessage, Owner: "second", LogGroup: "g", LogStream: "s",
		SubscriptionFilters: []string{"f1", "f2"},
		LogEvents:           []LogEvent{{ID: "a", Timestamp: 5, Message: "m1"}},
	}
	if diff := sameMessage(m, want); diff != "" {
		t.Error(diff)
	}
}

// TestDecodeOwnsMemory: a Message must not change when the decoder decodes
// other payloads into the buffer it reuses (bigger, smaller, broken).
func TestDecodeOwnsMemory(t *testing.T) {
	d := NewDecoder(0)
	first, err := d.Decode(gz(t, readFixture(t, "extracted_fields.json")))
	if err != nil {
		t.Fatal(err)
	}
	firstCopy := cloneMessage(first)
	second, err := d.Decode(gz(t, genPayload(1, 50, realistic)))
	if err != nil {
		t.Fatal(err)
	}
	secondCopy := cloneMessage(second)
	for _, data := range [][]byte{
		gz(t, genPayload(2, 500, random)),
		gz(t, genPayload(3, 3, realistic)),
		gz(t, readFixture(t, "extracted_fields.json")),
		gz(t, []byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":1,"timestamp":"x"`)),
		gz(t, bytes.Repeat([]byte{'A'}, 100000)),
	} {
		_, _ = d.Decode(data) // result irrelevant: only the buffers matter
	}
	if diff := sameMessage(first, firstCopy); diff != "" {
		t.Errorf("first Message changed after later Decodes: %s", diff)
	}
	if diff := sameMessage(second, secondCopy); diff != "" {
		t.Errorf("second Message changed after later Decodes: %s", diff)
	}
	// extractedFields slices are capped: appending to one cannot clobber the next.
	evs := first.LogEvents
	_ = append(evs[0].ExtractedFields, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"...)
	if diff := sameMessage(first, firstCopy); diff != "" {
		t.Errorf("append to ExtractedFields changed another event: %s", diff)
	}
}

// TestDecodeAllocs keeps allocations per record bounded (a generous
// 2 per event + 32) and, the design point, independent of the event count.
func TestDecodeAllocs(t *testing.T) {
	if raceEnabled || testing.CoverMode() != "" {
		t.Skip("allocation counts differ under -race and -cover")
	}
	d := NewDecoder(0)
	perRecord := map[int]float64{}
	for _, n := range []int{100, 1000} {
		for _, fl := range []flavour{realistic, random, systemFields} {
			data := gz(t, genPayload(uint64(n), n, fl))
			allocs := testing.AllocsPerRun(20, func() {
				if _, err := d.Decode(data); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%s, %d events: %.0f allocs per record", fl, n, allocs)
			if allocs > float64(2*n+32) {
				t.Errorf("%s, %d events: %.0f allocs per record, want <= %d", fl, n, allocs, 2*n+32)
			}
			perRecord[n] = max(perRecord[n], allocs)
		}
	}
	if perRecord[1000] > perRecord[100]+2 {
		t.Errorf("allocations grow with events: %.0f for 100, %.0f for 1000", perRecord[100], perRecord[1000])
	}
}
