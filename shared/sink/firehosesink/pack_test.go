package firehosesink

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/subscription"
)

// lineOverhead is the NDJSON line length of an event with an empty message
// built by sizedEvent: fixed-width IDs and timestamps keep it constant.
var lineOverhead = len(record.AppendLine(nil, testMessage(nil), &subscription.LogEvent{ID: eventID(0, 0), Timestamp: 1767225600000}))

func testMessage(evs []subscription.LogEvent) *subscription.Message {
	return &subscription.Message{
		MessageType: subscription.DataMessage, Owner: "111111111111", LogGroup: "/aws/app/a",
		LogStream: "s", SubscriptionFilters: []string{"logfan"}, LogEvents: evs,
	}
}

func eventID(rec, ev int) string { return fmt.Sprintf("r%05de%07d", rec, ev) }

// sizedBatch builds a batch whose record i has events with NDJSON lines of
// exactly sizes[i][k] bytes (newline included).
func sizedBatch(t testing.TB, sizes ...[]int) *sink.Batch {
	t.Helper()
	b := &sink.Batch{ShardID: "shardId-000000000000"}
	for i, recSizes := range sizes {
		evs := make([]subscription.LogEvent, len(recSizes))
		for k, n := range recSizes {
			if n < lineOverhead {
				t.Fatalf("line size %d below the %d-byte overhead", n, lineOverhead)
			}
			evs[k] = subscription.LogEvent{ID: eventID(i, k), Timestamp: 1767225600000, Message: strings.Repeat("x", n-lineOverhead)}
		}
		b.Records = append(b.Records, sink.DecodedRecord{SequenceNumber: fmt.Sprintf("%056d", i), Message: testMessage(evs)})
	}
	return b
}

func repeatSize(n, size int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}

// plannedRecord is a packed record copied out of the packer's arena.
type plannedRecord struct {
	data  []byte
	first int
	spans []span
}

// plan runs the packer over b to the end, as Deliver does when every call
// succeeds, and returns the calls and the oversize events in order.
func plan(t testing.TB, b *sink.Batch, lim Limits, single bool) (calls [][]plannedRecord, over []oversize) {
	t.Helper()
	p := newPacker(b, lim.orDefault(), single, nil)
	var c call
	for !p.exhausted() {
		p.startCall(&c)
		for {
			o := p.fill(&c)
			if o == nil {
				break
			}
			over = append(over, *o)
		}
		if len(c.recs) == 0 {
			if !p.exhausted() {
				t.Fatal("packer made an empty call with events left")
			}
			continue
		}
		var recs []plannedRecord
		for _, r := range c.recs {
			recs = append(recs, plannedRecord{data: bytes.Clone(r.data), first: r.first, spans: append([]span(nil), r.spans...)})
		}
		calls = append(calls, recs)
		if len(calls) > 100000 {
			t.Fatal("packer does not make progress")
		}
	}
	return calls, over
}

func callShape(calls [][]plannedRecord) (records []int, bytes []int) {
	for _, c := range calls {
		n := 0
		for _, r := range c {
			n += len(r.data)
		}
		records, bytes = append(records, len(c)), append(bytes, n)
	}
	return records, bytes
}

