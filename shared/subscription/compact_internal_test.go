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
