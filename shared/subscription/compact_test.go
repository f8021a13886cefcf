package subscription_test

import (
	"testing"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
)

// TestDecodeCompactsExtractedFields: extractedFields laid out over several
// lines, with U+2028 and U+2029 raw in its strings, decodes to one line with
// the separators escaped (as the writers escape them in messages), the
// values unchanged; the message, a decoded string, keeps the character.
func TestDecodeCompactsExtractedFields(t *testing.T) {
	m, err := prettyfields.Message()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range prettyfields.Compact {
		if got := string(m.LogEvents[i].ExtractedFields); got != want {
			t.Errorf("event %d: extractedFields\n got %s\nwant %s", i, got, want)
		}
	}
	if got := m.LogEvents[0].Message; got != "GET /a\u2028b HTTP/1.0 200" {
		t.Errorf("message = %q", got)
	}
}
