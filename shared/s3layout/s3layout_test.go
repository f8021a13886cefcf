package s3layout

import (
	"strings"
	"testing"
	"time"
)

func TestDirAndTemplate(t *testing.T) {
	if got, want := Dir("logs", "111111111111", "%2Faws%2Flambda%2Ffn", "2026-03-04", "07"), "logs/owner=111111111111/log_group=%2Faws%2Flambda%2Ffn/dt=2026-03-04/hour=07/"; got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
	if got := Dir("", "o", "g", "d", "h"); got != "owner=o/log_group=g/dt=d/hour=h/" {
		t.Errorf("Dir without prefix = %q", got)
	}
	if got, want := LocationTemplate("s3://b/logs"), "s3://b/logs/owner=${owner}/log_group=${log_group}/dt=${dt}/hour=${hour}/"; got != want {
		t.Errorf("LocationTemplate = %q, want %q", got, want)
	}
}

// TestFormatsAgree holds the Java date format and the hour width to the Go
// layouts the sink formats with.
func TestFormatsAgree(t *testing.T) {
	at := time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC)
	java := strings.NewReplacer("yyyy", "2006", "MM", "01", "dd", "02").Replace(DateFormat)
	if at.Format(java) != at.Format(DateLayout) {
		t.Errorf("DateFormat %s and DateLayout %s disagree", DateFormat, DateLayout)
	}
	if len(at.Format(HourLayout)) != HourDigits {
		t.Errorf("HourLayout gives %q, HourDigits is %d", at.Format(HourLayout), HourDigits)
	}
}

func TestColumns(t *testing.T) {
	for _, c := range TableColumns() {
		if c.Name == KeyOwner || c.Name != strings.ToLower(c.Name) {
			t.Errorf("table column %q", c.Name)
		}
	}
	keys := PartitionColumns()
	if len(keys) != len(PartitionKeys) || keys[3].Name != KeyHour || keys[3].Type != "int" || keys[0].Type != "string" {
		t.Errorf("partition columns %v", keys)
	}
	if Extension(FormatParquet) != ExtParquet || Extension(FormatNDJSON) != ExtNDJSON {
		t.Error("Extension")
	}
}
