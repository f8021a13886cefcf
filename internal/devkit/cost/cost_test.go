package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.9g, want %.9g", what, got, want)
	}
}

// TestLambdaPerTB checks the Lambda arithmetic by hand: 100 MB/s is 10,000
// CPU seconds per TB; below 1,769 MB the duration stretches by 1769/memory
// and the GB-seconds stay 10,000 × 1769/1024; above it a one-core path
// pays for memory it cannot use.
func TestLambdaPerTB(t *testing.T) {
	w := Workload{Ratio: 10, TBPerMonth: 30}
	requests := 1e12 / (6 << 20 * 0.75 * 10) * 0.20 / 1e6
	cpu, usd := lambdaPerTB(100, 1024, w)
	near(t, "cpu seconds", cpu, 10000)
	near(t, "1024 MB", usd, 10000*1769.0/1024*0.0000133334+requests)
	_, at512 := lambdaPerTB(100, 512, w)
	near(t, "512 MB", at512, usd) // same GB-seconds for CPU-bound work
	_, at3538 := lambdaPerTB(100, 3538, w)
	near(t, "3538 MB", at3538, 10000*3538.0/1024*0.0000133334+requests)
}

// TestStreamPerTB checks the stream charges for 4,000-byte records at a
// gzip ratio of 8: 1.25x10^11 compressed bytes (116.4 GB of 2^30) in 31.25
// million records. On demand: data in with each record rounded up to 4 KB
// (4,096 bytes) at $0.08/GB, one standard consumer's read of the 116.4 GB
// at $0.04/GB, and 730 stream-hours at $0.04 spread over 30 TB a month.
// Provisioned: full shards (1.25x10^11 / 2^20 / 3,600 = 33.1 shard-hours)
// at $0.015, and one 25 KB PUT unit per record at $0.014 per million.
func TestStreamPerTB(t *testing.T) {
	s := streamPerTB(Workload{Ratio: 8, RecordBytes: 4000, TBPerMonth: 30})
	records := 1e12 / 8 / 4000
	near(t, "in", s.In, records*4096/(1<<30)*0.08)
	near(t, "read", s.Read, 1e12/8/(1<<30)*0.04)
	near(t, "stream-hours", s.Hours, 730*0.04/30)
	near(t, "on demand", s.OnDemand(), records*4096/(1<<30)*0.08+1e12/8/(1<<30)*0.04+730*0.04/30)
	near(t, "provisioned", s.Provisioned, 1e12/8/(1<<20)/3600*0.015+records*0.014/1e6)
	// Before issue 26 the on-demand figure was the data in alone: the read
	// and the stream-hours add 53% here.
	if s.OnDemand() < 1.5*s.In {
		t.Errorf("on demand %v leaves out the read or the stream-hours (in alone: %v)", s.OnDemand(), s.In)
	}
}

// TestMemoryFor checks the memory size follows the largest of three
// needs: CPU for a full shard with headroom, GOMEMLIMIT for the heap, and
// a decompression cap holding a full invocation's JSON.
func TestMemoryFor(t *testing.T) {
	// At ratio 10 a full shard is 10.48576 MB/s of JSON, and a full
	// invocation 47.2 MB of it (an eighth of 360 MB).
	w := Workload{Ratio: 10, TBPerMonth: 30}
	if got := memoryFor(100, 60, w); got != 384 { // CPU: 1769×2×10.49/100 = 371 MB
		t.Errorf("CPU-bound: %d MB, want 384", got)
	}
	if got := memoryFor(1e6, 1, w); got != 384 { // cap: 8 × 45 MiB = 360 MB
		t.Errorf("cap-bound: %d MB, want 384", got)
	}
	// At ratio 2 a full invocation is 9.4 MB of JSON: a 72 MB cap need.
	w = Workload{Ratio: 2, TBPerMonth: 30}
	if got := memoryFor(1000, 200, w); got != 320 { // heap: 200×1.5 = 300 MB
		t.Errorf("heap-bound: %d MB, want 320", got)
	}
	if got := memoryFor(1e6, 1, w); got != 128 {
		t.Errorf("floor: %d MB, want 128", got)
	}
}

// TestFirehoseIngestion checks the 5 KB rounding enters the charge: 400-byte
// events are 2.5×10^9 per TB; one per record bills 5 KB each.
func TestFirehoseIngestion(t *testing.T) {
	p := Path{Sink: "Firehose", DecodeMBps: 400, NaiveMBps: 40, OursMBps: 120, EventsPerByte: 1.0 / 400, OursUnitsPerEvent: 0.1, NaiveUnitsPerEvent: 1}
	r := Build([]Path{p}, Workload{Ratio: 8, RecordBytes: 4000, MessageFraction: 0.5, TBPerMonth: 30}, 1024)[0]
	near(t, "naive", r.ServiceNaive, 2.5e9*5120/(1<<30)*0.029)
	near(t, "packed", r.Service, 2.5e9*0.1*5120/(1<<30)*0.029)
	logs := Build([]Path{{Sink: "CloudWatch Logs", DecodeMBps: 1, NaiveMBps: 1, OursMBps: 1}}, Workload{Ratio: 8, RecordBytes: 4000, MessageFraction: 0.5, TBPerMonth: 30}, 1024)[0]
	near(t, "logs", logs.Service, 0.5e12/(1<<30)*0.50)
}

// TestParseBench reads go test output: package prefixes, a GOMAXPROCS
// suffix, several runs, and lines that are not results.
func TestParseBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/logfan/logfan/shared/sink/firehosesink
BenchmarkPipeline/app/ours         	      43	  28760971 ns/op	 110.97 MB/s	         0.08410 billed5KB/event	         2.853 µs/event
BenchmarkPipeline/app/ours-2       	      40	  30000000 ns/op	 130.00 MB/s	         0.08410 billed5KB/event	         2.700 µs/event
BenchmarkPipeline/app/ours         	      41	  29000000 ns/op	 120.00 MB/s	         0.08410 billed5KB/event	         2.800 µs/event
BenchmarkPipeline/app/naive
--- FAIL: something
PASS
`
	res, err := parseBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	m, err := res.median("firehosesink/BenchmarkPipeline/app/ours", "MB/s")
	if err != nil || m != 120 {
		t.Fatalf("median %v, %v; want 120", m, err)
	}
	if _, err := res.median("firehosesink/BenchmarkPipeline/app/naive", "MB/s"); err == nil {
		t.Fatal("a benchmark without results has a median")
	}
	var buf bytes.Buffer
	Write(&buf, Build([]Path{{Sink: "S3", DecodeMBps: 300, NaiveMBps: 30, OursMBps: 120}}, Workload{Ratio: 8, RecordBytes: 4000, MessageFraction: 0.5, TBPerMonth: 30}, 1024), Workload{Ratio: 8, RecordBytes: 4000, MessageFraction: 0.5, TBPerMonth: 30}, 1024)
	if !strings.Contains(buf.String(), "| S3 | 300 | 30 | 120 | 4.00x | 40% |") {
		t.Errorf("table:\n%s", buf.String())
	}
}