// TestPackBoundaries checks the exact PutRecordBatch limits with the
// service's real numbers (no overrides).
func TestPackBoundaries(t *testing.T) {
	const kib1000 = MaxRecordBytes // 1,024,000
	rest := MaxBatchBytes - 4*kib1000
	tests := []struct {
		name        string
		single      bool
		sizes       [][]int
		wantRecords []int // per call
		wantBytes   []int // per call
		wantOver    []int // oversize line lengths
	}{
		{name: "record of exactly 1000 KiB is accepted", sizes: [][]int{{kib1000}},
			wantRecords: []int{1}, wantBytes: []int{kib1000}},
		{name: "record of 1000 KiB + 1 byte is quarantined", sizes: [][]int{{kib1000 + 1}},
			wantOver: []int{kib1000 + 1}},
		{name: "oversize line between two packable ones", sizes: [][]int{{500, kib1000 + 1, 600}},
			wantRecords: []int{1}, wantBytes: []int{1100}, wantOver: []int{kib1000 + 1}},
		{name: "two lines filling exactly 1000 KiB pack into one record", sizes: [][]int{{kib1000 - 400, 400}},
			wantRecords: []int{1}, wantBytes: []int{kib1000}},
		{name: "two lines of 1000 KiB + 1 byte make two records", sizes: [][]int{{kib1000 - 400, 401}},
			wantRecords: []int{2}, wantBytes: []int{kib1000 + 1}},
		{name: "500 records in one call", single: true, sizes: [][]int{repeatSize(500, 300)},
			wantRecords: []int{500}, wantBytes: []int{500 * 300}},
		{name: "501 records in two calls", single: true, sizes: [][]int{repeatSize(250, 300), repeatSize(251, 300)},
			wantRecords: []int{500, 1}, wantBytes: []int{500 * 300, 300}},
		{name: "exactly 4 MiB in one call (single)", single: true, sizes: [][]int{{kib1000, kib1000, kib1000, kib1000, rest}},
			wantRecords: []int{5}, wantBytes: []int{MaxBatchBytes}},
		{name: "4 MiB + 1 byte in two calls (single)", single: true, sizes: [][]int{{kib1000, kib1000, kib1000, kib1000, rest + 1}},
			wantRecords: []int{4, 1}, wantBytes: []int{4 * kib1000, rest + 1}},
		{name: "exactly 4 MiB in one call (packed tail)", sizes: [][]int{{kib1000, kib1000, kib1000, kib1000}, {rest - 1000, 1000}},
			wantRecords: []int{5}, wantBytes: []int{MaxBatchBytes}},
		{name: "4 MiB + 1 byte: last line spills into a second call", sizes: [][]int{{kib1000, kib1000, kib1000, kib1000}, {rest - 1000, 1001}},
			wantRecords: []int{5, 1}, wantBytes: []int{MaxBatchBytes - 1000, 1001}},
		{name: "packed records shrink to fit the call's remaining bytes", sizes: [][]int{repeatSize(43, 100_000)},
			// 10 lines per 1000 KiB record; 4 records = 4,000,000; the rest
			// of the call (194,304 bytes) takes one more line in a fifth
			// record, and the last two lines go to a second call.
			wantRecords: []int{5, 1}, wantBytes: []int{4_100_000, 200_000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sizedBatch(t, tt.sizes...)
			calls, over := plan(t, b, Limits{}, tt.single)
			gotRecords, gotBytes := callShape(calls)
			if fmt.Sprint(gotRecords) != fmt.Sprint(tt.wantRecords) || fmt.Sprint(gotBytes) != fmt.Sprint(tt.wantBytes) {
				t.Errorf("calls: records %v bytes %v, want records %v bytes %v", gotRecords, gotBytes, tt.wantRecords, tt.wantBytes)
			}
			var gotOver []int
			for _, o := range over {
				gotOver = append(gotOver, len(o.line))
			}
			if fmt.Sprint(gotOver) != fmt.Sprint(tt.wantOver) {
				t.Errorf("oversize lines %v, want %v", gotOver, tt.wantOver)
			}
			checkPlan(t, b, calls, over, DefaultLimits(), tt.single)
		})
	}
}

