package logssink

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// msgOfSize returns a message whose batch size (bytes + 26) is exactly size.
func msgOfSize(t testing.TB, size int) string {
	t.Helper()
	if size <= EventOverhead {
		t.Fatalf("size %d leaves no message bytes", size)
	}
	return strings.Repeat("x", size-EventOverhead)
}

func evs(ts []int64, msgs []string) []event {
	out := make([]event, len(ts))
	for i := range ts {
		m := "m"
		if msgs != nil {
			m = msgs[i]
		}
		out[i] = event{ts: ts[i], msg: m, rec: int32(i), idx: 0}
	}
	return out
}

func sameTS(n int, ts int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = ts
	}
	return out
}

func TestPackBoundaries(t *testing.T) {
	const day = DefaultMaxSpanMillis
	// Nine events of 100,026 bytes and one of 148,342: exactly 1,048,576.
	exact := make([]string, 10)
	for i := range 9 {
		exact[i] = msgOfSize(t, 100_026)
	}
	exact[9] = msgOfSize(t, DefaultMaxBatchBytes-9*100_026)
	over := append([]string(nil), exact...)
	over[9] += "y"
	// Multi-byte UTF-8 counts in bytes, not characters: "é" is 2 bytes, so
	// these two (524,026 + 524,626 bytes) do not fit one batch although they
	// hold only 524,300 characters.
	utf := []string{strings.Repeat("é", 262_000), strings.Repeat("é", 262_300)}

	tests := []struct {
		name string
		evs  []event
		want []span
	}{
		{"empty", nil, nil},
		{"one", evs([]int64{5}, nil), []span{{0, 1}}},
		{"bytes exactly 1,048,576", evs(sameTS(10, 1), exact), []span{{0, 10}}},
		{"bytes 1,048,577", evs(sameTS(10, 1), over), []span{{0, 9}, {9, 10}}},
		{"bytes counted as UTF-8", evs(sameTS(2, 1), utf), []span{{0, 1}, {1, 2}}},
		{"10,000 events", evs(sameTS(10_000, 1), nil), []span{{0, 10_000}}},
		{"10,001 events", evs(sameTS(10_001, 1), nil), []span{{0, 10_000}, {10_000, 10_001}}},
		{"20,001 events", evs(sameTS(20_001, 1), nil), []span{{0, 10_000}, {10_000, 20_000}, {20_000, 20_001}}},
		{"span exactly 24 h", evs([]int64{1_000, 2_000, 1_000 + day}, nil), []span{{0, 3}}},
		{"span 24 h + 1 ms", evs([]int64{1_000, 2_000, 1_000 + day + 1}, nil), []span{{0, 2}, {2, 3}}},
		{"span restarts at the new first event", evs([]int64{0, day + 1, 2*day + 1, 2*day + 2}, nil), []span{{0, 1}, {1, 3}, {3, 4}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pack(nil, tc.evs, DefaultLimits())
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("pack = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPackProperties checks on random input that every batch is within all
// limits, that batches tile the input in order, and that packing is greedy:
// no batch could have taken the next batch's first event.
func TestPackProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lim := Limits{MaxBatchEvents: 50, MaxBatchBytes: 4_000, MaxSpanMillis: 1_000, MaxMessageBytes: 4_000 - EventOverhead}
	for round := range 300 {
		n := rng.IntN(400)
		in := make([]event, n)
		ts := int64(0)
		for i := range in {
			ts += int64(rng.IntN(60))
			in[i] = event{ts: ts, msg: strings.Repeat("a", 1+rng.IntN(300)), rec: int32(i)}
		}
		spans := pack(nil, in, lim)
		next := 0
		for k, sp := range spans {
			if sp.start != next || sp.end <= sp.start {
				t.Fatalf("round %d: span %d = %v does not continue at %d", round, k, sp, next)
			}
			next = sp.end
			bytes := 0
			for i := sp.start; i < sp.end; i++ {
				bytes += eventSize(in[i].msg)
			}
			fits := func(end int) bool {
				b := 0
				for i := sp.start; i < end; i++ {
					b += eventSize(in[i].msg)
				}
				return end-sp.start <= lim.MaxBatchEvents && b <= lim.MaxBatchBytes && in[end-1].ts-in[sp.start].ts <= lim.MaxSpanMillis
			}
			if !fits(sp.end) {
				t.Fatalf("round %d: span %v breaks a limit", round, sp)
			}
			if sp.end < n && fits(sp.end+1) {
				t.Fatalf("round %d: span %v could have taken event %d", round, sp, sp.end)
			}
		}
		if next != n {
			t.Fatalf("round %d: spans end at %d, want %d", round, next, n)
		}
	}
}

func TestSortEventsStable(t *testing.T) {
	in := []event{{ts: 3, msg: "c1"}, {ts: 1, msg: "a1"}, {ts: 3, msg: "c2"}, {ts: 2, msg: "b"}, {ts: 1, msg: "a2"}, {ts: 3, msg: "c3"}}
	sortEvents(in)
	var got []string
	for _, e := range in {
		got = append(got, e.msg)
	}
	if want := "a1 a2 b c1 c2 c3"; strings.Join(got, " ") != want {
		t.Fatalf("sorted = %v, want %s", got, want)
	}
}

func TestRepairUTF8(t *testing.T) {
	const r = "\uFFFD"
	tests := []struct {
		name, in, want string
		repaired       bool
	}{
		{"ascii", "plain", "plain", false},
		{"multibyte", "ü€😀", "ü€😀", false},
		{"literal U+FFFD is valid", r, r, false},
		{"one bad byte", "a\xffb", "a" + r + "b", true},
		{"each bad byte replaced", "\xff\xfe", r + r, true},
		{"truncated sequence", "x\xe2\x82", "x" + r + r, true},
		{"encoded surrogate", "\xed\xa0\x80", r + r + r, true},
		{"overlong encoding", "\xc0\xaf", r + r, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, repaired := repairUTF8(tc.in)
			if got != tc.want || repaired != tc.repaired {
				t.Fatalf("repairUTF8(%q) = %q, %v; want %q, %v", tc.in, got, repaired, tc.want, tc.repaired)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("repairUTF8(%q) = %q is not valid UTF-8", tc.in, got)
			}
		})
	}
}

func TestReadRejected(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	tests := []struct {
		name string
		info *types.RejectedLogEventsInfo
		n    int
		want string // one letter per event: . landed, O too old, E expired, N too new
	}{
		{"none", nil, 4, "...."},
		{"empty info", &types.RejectedLogEventsInfo{}, 4, "...."},
		{"too old end is exclusive", &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: i32(2)}, 5, "OO..."},
		{"too old end 0 rejects nothing", &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: i32(0)}, 3, "..."},
		{"too new start is inclusive", &types.RejectedLogEventsInfo{TooNewLogEventStartIndex: i32(3)}, 5, "...NN"},
		{"too new from 0 rejects all", &types.RejectedLogEventsInfo{TooNewLogEventStartIndex: i32(0)}, 3, "NNN"},
		{"expired end is exclusive", &types.RejectedLogEventsInfo{ExpiredLogEventEndIndex: i32(3)}, 4, "EEE."},
		{"old, expired and new together", &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: i32(1), ExpiredLogEventEndIndex: i32(3), TooNewLogEventStartIndex: i32(5)}, 7, "OEE..NN"},
		{"too old wins over expired", &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: i32(3), ExpiredLogEventEndIndex: i32(2)}, 4, "OOO."},
		{"out of range indexes are clamped", &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: i32(99), TooNewLogEventStartIndex: i32(-4)}, 3, "OOO"},
		{"too new past the end rejects nothing", &types.RejectedLogEventsInfo{TooNewLogEventStartIndex: i32(3)}, 3, "..."},
	}
	letter := map[string]byte{"": '.', RejectedTooOld: 'O', RejectedExpired: 'E', RejectedTooNew: 'N'}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := readRejected(tc.info, tc.n)
			got := make([]byte, tc.n)
			for i := range got {
				got[i] = letter[r.reason(i)]
			}
			if string(got) != tc.want {
				t.Fatalf("reasons = %s, want %s (%s)", got, tc.want, r)
			}
		})
	}
	r := readRejected(&types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(1), TooNewLogEventStartIndex: aws.Int32(9)}, 10)
	if got, want := r.String(), "{tooOldLogEventEndIndex:1,tooNewLogEventStartIndex:9}"; got != want {
		t.Fatalf("String = %s, want %s", got, want)
	}
}
