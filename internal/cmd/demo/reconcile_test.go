package demo

import (
	"strings"
	"testing"
)

func msgs(run string, ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = "some line" + eventKey(run, n)
	}
	return out
}

func TestReconcile(t *testing.T) {
	other := msgs("old", 0, 1, 2) // an earlier run on a reused emulator
	tests := []struct {
		name        string
		landed      []string
		quarantined quarantineTally
		parked      map[int]bool
		want        SinkReport
	}{
		{"all landed once", msgs("r1", 0, 1, 2, 3), quarantineTally{}, nil,
			SinkReport{Sent: 4, Landed: 4}},
		{"duplicates are counted, not lost", msgs("r1", 0, 1, 1, 2, 3, 3, 3), quarantineTally{}, nil,
			SinkReport{Sent: 4, Landed: 4, Duplicates: 3}},
		{"other runs and untagged lines are ignored", append(append(msgs("r1", 0, 1, 2, 3), other...), "no tag", "x logfan-demo:r1:notanumber"), quarantineTally{}, nil,
			SinkReport{Sent: 4, Landed: 4}},
		{"missing and unexplained is lost", msgs("r1", 0, 2), quarantineTally{}, nil,
			SinkReport{Sent: 4, Landed: 2, Missing: 2, Lost: 2}},
		{"a quarantined count explains as many missing", msgs("r1", 0, 2), quarantineTally{count: 1}, nil,
			SinkReport{Sent: 4, Landed: 2, Missing: 2, Quarantined: 1, Lost: 1}},
		{"quarantined events read back explain exactly themselves", msgs("r1", 0, 2), quarantineTally{keys: map[int]bool{1: true, 2: true}, count: 9}, nil,
			SinkReport{Sent: 4, Landed: 2, Missing: 2, Quarantined: 2, Lost: 1}},
		{"parked in the on-failure destination is not lost", msgs("r1", 0, 2), quarantineTally{}, map[int]bool{1: true, 3: true},
			SinkReport{Sent: 4, Landed: 2, Missing: 2, OnFailure: 2}},
		{"out of range numbers are ignored", msgs("r1", 0, 1, 2, 3, 4, -1), quarantineTally{}, nil,
			SinkReport{Sent: 4, Landed: 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := reconcile("s3", "r1", 4, tc.landed, tc.quarantined, 0, tc.parked)
			tc.want.Sink = "s3"
			if got != tc.want {
				t.Fatalf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	run, n, ok := parseKey(`{"json":"logfan-demo:fake:1"} logfan-demo:ab12:42`)
	if !ok || run != "ab12" || n != 42 {
		t.Fatalf("parseKey = %q %d %v", run, n, ok)
	}
	if _, _, ok := parseKey("plain"); ok {
		t.Fatal("parsed an untagged message")
	}
}

func TestReportSummaryAndTable(t *testing.T) {
	r := &Report{Sent: &Sent{Events: 10}, Sinks: []SinkReport{
		{Sink: "s3", Sent: 10, Landed: 10}, {Sink: "firehose", Sent: 10, Landed: 10}, {Sink: "logs", Sent: 10, Landed: 9, Missing: 1, Lost: 1, PoisonRecords: 1},
	}}
	if got, want := r.Summary(), "demo: sent 10 events; s3 10, firehose 10, logs 9; lost 1"; got != want {
		t.Fatalf("Summary() = %q, want %q", got, want)
	}
	var b strings.Builder
	r.WriteTable(&b)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], "sent  landed  duplicates  missing  quarantined  on-failure  lost") {
		t.Fatalf("table:\n%s", b.String())
	}
	if !strings.Contains(lines[4], "logs: 1 undecodable records") {
		t.Fatalf("poison records not reported:\n%s", b.String())
	}
}