// TestPackSmallLimits exercises packing decisions with overridden limits.
func TestPackSmallLimits(t *testing.T) {
	lim := Limits{Records: 5, CallBytes: 2000, RecordBytes: 800}
	n := lineOverhead + 10
	tests := []struct {
		name        string
		single      bool
		sizes       [][]int
		wantRecords []int
		wantFirst   [][]int // per call, first index of each record
	}{
		{name: "events of several Kinesis records share a record", sizes: [][]int{{n}, {n}, {n}},
			wantRecords: []int{1}, wantFirst: [][]int{{0}}},
		{name: "single keeps one event per record", single: true, sizes: [][]int{{n}, {n}, {n}},
			wantRecords: []int{3}, wantFirst: [][]int{{0, 1, 2}}},
		{name: "single splits calls at the record count", single: true, sizes: [][]int{{n, n}, {n, n}, {n, n}},
			wantRecords: []int{5, 1}, wantFirst: [][]int{{0, 0, 1, 1, 2}, {2}}},
		{name: "a record starting mid Kinesis record keeps that record's index", sizes: [][]int{{400}, {300, 300}, {790}},
			// 400+300 | 300 (790 does not fit) | 790
			wantRecords: []int{3}, wantFirst: [][]int{{0, 1, 2}}},
		{name: "call bytes cap the last record", sizes: [][]int{{800}, {800}, {300, 300}},
			// 800 | 800 | 300 (1900+300 > 2000) || 300
			wantRecords: []int{3, 1}, wantFirst: [][]int{{0, 1, 2}, {2}}},
		{name: "empty and nil messages are skipped", sizes: [][]int{{}, {n}, nil, {n}},
			wantRecords: []int{1}, wantFirst: [][]int{{1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sizedBatch(t, tt.sizes...)
			for i, s := range tt.sizes {
				if s == nil {
					b.Records[i].Message = nil
				}
			}
			calls, over := plan(t, b, lim, tt.single)
			gotRecords, _ := callShape(calls)
			var gotFirst [][]int
			for _, c := range calls {
				var f []int
				for _, r := range c {
					f = append(f, r.first)
				}
				gotFirst = append(gotFirst, f)
			}
			if fmt.Sprint(gotRecords) != fmt.Sprint(tt.wantRecords) || fmt.Sprint(gotFirst) != fmt.Sprint(tt.wantFirst) {
				t.Errorf("records per call %v first %v, want %v %v", gotRecords, gotFirst, tt.wantRecords, tt.wantFirst)
			}
			checkPlan(t, b, calls, over, lim, tt.single)
		})
	}
}

// TestPackRandom checks the packing invariants on many random batches.
func TestPackRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := 0; iter < 200; iter++ {
		lim := Limits{Records: 1 + rng.IntN(6), CallBytes: lineOverhead + rng.IntN(3000), RecordBytes: lineOverhead + rng.IntN(900)}.orDefault()
		var sizes [][]int
		for r := rng.IntN(8); r >= 0; r-- {
			var s []int
			for e := rng.IntN(6); e > 0; e-- {
				s = append(s, lineOverhead+rng.IntN(lim.RecordBytes+50-lineOverhead+1))
			}
			sizes = append(sizes, s)
		}
		b := sizedBatch(t, sizes...)
		single := rng.IntN(3) == 0
		calls, over := plan(t, b, lim, single)
		checkPlan(t, b, calls, over, lim, single)
		if t.Failed() {
			t.Fatalf("iteration %d: limits %+v single %v sizes %v", iter, lim, single, sizes)
		}
	}
}

