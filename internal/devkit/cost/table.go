package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Workload describes the log data the table prices, measured on the
// benchmarks' own input.
type Workload struct {
	// Ratio is uncompressed subscription JSON bytes per byte of the gzip
	// payloads CloudWatch Logs puts on the stream.
	Ratio float64
	// RecordBytes is the mean Kinesis record (one gzip payload) size.
	RecordBytes float64
	// MessageFraction is the share of the JSON that is log messages: what
	// the Logs sink writes with PutLogEvents.
	MessageFraction float64
}

// invocationJSON is the uncompressed JSON one full invocation carries: a
// 6 MB event is base64 record data (3 bytes per 4) around little else.
func (w Workload) invocationJSON() float64 { return MaxInvocationBytes * 3 / 4 * w.Ratio }

// Path is one sink's measured whole path.
type Path struct {
	Sink string
	// MB/s of CPU time (10^6 bytes of uncompressed JSON per CPU second, on
	// one core) of decode alone, the naive pipeline and logfan's, in the
	// same run.
	DecodeMBps, NaiveMBps, OursMBps float64
	// Firehose only: 5 KB billing units per event sent, and events per
	// byte of JSON, for the ingestion charge.
	OursUnitsPerEvent, NaiveUnitsPerEvent, EventsPerByte float64
	// PeakHeapMB is the peak heap of a 6 MB invocation through the
	// handler at the stack's settings (0 if not measured).
	PeakHeapMB float64
}

// Row is what a TB of log JSON costs through one sink.
type Row struct {
	Path
	CPUSecondsOurs, CPUSecondsNaive float64
	LambdaOurs, LambdaNaive         float64 // duration and requests, USD
	KinesisOnDemand, KinesisShards  float64 // the stream, USD
	Service, ServiceNaive           float64 // Firehose or PutLogEvents ingestion, USD
	MemoryMB                        int     // the smallest memory size the measurements support
}

// lambdaPerTB is the Lambda charge for a TB of JSON processed at mbps on one
// core with memoryMB of memory: CPU-bound work runs at the memory's vCPU
// share (at most one core, since the path is measured on one), and duration
// is billed in GB-seconds; plus one request per full invocation.
func lambdaPerTB(mbps float64, memoryMB int, w Workload) (cpuSeconds, usd float64) {
	cpuSeconds = tb / 1e6 / mbps
	duration := cpuSeconds * math.Max(1, MBPerVCPU/float64(memoryMB))
	requests := tb / w.invocationJSON()
	return cpuSeconds, duration*float64(memoryMB)/1024*LambdaArmGBSecond + requests*LambdaPerRequest
}

// streamPerTB is what the stream charges for a TB of JSON arriving as
// w's gzip records: on demand (per GB in, records rounded up to 1 KB), and
// provisioned with every shard written at its full 1 MiB/s (a lower bound:
// real shards run below it).
func streamPerTB(w Workload) (onDemand, provisioned float64) {
	records := tb / w.Ratio / w.RecordBytes
	onDemand = records * math.Ceil(w.RecordBytes/1024) * 1024 / gb * KinesisOnDemandPerGBIn
	shardHours := tb / w.Ratio / (1 << 20) / 3600
	provisioned = shardHours*KinesisShardHour + records*math.Ceil(w.RecordBytes/(25<<10))*KinesisPerPutUnit
	return onDemand, provisioned
}

// Headroom is how much faster than a full shard arrives one invocation
// must process data, so that it keeps up and catches up after a stall.
const Headroom = 2

// memoryFor is the smallest memory size (a multiple of 64 MB, at least
// 128) whose CPU share processes a full shard (1 MiB/s of gzip records) with
// Headroom at mbps, and whose GOMEMLIMIT (2/3 of memory) holds the peak heap.
func memoryFor(mbps, peakHeapMB float64, w Workload) int {
	shardMBps := float64(1<<20) * w.Ratio / 1e6
	need := math.Max(MBPerVCPU*Headroom*shardMBps/mbps, peakHeapMB*3/2)
	return max(128, int(math.Ceil(need/64))*64)
}

