package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/logfan/logfan/internal/ops/capacity"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/subscription"
)

// Units: AWS bills GB as 2^30 bytes; a TB of log JSON here is 10^12 bytes.
const (
	gb = capacity.GiB
	tb = 1e12
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
	// TBPerMonth is the monthly volume the on-demand stream-hours are
	// spread over (they are billed per hour, whatever the volume).
	TBPerMonth float64
}

// invocationJSON is the uncompressed JSON one full invocation carries: a
// 6 MB event is base64 record data (3 bytes per 4) around little else.
func (w Workload) invocationJSON() float64 { return capacity.InvocationJSON(w.Ratio) }

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
	Stream                                  // the stream, USD
	Service, ServiceNaive           float64 // Firehose or PutLogEvents ingestion, USD
	MemoryMB                        int     // the smallest memory size the measurements support
}

// lambdaPerTB is the Lambda charge for a TB of JSON processed at mbps on one
// core with memoryMB of memory: CPU-bound work runs at the memory's vCPU
// share (at most one core, since the path is measured on one), and duration
// is billed in GB-seconds; plus one request per full invocation.
func lambdaPerTB(mbps float64, memoryMB int, w Workload) (cpuSeconds, usd float64) {
	cpuSeconds = tb / 1e6 / mbps
	requests := tb / w.invocationJSON()
	return cpuSeconds, capacity.LambdaGBSeconds(cpuSeconds, memoryMB)*capacity.LambdaArmGBSecond + requests*capacity.LambdaPerRequest
}

// Stream is what the stream charges for a TB of JSON arriving as w's gzip
// records, read by one sink.
type Stream struct {
	// In, Read and Hours are on demand: data in (records rounded up to 1
	// KB), data read by one standard consumer, and the stream-hours' share
	// of a TB at w.TBPerMonth.
	In, Read, Hours float64
	// Provisioned is shards written at their full 1 MiB/s (a lower bound:
	// real shards run below it) and PUT payload units; standard reads are
	// included in the shard-hours.
	Provisioned float64
}

// OnDemand is the on-demand total for one reading sink.
func (s Stream) OnDemand() float64 { return s.In + s.Read + s.Hours }

// streamPerTB prices the stream for a TB of JSON.
func streamPerTB(w Workload) Stream {
	compressed := tb / w.Ratio
	records := compressed / w.RecordBytes
	s := Stream{
		In:    records * math.Ceil(w.RecordBytes/capacity.OnDemandRoundBytes) * capacity.OnDemandRoundBytes / gb * capacity.KinesisOnDemandPerGBIn,
		Read:  compressed / gb * capacity.KinesisOnDemandPerGBOut,
		Hours: capacity.MonthHours * capacity.KinesisOnDemandStreamHour / w.TBPerMonth,
	}
	shardHours := compressed / capacity.ShardWriteBytes / 3600
	s.Provisioned = shardHours*capacity.KinesisShardHour + records*math.Ceil(w.RecordBytes/capacity.PutUnitBytes)*capacity.KinesisPerPutUnit
	return s
}

// memoryFor is the smallest memory size whose CPU share processes a full
// shard (1 MiB/s of gzip records) with capacity.Headroom at mbps, and
// whose GOMEMLIMIT holds the peak heap.
func memoryFor(mbps, peakHeapMB float64, w Workload) int {
	shardMBps := float64(capacity.ShardWriteBytes) * w.Ratio / 1e6
	return capacity.MemoryFor(capacity.Headroom*shardMBps/mbps, peakHeapMB, w.invocationJSON())
}

// Build prices a TB of JSON through each path at memoryMB.
func Build(paths []Path, w Workload, memoryMB int) []Row {
	rows := make([]Row, 0, len(paths))
	st := streamPerTB(w)
	for _, p := range paths {
		r := Row{Path: p, Stream: st}
		r.CPUSecondsOurs, r.LambdaOurs = lambdaPerTB(p.OursMBps, memoryMB, w)
		r.CPUSecondsNaive, r.LambdaNaive = lambdaPerTB(p.NaiveMBps, memoryMB, w)
		switch {
		case p.EventsPerByte > 0: // Firehose: records billed in 5 KB steps
			unit := float64(5 << 10)
			r.Service = tb * p.EventsPerByte * p.OursUnitsPerEvent * unit / gb * capacity.FirehosePerGB
			r.ServiceNaive = tb * p.EventsPerByte * p.NaiveUnitsPerEvent * unit / gb * capacity.FirehosePerGB
		case strings.Contains(p.Sink, "Logs"):
			r.Service = tb * w.MessageFraction / gb * capacity.LogsIngestPerGB
			r.ServiceNaive = r.Service
		}
		r.MemoryMB = memoryFor(p.OursMBps, p.PeakHeapMB, w)
		rows = append(rows, r)
	}
	return rows
}

