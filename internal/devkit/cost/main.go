// Command cost turns the sinks' whole-path benchmarks into what a TB of
// log JSON costs: Lambda (from the measured CPU time per MB), the Kinesis
// stream (data in, the sink's read and the stream-hours on demand, or
// provisioned shards), and the Firehose or CloudWatch Logs ingestion,
// logfan beside the naive pipelines, and the function memory size the
// measurements support. Prices come from internal/ops/capacity, which
// `logfan plan` shares. `make cost` runs the benchmarks and then this on
// their output:
//
//	go run ./internal/devkit/cost [-memory 512] [-tb-per-month 30] bench/cost.txt
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/ops/capacity"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/subscription"
)

// pathBench names the benchmarks of one sink's whole path in the output
// (package/name; the realistic "app" input).
type pathBench struct {
	sink, decode, naive, ours, heap string
	firehose                        bool
}

var benches = []pathBench{
	{sink: "S3", decode: "s3sink/BenchmarkPipeline/kind=app/impl=decode", naive: "s3sink/BenchmarkPipeline/kind=app/impl=naive", ours: "s3sink/BenchmarkPipeline/kind=app/impl=logfan", heap: "app/BenchmarkPeakHeap/sink=s3"},
	{sink: "Firehose", decode: "firehosesink/BenchmarkPipeline/app/decode", naive: "firehosesink/BenchmarkPipeline/app/naive", ours: "firehosesink/BenchmarkPipeline/app/ours", heap: "app/BenchmarkPeakHeap/sink=firehose", firehose: true},
	{sink: "CloudWatch Logs", decode: "logssink/BenchmarkLogsPipeline/decode/app", naive: "logssink/BenchmarkLogsPipeline/naive/app", ours: "logssink/BenchmarkLogsPipeline/ours/app", heap: "app/BenchmarkPeakHeap/sink=logs"},
}

func main() {
	memory := flag.Int("memory", config.FullCapMemoryMB, "function memory size in MB to price (the stack's default)")
	tbPerMonth := flag.Float64("tb-per-month", 30, "TB of log JSON the stream carries a month, over which its on-demand stream-hours are spread (30: 1 TB a day)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: cost [-memory MB] [-tb-per-month TB] BENCH_OUTPUT")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *memory < capacity.MinMemoryMB || *memory > capacity.MaxMemoryMB || !(*tbPerMonth > 0) {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *memory, *tbPerMonth); err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
}

func run(file string, memory int, tbPerMonth float64) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	res, err := parseBench(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var paths []Path
	for _, pb := range benches {
		p, err := measured(res, pb)
		if err != nil {
			return err
		}
		paths = append(paths, p)
	}
	w, err := workload()
	if err != nil {
		return err
	}
	w.TBPerMonth = tbPerMonth
	Write(os.Stdout, Build(paths, w, memory), w, memory)
	return nil
}

// measured reads one path's medians from the benchmark output.
func measured(res results, pb pathBench) (Path, error) {
	p := Path{Sink: pb.sink}
	for _, m := range []struct {
		dst        *float64
		name, unit string
	}{{&p.DecodeMBps, pb.decode, "cpu-MB/s"}, {&p.NaiveMBps, pb.naive, "cpu-MB/s"}, {&p.OursMBps, pb.ours, "cpu-MB/s"}} {
		// CPU time, not wall time: what Lambda bills for CPU-bound work,
		// and steady on a shared machine.
		v, err := res.median(m.name, m.unit)
		if err != nil {
			return p, err
		}
		*m.dst = v
	}
	if pb.firehose {
		var err error
		if p.OursUnitsPerEvent, err = res.median(pb.ours, "billed5KB/event"); err != nil {
			return p, err
		}
		if p.NaiveUnitsPerEvent, err = res.median(pb.naive, "billed5KB/event"); err != nil {
			return p, err
		}
		// Both from wall time, so their product is exact: bytes per event.
		mbps, err := res.median(pb.ours, "MB/s")
		if err != nil {
			return p, err
		}
		usPerEvent, err := res.median(pb.ours, "µs/event")
		if err != nil {
			return p, err
		}
		p.EventsPerByte = 1 / (mbps * usPerEvent)
	}
	if v, err := res.median(pb.heap, "peak-MB"); err == nil {
		p.PeakHeapMB = v // optional: the table says when it was not measured
	}
	return p, nil
}

// workload measures the benchmarks' realistic input: 10 records of 1,000
// application-log events, as the sinks' pipeline benchmarks generate it.
func workload() (Workload, error) {
	payloads := benchinput.Payloads(1, 10, 1000, eventgen.KindApp)
	var gz, msgs int
	dec := subscription.NewDecoder(0)
	for _, p := range payloads {
		gz += len(p)
		m, err := dec.Decode(p)
		if err != nil {
			return Workload{}, err
		}
		for i := range m.LogEvents {
			msgs += len(m.LogEvents[i].Message)
		}
	}
	raw := float64(benchinput.UncompressedSize(payloads))
	return Workload{Ratio: raw / float64(gz), RecordBytes: float64(gz) / float64(len(payloads)), MessageFraction: float64(msgs) / raw}, nil
}
