package subscription

import "testing"

// TestPlainEnd checks the word-at-a-time scan against the byte table for
// every byte value at every position of a word and across word boundaries.
func TestPlainEnd(t *testing.T) {
	for c := range 256 {
		for pos := range 19 {
			b := make([]byte, 19)
			for i := range b {
				b[i] = "a\xff\x80é"[i%4] // plain bytes, ASCII and not
			}
			b[pos] = byte(c)
			want := len(b)
			for i := range b {
				if strSpecial[b[i]] {
					want = i
					break
				}
			}
			if got := plainEnd(b, 0); got != want {
				t.Fatalf("byte %#02x at %d: plainEnd = %d, want %d", c, pos, got, want)
			}
			// A second special byte later must not move the first.
			b[18] = '"'
			if strSpecial[byte(c)] {
				want = pos
			} else {
				want = 18
			}
			if got := plainEnd(b, 0); got != want {
				t.Fatalf("byte %#02x at %d then a quote: plainEnd = %d, want %d", c, pos, got, want)
			}
		}
	}
}
