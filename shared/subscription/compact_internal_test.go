package subscription

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestAppendCompactMatchesEncodingJSON: appendCompact is json.Compact with
// U+2028 and U+2029 escaped, byte for byte.
func TestAppendCompactMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{}`, `{ }`, "{\n\t\"a\" : 1 ,\r\n \"b\":[ 1 , 2 ]}",
		`{"s":"a b  c\"d\\ \u2028 e"}`,
		"{\"raw\":\"x\u2028y\u2029z\", \"k\\\"q\" : { \"n\" : null , \"t\":true,\"f\":false , \"e\": -1.5e+3 } }",
		`{"only\\":"\\"}`, `{"u":"\u00e9\ud83d\ude00"}`, "{\"s\":\"\xe2\x80\"}", "{\"s\":\"\xe2\x80\xa7\xe2\x80\xaa\"}",
	}
	for _, in := range inputs {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(in)); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		w := strings.NewReplacer("\u2028", `\u2028`, "\u2029", `\u2029`).Replace(want.String())
		if got := string(appendCompact([]byte("x"), []byte(in))); got != "x"+w {
			t.Errorf("%q:\n got %q\nwant %q", in, got, "x"+w)
		}
	}
}

// FuzzAppendCompact: for any valid JSON, appendCompact is json.Compact with
// U+2028 and U+2029 escaped.
func FuzzAppendCompact(f *testing.F) {
	f.Add([]byte("{ \"a\" : [ 1 , \"x\u2028 \\\" y\" ] }"))
	f.Add([]byte(`{"k":"\\","v":"\u2029"}`))
	sep := strings.NewReplacer("\u2028", `\u2028`, "\u2029", `\u2029`)
	f.Fuzz(func(t *testing.T, in []byte) {
		var want bytes.Buffer
		if json.Compact(&want, in) != nil {
			return
		}
		if got, w := string(appendCompact(nil, in)), sep.Replace(want.String()); got != w {
			t.Fatalf("%q:\n got %q\nwant %q", in, got, w)
		}
	})
}

// BenchmarkCompactExtractedFields is what compacting costs per event that
// carries extractedFields, against impl=copy, the byte-for-byte copy the
// decoder made before: a compact ASCII object (copied as it is), the same
// with spaces in its values, and the same laid out with spaces.
func BenchmarkCompactExtractedFields(b *testing.B) {
	inputs := []struct{ name, json string }{
		{"compact", `{"ip":"127.0.0.1","user":"frank","request":"GET_/apache_pb.gif_HTTP/1.0","status_code":"200","bytes":"1534"}`},
		{"spaces-in-values", `{"ip":"127.0.0.1","user":"frank","request":"GET /apache_pb.gif HTTP/1.0","status_code":"200","bytes":"1534"}`},
		{"spaced", `{"ip": "127.0.0.1", "user": "frank", "request": "GET /apache_pb.gif HTTP/1.0", "status_code": "200", "bytes": "1534"}`},
	}
	dst := make([]byte, 0, 512)
	for _, in := range inputs {
		src := []byte(in.json)
		b.Run("in="+in.name+"/impl=copy", func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				dst = append(dst[:0], src...)
			}
		})
		b.Run("in="+in.name+"/impl=compact", func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				dst = appendCompact(dst[:0], src)
			}
		})
	}
}
