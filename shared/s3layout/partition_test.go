package s3layout

import (
	"strings"
	"testing"
	"time"
)

func TestPartitionValueBounded(t *testing.T) {
	// Log group names may be 512 characters of [.-_/#A-Za-z0-9].
	long := strings.Repeat("/a", 256)
	other := strings.Repeat("/a", 255) + "/b"
	fits := strings.Repeat("a", MaxSegmentBytes)
	tests := []struct {
		name   string
		in     string
		hashed bool
	}{
		{"exactly the bound", fits, false},
		{"one byte over", fits + "a", true},
		{"512 chars, half slashes", long, true},
		{"escape at the cut", strings.Repeat("a", MaxSegmentBytes-18) + strings.Repeat("/", 100), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := PartitionValue(tt.in)
			if len(v) > MaxSegmentBytes {
				t.Fatalf("len = %d, over %d", len(v), MaxSegmentBytes)
			}
			if got := strings.Contains(v, "~"); got != tt.hashed {
				t.Fatalf("hashed = %v, want %v (%q)", got, tt.hashed, v)
			}
			if !tt.hashed {
				return
			}
			if i := strings.LastIndexByte(v, '%'); i >= 0 && i > len(v)-17-3 {
				t.Errorf("cut splits an escape: %q", v[len(v)-25:])
			}
			if !strings.HasPrefix(Escape(tt.in), v[:strings.IndexByte(v, '~')]) {
				t.Errorf("value does not start with the escaped name")
			}
		})
	}
	if PartitionValue(long) == PartitionValue(other) {
		t.Error("two long names with the same prefix share a partition value")
	}
}

func TestPartitionPath(t *testing.T) {
	at := func(s string) int64 {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return HourOf(ts.UnixMilli())
	}
	tests := []struct {
		name   string
		prefix string
		p      Partition
		want   string
	}{
		{"last ms before midnight", "logs", Partition{"111111111111", "/aws/lambda/fn", at("2025-12-31T23:59:59.999Z")},
			"logs/owner=111111111111/log_group=%2Faws%2Flambda%2Ffn/dt=2025-12-31/hour=23/"},
		{"midnight", "logs", Partition{"111111111111", "/aws/lambda/fn", at("2026-01-01T00:00:00Z")},
			"logs/owner=111111111111/log_group=%2Faws%2Flambda%2Ffn/dt=2026-01-01/hour=00/"},
		{"no prefix", "", Partition{"222222222222", "app", at("2026-03-05T07:30:00Z")},
			"owner=222222222222/log_group=app/dt=2026-03-05/hour=07/"},
		{"before 1970", "p", Partition{"1", "g", HourOf(-1)},
			"p/owner=1/log_group=g/dt=1969-12-31/hour=23/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Path(tt.prefix)
			if got != tt.want {
				t.Fatalf("Path = %q, want %q", got, tt.want)
			}
			back, err := ParsePath(got+ObjectName("shardId-000000000000", "1", 0, "2", 5), tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if back != tt.p {
				t.Fatalf("ParsePath = %+v, want %+v", back, tt.p)
			}
		})
	}
}

func TestHourOf(t *testing.T) {
	tests := []struct {
		ms   int64
		want int64
	}{
		{0, 0}, {3599999, 0}, {3600000, 1}, {-1, -1}, {-3600000, -1}, {-3600001, -2},
	}
	for _, tt := range tests {
		if got := HourOf(tt.ms); got != tt.want {
			t.Errorf("HourOf(%d) = %d, want %d", tt.ms, got, tt.want)
		}
	}
}

func TestObjectName(t *testing.T) {
	for _, tt := range []struct {
		firstSeq    string
		first       int
		lastSeq     string
		last        int
		want        string
		description string
	}{
		{"4959", 17, "4960", 3, "shardId-000000000001_4959_17-4960_3.ndjson.gz", "two records"},
		{"4959", 17, "4959", 40, "shardId-000000000001_4959_17-40.ndjson.gz", "one record"},
		{"4959", 17, "4959", 17, "shardId-000000000001_4959_17-17.ndjson.gz", "one event"},
	} {
		if got := ObjectName("shardId-000000000001", tt.firstSeq, tt.first, tt.lastSeq, tt.last); got != tt.want {
			t.Errorf("%s: ObjectName = %q, want %q", tt.description, got, tt.want)
		}
	}
	// A name fixes both ends: objects that share their first event (a
	// smaller retry batch) or their last one have different names.
	a := ObjectName("shardId-000000000001", "4959", 0, "4970", 9)
	for _, other := range []string{
		ObjectName("shardId-000000000001", "4959", 0, "4965", 9),
		ObjectName("shardId-000000000001", "4959", 0, "4970", 8),
		ObjectName("shardId-000000000001", "4959", 1, "4970", 9),
		ObjectName("shardId-000000000001", "4959", 0, "4959", 9),
	} {
		if other == a {
			t.Errorf("%s names two different objects", a)
		}
	}
}

func TestParsePathRejects(t *testing.T) {
	for _, key := range []string{
		"other/owner=1/log_group=g/dt=2026-01-01/hour=00/x.gz",
		"logs/owner=1/log_group=g/dt=2026-01-01/x.gz",
		"logs/owner=1/group=g/dt=2026-01-01/hour=00/x.gz",
		"logs/owner=1/log_group=g/dt=2026-13-01/hour=00/x.gz",
		"logs/owner=1/log_group=g/dt=2026-01-01/hour=24/x.gz",
		"logs/owner=1/log_group=a%2fb/dt=2026-01-01/hour=00/x.gz",
	} {
		if _, err := ParsePath(key, "logs"); err == nil {
			t.Errorf("ParsePath(%q) succeeded, want an error", key)
		}
	}
}
