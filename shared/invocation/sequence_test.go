package invocation_test

import (
	"math/big"
	"testing"

	"github.com/logfan/logfan/shared/invocation"
)

func TestCompareSequenceNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "2", -1},
		{"2", "10", -1}, // string order would say +1
		{"10", "2", 1},
		{"7", "7", 0},
		{"007", "7", 0},
		{"0", "", 1}, // not a number: compared as strings
		{"49650000000000000000000000000000000000000000000000000000", "49650000000000000000000000000000000000000000000000001000", -1},
		{"49650000000000000000000000000000000000000000000000001000", "999", 1},
		{"abc", "abd", -1},
		{"9", "10", -1},
		{"10", "10", 0},
		{"49650000000000000000000000000000000000000000000000000001", "49650000000000000000000000000000000000000000000000000000", 1},
		{"2", "49650000000000000000000000000000000000000000000000000000", -1},
		{"12", "1a", -1},
	}
	for _, tt := range tests {
		if got := invocation.CompareSequenceNumbers(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareSequenceNumbers(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := invocation.CompareSequenceNumbers(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareSequenceNumbers(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

// FuzzCompareSequenceNumbers checks the text comparison against big.Int's.
func FuzzCompareSequenceNumbers(f *testing.F) {
	f.Add(uint64(1), uint64(10), uint8(0), uint8(3))
	f.Fuzz(func(t *testing.T, x, y uint64, zx, zy uint8) {
		a := pad(x, zx%4)
		b := pad(y, zy%4)
		want := new(big.Int).SetUint64(x).Cmp(new(big.Int).SetUint64(y))
		if got := invocation.CompareSequenceNumbers(a, b); got != want {
			t.Errorf("CompareSequenceNumbers(%q, %q) = %d, want %d", a, b, got, want)
		}
	})
}

func pad(v uint64, zeros uint8) string {
	s := new(big.Int).SetUint64(v).String()
	for range zeros {
		s = "0" + s
	}
	return s
}
