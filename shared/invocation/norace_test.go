//go:build !race

package invocation_test

const raceEnabled = false
