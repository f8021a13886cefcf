package bad

import "testing"

func TestPass(t *testing.T) {}

func TestFails(t *testing.T) {
	t.Log("the failing test's log is shown")
	t.Error("wrong")
}

func TestSubtestFails(t *testing.T) {
	t.Run("ok", func(t *testing.T) {})
	t.Run("broken", func(t *testing.T) { t.Fatal("broken subtest") })
}
