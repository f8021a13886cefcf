package subscription

import (
	"bytes"
	"errors"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// fuzzGz gzips quickly with a reused writer: the fuzz targets compress on
// every exec, and a new stdlib writer per call would dominate the time.
type fuzzGz struct {
	buf bytes.Buffer
	zw  *kgzip.Writer
}

func (g *fuzzGz) gz(b []byte) []byte {
	g.buf.Reset()
	if g.zw == nil {
		g.zw, _ = kgzip.NewWriterLevel(&g.buf, kgzip.BestSpeed)
	} else {
		g.zw.Reset(&g.buf)
	}
	// Writes into a bytes.Buffer cannot fail.
	_, _ = g.zw.Write(b)
	_ = g.zw.Close()
	return g.buf.Bytes()
}

var decodeKinds = []error{ErrNotGzip, ErrCorruptGzip, ErrTruncated, ErrTooLarge, ErrNotJSON, ErrShape, ErrUnknownType}

// FuzzDecode feeds arbitrary bytes to Decode. Seeds are the gzipped
// fixtures plus broken variants, so mutations explore both the gzip layer
// and (through valid deflate blocks) the JSON behind it.
func FuzzDecode(f *testing.F) {
	for _, name := range fixtureNames(f) {
		data := gz(f, readFixture(f, name))
		f.Add(data)
		f.Add(data[:len(data)/2])
		f.Add(append(bytes.Clone(data), data...))
	}
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b})
	d, again, g := NewDecoder(1<<20), NewDecoder(0), &fuzzGz{}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeInvariants(t, d, again, g, data)
	})
}

// FuzzDecodeJSON fuzzes the JSON layer directly: the fuzzer's bytes are the
// decompressed payload, gzipped inside the target.
func FuzzDecodeJSON(f *testing.F) {
	for _, name := range fixtureNames(f) {
		f.Add(readFixture(f, name))
	}
	for _, s := range []string{
		`{"messageType":"CONTROL_MESSAGE"}`, `null`, `[]`, `{"messageType":"DATA_MESSAGE","logEvents":[{"id":1e5}]}`,
		`{"a":"\ud800\udc00\ud800\u0041\/\u0000"}`, "{\"x\":\"\xff\xed\xa0\x80\"}",
		// System fields in each place they may appear, and broken.
		`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"@aws.region":"eu-west-1","logEvents":[{"id":"1","timestamp":1,"message":"m","extractedFields":{"@aws.account":"111111111111","@aws.region":"us-east-1"}},{"id":"2","timestamp":2,"message":"m"}]}`,
		`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"1","timestamp":1,"message":"m","extractedFields":{"@aws.region":"eu-west-1","@aws.region":7,"@aws.account":"\u0031"}}],"@aws.account":null}`,
		`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"1","timestamp":1,"message":"m","extractedFields":{"@aws.region":"eu-west-1"},"extractedFields":{"@aws.account":"111111111111"}}]}`,
	} {
		f.Add([]byte(s))
	}
	d, again, g, in := NewDecoder(1<<20), NewDecoder(0), &fuzzGz{}, &fuzzGz{}
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkDecodeInvariants(t, d, again, g, in.gz(payload))
	})
}

// checkDecodeInvariants: Decode never panics; an error is a *DecodeError of
// a known kind with no Message; a Message re-encodes to a payload that
// decodes to the same Message.
func checkDecodeInvariants(t *testing.T, d, again *Decoder, g *fuzzGz, data []byte) {
	t.Helper()
	m, err := d.Decode(data)
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("error %T %v is not a *DecodeError", err, err)
		}
		known := false
		for _, k := range decodeKinds {
			known = known || de.Kind == k
		}
		if !known || m != nil {
			t.Fatalf("error %v: unknown kind %v or a Message (%v) alongside", err, de.Kind, m != nil)
		}
		return
	}
	if m.IsControl() != (m.MessageType == ControlMessage) || (m.IsControl() && m.LogEvents != nil) {
		t.Fatalf("control message with events: %#v", m)
	}
	j, err := AppendJSON(nil, m)
	if err != nil {
		t.Fatalf("a decoded Message does not encode: %v", err)
	}
	m2, err := again.Decode(g.gz(j))
	if err != nil {
		t.Fatalf("re-encoded Message does not decode: %v\n%q", err, j)
	}
	if diff := sameMessage(m, m2); diff != "" {
		t.Fatalf("round trip changed the Message: %s", diff)
	}
}
