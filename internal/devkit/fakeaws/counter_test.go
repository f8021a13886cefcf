package fakeaws

import (
	"bytes"
	"strings"
	"testing"
)

// TestCounterAcrossWrites checks the key count is the same however the body
// is split into writes, including splits inside a key and one-byte writes.
func TestCounterAcrossWrites(t *testing.T) {
	body := []byte(`{"Records":[{"Data":"YQ=="},{"Data":""},{"Data":"` + strings.Repeat("Data", 5) + `"}]}"Data"`)
	want := bytes.Count(body, []byte(dataKey))
	for step := 1; step <= len(body); step++ {
		var c counter
		for i := 0; i < len(body); i += step {
			if _, err := c.Write(body[i:min(len(body), i+step)]); err != nil {
				t.Fatal(err)
			}
		}
		if c.n != want {
			t.Fatalf("writes of %d bytes: counted %d keys, want %d", step, c.n, want)
		}
	}
}