// Write prints rows as a Markdown table, with the assumptions under it.
func Write(out io.Writer, rows []Row, w Workload, memoryMB int) {
	fmt.Fprintf(out, "USD per TB (10^12 bytes) of uncompressed subscription JSON, us-east-1 (prices read %s), arm64 Lambda at %d MB, the stream carrying %.0f TB a month.\n\n", capacity.PricesRead, memoryMB, w.TBPerMonth)
	fmt.Fprintln(out, "| sink | decode MB/s (CPU) | naive MB/s (CPU) | logfan MB/s (CPU) | logfan/naive | of decode | CPU s/TB naive | CPU s/TB logfan | Lambda naive | Lambda logfan | Kinesis on-demand (in + this sink's read + stream-hours) | Kinesis provisioned (full shards) | sink service naive | sink service logfan | total logfan (on-demand) | peak heap MB | memory MB |")
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
			usd(r.OnDemand()), usd(r.Provisioned), svcNaive, svc,
			usd(r.LambdaOurs+r.OnDemand()+r.Service), heap, r.MemoryMB)
	}
	rec, rec10 := 128, 128
	for _, r := range rows {
		rec = max(rec, r.MemoryMB)
		// Real logs often compress better than the generated ones: at a
		// ratio of 10 a full shard carries more JSON per second.
		rec10 = max(rec10, memoryFor(r.OursMBps, r.PeakHeapMB, Workload{Ratio: 10, TBPerMonth: w.TBPerMonth}))
	}
	fmt.Fprintf(out, "\nWorkload: gzip ratio %.1f, mean Kinesis record %.0f bytes, messages %.0f%% of the JSON; a full invocation carries %.0f MB of JSON.\n",
		w.Ratio, w.RecordBytes, 100*w.MessageFraction, w.invocationJSON()/1e6)
	if len(rows) > 0 {
		st := rows[0].Stream
		fmt.Fprintf(out, "Kinesis on demand per TB: data in %s (records rounded up to 1 KB), each standard consumer's read %s (%d sinks read it %d times: %s), stream-hours %s ($%.2f a month over %.0f TB); logfan plan prices the stream for a given volume.\n",
			usd(st.In), usd(st.Read), len(rows), len(rows), usd(st.Read*float64(len(rows))), usd(st.Hours), capacity.MonthHours*capacity.KinesisOnDemandStreamHour, w.TBPerMonth)
	}
	fmt.Fprintf(out, "Lambda: CPU time measured on one core of this machine (not Graviton); below %d MB the billed GB-seconds of CPU-bound work do not depend on memory, so the network waits (not measured here, billed at the memory size) are what a smaller size saves.\n", capacity.MBPerVCPU)
	fmt.Fprintf(out, "Memory: the smallest size whose CPU share processes a full shard (1 MiB/s of gzip records = %.1f MB/s of JSON) %dx over on the path, whose GOMEMLIMIT (2/3) holds the peak heap, and whose decompression cap (an eighth) holds a full invocation's JSON: %d MB for these sinks.\n",
		float64(capacity.ShardWriteBytes)*w.Ratio/1e6, capacity.Headroom, rec)
	fmt.Fprintf(out, "At a gzip ratio of 10 (repetitive logs; a full shard is then %.1f MB/s of JSON) the same rule gives %d MB. The stack's default, %d MB, is the smallest size whose cap is the whole %d MiB: it holds a full invocation up to a ratio of %.1f; logfan plan gives the size for a given workload.\n",
		float64(1<<20)*10/1e6, rec10, config.FullCapMemoryMB, subscription.DefaultMaxDecompressed>>20, float64(subscription.DefaultMaxDecompressed)/capacity.InvocationJSON(1))
}

func usd(v float64) string {
	if v < 10 {
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.0f", v)
}
