package good

import "testing"

func TestPass(t *testing.T) { t.Log("a passing test's log is not shown") }

func TestSkip(t *testing.T) { t.Skip("skipped on purpose") }

func TestTable(t *testing.T) {
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {})
	}
}
