package invocation

import "strings"

// CompareSequenceNumbers orders two Kinesis sequence numbers, returning -1,
// 0 or +1. They are decimal integers of up to 128 bits whose text length
// varies (Kinesis issues 56 digits, moto "1", "2", ...), so plain string
// order is wrong: the shorter number (leading zeros aside) is the smaller.
// If either is not a decimal integer (never the case in a real stream), the
// two are compared as strings.
func CompareSequenceNumbers(a, b string) int {
	x, y := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if !isDecimal(a) || !isDecimal(b) {
		return strings.Compare(a, b)
	}
	if len(x) != len(y) {
		if len(x) < len(y) {
			return -1
		}
		return 1
	}
	return strings.Compare(x, y)
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
