package suggest

import "testing"

func TestClosest(t *testing.T) {
	keys := []string{"shardCount", "streamMode", "s3Prefix", "quarantinePrefix", "logsRegion"}
	regions := []string{"eu-west-1", "eu-west-2", "us-east-1", "eu-central-1"}
	for _, tt := range []struct {
		word       string
		candidates []string
		want       string
	}{
		{"sharCount", keys, "shardCount"},
		{"shardcount", keys, "shardCount"},
		{"streamMdoe", keys, "streamMode"},
		{"s3prefix", keys, "s3Prefix"},
		{"eu-wset-1", regions, "eu-west-1"},
		{"euwest1", regions, "eu-west-1"},
		{"mars-1", regions, ""},
		{"eu-west-3", regions, "eu-west-1"},
		{"not a region", regions, ""},
		{"x", keys, ""},
		{"", keys, ""},
	} {
		if got := Closest(tt.word, tt.candidates); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"abc", "", 3}, {"", "ab", 2},
		{"kitten", "sitting", 3}, {"ca", "ac", 1}, {"wset", "west", 1}, {"abcd", "acbd", 1},
	} {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := distance(tt.b, tt.a); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}