// checkPlan asserts what must hold for any plan: limits respected, stream
// order kept, every event exactly once (in a record or oversize), spans and
// first indexes true to the records' content, and greedy packing.
func checkPlan(t *testing.T, b *sink.Batch, calls [][]plannedRecord, over []oversize, lim Limits, single bool) {
	t.Helper()
	var want, got bytes.Buffer
	overAt := map[[2]int]bool{}
	for _, o := range over {
		overAt[[2]int{o.rec, o.event}] = true
		if len(o.line) <= lim.RecordBytes {
			t.Errorf("event %d/%d quarantined at %d bytes, within the %d limit", o.rec, o.event, len(o.line), lim.RecordBytes)
		}
	}
	for i, r := range b.Records {
		if r.Message == nil {
			continue
		}
		for k := range r.Message.LogEvents {
			if !overAt[[2]int{i, k}] {
				want.Write(record.AppendLine(nil, r.Message, &r.Message.LogEvents[k]))
			}
		}
	}
	for ci, c := range calls {
		total := 0
		if len(c) == 0 || len(c) > lim.Records {
			t.Errorf("call %d has %d records (limit %d)", ci, len(c), lim.Records)
		}
		for ri, r := range c {
			total += len(r.data)
			if len(r.data) == 0 || len(r.data) > lim.RecordBytes {
				t.Errorf("call %d record %d is %d bytes (limit %d)", ci, ri, len(r.data), lim.RecordBytes)
			}
			if r.data[len(r.data)-1] != '\n' {
				t.Errorf("call %d record %d does not end in a newline", ci, ri)
			}
			lines := bytes.SplitAfter(r.data, []byte("\n"))
			lines = lines[:len(lines)-1] // after the final '\n'
			if single && len(lines) != 1 {
				t.Errorf("single mode: call %d record %d holds %d events", ci, ri, len(lines))
			}
			// spans must describe the record's lines exactly
			evs, n := 0, 0
			for si, sp := range r.spans {
				evs += sp.events
				n += sp.bytes
				// A record's events are in one span unless an oversize event
				// between them left a gap (then the next span starts after it).
				if prev := r.spans[max(si-1, 0)]; si > 0 && (sp.rec < prev.rec || sp.rec == prev.rec && sp.from <= prev.from+prev.events) {
					t.Errorf("call %d record %d: spans out of stream order %v", ci, ri, r.spans)
				}
			}
			if evs != len(lines) || n != len(r.data) || len(r.spans) == 0 || r.first != r.spans[0].rec {
				t.Errorf("call %d record %d: spans %v first %d for %d lines of %d bytes", ci, ri, r.spans, r.first, len(lines), len(r.data))
			}
			li := 0
			for _, sp := range r.spans {
				for e := 0; e < sp.events; e++ {
					if !bytes.Contains(lines[li], []byte(fmt.Sprintf(`"id":"r%05de`, sp.rec))) {
						t.Errorf("call %d record %d line %d is not from Kinesis record %d", ci, ri, li, sp.rec)
					}
					li++
				}
			}
			got.Write(r.data)
			// greedy: the next record's first line would not have fit here
			if !single && ri+1 < len(c) {
				next := c[ri+1].data
				firstLine := next[:bytes.IndexByte(next, '\n')+1]
				if len(r.data)+len(firstLine) <= lim.RecordBytes && total+len(firstLine) <= lim.CallBytes {
					t.Errorf("call %d record %d (%d bytes) closed although the next line (%d bytes) fit", ci, ri, len(r.data), len(firstLine))
				}
			}
		}
		if total > lim.CallBytes {
			t.Errorf("call %d carries %d bytes (limit %d)", ci, total, lim.CallBytes)
		}
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("packed NDJSON (%d bytes) differs from the events' lines in stream order (%d bytes)", got.Len(), want.Len())
	}
}

func TestBillingUnits(t *testing.T) {
	for _, tt := range []struct{ n, want int }{{0, 0}, {1, 1}, {5120, 1}, {5121, 2}, {MaxRecordBytes, 200}} {
		if got := BillingUnits(tt.n); got != tt.want {
			t.Errorf("BillingUnits(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestLimitsOrDefault(t *testing.T) {
	if got := (Limits{}).orDefault(); got != DefaultLimits() {
		t.Errorf("zero Limits -> %+v, want the defaults", got)
	}
	if got := (Limits{CallBytes: 1000}).orDefault(); got.RecordBytes != 1000 || got.Records != MaxBatchRecords {
		t.Errorf("a record limit above the call limit must shrink to it: %+v", got)
	}
}