// Build prices a TB of JSON through each path at memoryMB.
func Build(paths []Path, w Workload, memoryMB int) []Row {
	rows := make([]Row, 0, len(paths))
	od, prov := streamPerTB(w)
	for _, p := range paths {
		r := Row{Path: p, KinesisOnDemand: od, KinesisShards: prov}
		r.CPUSecondsOurs, r.LambdaOurs = lambdaPerTB(p.OursMBps, memoryMB, w)
		r.CPUSecondsNaive, r.LambdaNaive = lambdaPerTB(p.NaiveMBps, memoryMB, w)
		switch {
		case p.EventsPerByte > 0: // Firehose: records billed in 5 KB steps
			unit := float64(5 << 10)
			r.Service = tb * p.EventsPerByte * p.OursUnitsPerEvent * unit / gb * FirehosePerGB
			r.ServiceNaive = tb * p.EventsPerByte * p.NaiveUnitsPerEvent * unit / gb * FirehosePerGB
		case strings.Contains(p.Sink, "Logs"):
			r.Service = tb * w.MessageFraction / gb * LogsIngestPerGB
			r.ServiceNaive = r.Service
		}
		r.MemoryMB = memoryFor(p.OursMBps, p.PeakHeapMB, w)
		rows = append(rows, r)
	}
	return rows
}

// Write prints rows as a Markdown table, with the assumptions under it.
func Write(out io.Writer, rows []Row, w Workload, memoryMB int) {
	fmt.Fprintf(out, "USD per TB (10^12 bytes) of uncompressed subscription JSON, us-east-1, arm64 Lambda at %d MB.\n\n", memoryMB)
	fmt.Fprintln(out, "| sink | decode MB/s (CPU) | naive MB/s (CPU) | logfan MB/s (CPU) | logfan/naive | of decode | CPU s/TB naive | CPU s/TB logfan | Lambda naive | Lambda logfan | Kinesis on-demand | Kinesis provisioned (full shards) | sink service naive | sink service logfan | total logfan (on-demand) | peak heap MB | memory MB |")
	fmt.Fprintln(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		svc, svcNaive := "—", "—"
		if r.Service > 0 {
			svc, svcNaive = usd(r.Service), usd(r.ServiceNaive)
		}
		heap := "—"
		if r.PeakHeapMB > 0 {
			heap = fmt.Sprintf("%.0f", r.PeakHeapMB)
		}
		fmt.Fprintf(out, "| %s | %.0f | %.0f | %.0f | %.2fx | %.0f%% | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n",
			r.Sink, r.DecodeMBps, r.NaiveMBps, r.OursMBps, r.OursMBps/r.NaiveMBps, 100*r.OursMBps/r.DecodeMBps,
			r.CPUSecondsNaive, r.CPUSecondsOurs, usd(r.LambdaNaive), usd(r.LambdaOurs),
			usd(r.KinesisOnDemand), usd(r.KinesisShards), svcNaive, svc,
			usd(r.LambdaOurs+r.KinesisOnDemand+r.Service), heap, r.MemoryMB)
	}
	rec, rec10 := 128, 128
	for _, r := range rows {
		rec = max(rec, r.MemoryMB)
		// Real logs often compress better than the generated ones: at a
		// ratio of 10 a full shard carries more JSON per second.
		rec10 = max(rec10, memoryFor(r.OursMBps, r.PeakHeapMB, Workload{Ratio: 10}))
	}
	fmt.Fprintf(out, "\nWorkload: gzip ratio %.1f, mean Kinesis record %.0f bytes, messages %.0f%% of the JSON; a full invocation carries %.0f MB of JSON.\n",
		w.Ratio, w.RecordBytes, 100*w.MessageFraction, w.invocationJSON()/1e6)
	fmt.Fprintf(out, "Lambda: CPU time measured on one core of this machine (not Graviton); below %d MB the billed GB-seconds of CPU-bound work do not depend on memory, so the network waits (not measured here, billed at the memory size) are what a smaller size saves.\n", MBPerVCPU)
	fmt.Fprintf(out, "Memory: the smallest size whose CPU share processes a full shard (1 MiB/s of gzip records = %.1f MB/s of JSON) %dx over on the path, and whose GOMEMLIMIT (2/3) holds the peak heap: %d MB for these sinks.\n",
		float64(1<<20)*w.Ratio/1e6, Headroom, rec)
	fmt.Fprintf(out, "At a gzip ratio of 10 (repetitive logs; a full shard is then %.1f MB/s of JSON) the same rule gives %d MB.\n", float64(1<<20)*10/1e6, rec10)
}

func usd(v float64) string {
	if v < 10 {
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.0f", v)
}
