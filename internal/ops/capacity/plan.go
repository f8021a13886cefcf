// Package capacity turns a daily log volume into a logfan deployment: the
// stream's mode and shards, how the sinks read it, the event source
// mappings' settings and the functions' memory, the sinks' quotas, and a
// monthly bill per service, with warnings where a quota or limit comes
// near. Prices and limits live here once, with their sources; `logfan plan`
// prints a Plan and `make cost` prices a TB with the same figures.
//
// The arithmetic is deliberately plain (rates times prices); every
// assumption is named where it is made, and the unit tests check it against
// cases computed by hand.
package capacity

import (
	"fmt"
	"math"
	"slices"

	"github.com/logfan/logfan/shared/config"
)

// Rates are the stream's load, in bytes and records per second.
type Rates struct {
	// AvgJSON and PeakJSON are uncompressed subscription JSON.
	AvgJSON  float64 `json:"avgJSONBytesPerSecond"`
	PeakJSON float64 `json:"peakJSONBytesPerSecond"`
	// AvgStream and PeakStream are the gzip payloads on the stream.
	AvgStream  float64 `json:"avgStreamBytesPerSecond"`
	PeakStream float64 `json:"peakStreamBytesPerSecond"`
	// AvgRecords and PeakRecords are Kinesis records.
	AvgRecords  float64 `json:"avgRecordsPerSecond"`
	PeakRecords float64 `json:"peakRecordsPerSecond"`
	// AvgEvents and PeakEvents are log events.
	AvgEvents  float64 `json:"avgEventsPerSecond"`
	PeakEvents float64 `json:"peakEventsPerSecond"`
	// RecordBytes is the mean record.
	RecordBytes float64 `json:"recordBytes"`
}

// Stream modes and read modes.
const (
	OnDemand    = "on-demand"
	Provisioned = "provisioned"
	Standard    = "standard"
	FanOut      = "enhanced fan-out"
)

// StreamOption is one way to run the stream and read it, priced.
type StreamOption struct {
	Mode  string `json:"mode"`
	Reads string `json:"reads"`
	// Shards is the provisioned shard count, or for on demand the shards
	// the peak fills (what the read and concurrency arithmetic assume).
	Shards int `json:"shards"`
	// ReadShare is the standard consumers' reads at the peak over a
	// shard's 2 MiB/s (0 with enhanced fan-out: each consumer has its own).
	ReadShare float64 `json:"readShare"`
	// Feasible is false when a limit rules the option out (Why says which).
	Feasible bool   `json:"feasible"`
	Why      string `json:"why,omitempty"`
	// Lines is the monthly Kinesis bill of this option.
	Lines []Line  `json:"lines"`
	USD   float64 `json:"usd"`
}

// Stream is how to run the stream.
type Stream struct {
	// WriteShards is the shards the peak needs for writes, each written to
	// at most Near of its 1 MiB/s and 1,000 records/s; BoundBy says which
	// of the two binds.
	WriteShards int    `json:"writeShards"`
	BoundBy     string `json:"boundBy"`
	// Options are every mode and read combination, Chosen the cheapest feasible.
	Options []StreamOption `json:"options"`
	Chosen  int            `json:"chosen"`
}

// Function is one sink's function: its load, memory and cost.
type Function struct {
	Sink  string  `json:"sink"`
	Share float64 `json:"share"`
	// MBps is the CPU throughput the plan assumes: the measured path for the
	// share delivered, decode alone for what the routes send elsewhere.
	MBps float64 `json:"mbps"`
	// VCPU is the CPU share one instance needs at a shard's peak with Headroom.
	VCPU float64 `json:"vcpu"`
	// MemoryMB is the smallest size giving VCPU and holding the peak heap.
	MemoryMB int `json:"memoryMB"`
	// Concurrency is shards times the parallelization factor.
	Concurrency int `json:"concurrency"`
	// CPUSeconds, GBSeconds and Invocations are per month.
	CPUSeconds  float64 `json:"cpuSecondsPerMonth"`
	GBSeconds   float64 `json:"gbSecondsPerMonth"`
	Invocations float64 `json:"invocationsPerMonth"`
}

// Mapping is the event source mappings' settings (the same for every function, as the stack sets them).
type Mapping struct {
	BatchSize             int `json:"batchSize"`
	BatchWindowSeconds    int `json:"batchWindowSeconds"`
	ParallelizationFactor int `json:"parallelizationFactor"`
	// FunctionMemoryMB is the largest of the functions' MemoryMB (one stack setting).
	FunctionMemoryMB int `json:"functionMemoryMB"`
	// BatchBytes is a full batch of mean records on the stream.
	BatchBytes float64 `json:"batchBytes"`
	// Invocations per second per function, on average and at the peak.
	AvgInvocations  float64 `json:"avgInvocationsPerSecond"`
	PeakInvocations float64 `json:"peakInvocationsPerSecond"`
	// Concurrency is every function's instances at the peak together.
	Concurrency int        `json:"concurrency"`
	Functions   []Function `json:"functions"`
}

// Quotas are the sinks' rates at the peak against their quotas.
type Quotas struct {
	// Firehose: bytes, records and PutRecordBatch calls per second into the
	// Firehose streams, one stream's quota, and the streams needed to run
	// each at most at Near of it.
	FirehoseBytes    float64       `json:"firehoseBytesPerSecond,omitempty"`
	FirehoseRecords  float64       `json:"firehoseRecordsPerSecond,omitempty"`
	FirehoseRequests float64       `json:"firehoseRequestsPerSecond,omitempty"`
	FirehoseQuota    FirehoseQuota `json:"firehoseQuota"`
	FirehoseStreams  int           `json:"firehoseStreams,omitempty"`
	// PutLogEvents calls per second against the account's quota.
	PutLogEvents      float64 `json:"putLogEventsPerSecond,omitempty"`
	PutLogEventsQuota float64 `json:"putLogEventsQuota"`
	// S3 PUTs per second in all, and at worst into one prefix (a log group
	// busy enough to reach every invocation), against 3,500.
	S3Puts          float64 `json:"s3PutsPerSecond,omitempty"`
	S3PutsPerPrefix float64 `json:"s3PutsPerPrefixPerSecond,omitempty"`
	S3PrefixLimit   float64 `json:"s3PrefixLimit"`
}

// Line is one item of the monthly bill.
type Line struct {
	Service  string  `json:"service"`
	Item     string  `json:"item"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
	USD      float64 `json:"usd"`
}

// Plan is the whole answer.
type Plan struct {
	Input    Input    `json:"input"`
	Rates    Rates    `json:"rates"`
	Stream   Stream   `json:"stream"`
	Mapping  Mapping  `json:"mapping"`
	Quotas   Quotas   `json:"quotas"`
	Bill     []Line   `json:"bill"`
	Total    float64  `json:"totalUSD"`
	Warnings []string `json:"warnings"`
	// Context is the stack's context keys for this plan (`-c key=value`).
	Context []string `json:"context"`
	// Sources says where the prices and the throughput come from.
	Sources []string `json:"sources"`
}

// recordEnvelope is what the Lambda Kinesis event adds around each
// record's base64 data (event ID, ARNs, sequence number, keys): about 500
// bytes in events/kinesis-data.json.
const recordEnvelope = 500

// MaxWindowSeconds caps the batching window the plan sets: the stack's
// default, a latency the plan does not trade for fewer invocations.
const MaxWindowSeconds = 5

// Function log output per invocation: the consumer's summary line (281
// bytes) and its sink-level EMF document (530), measured on
// events/kinesis-data.json through shared/consumer with a JSON slog
// handler, plus about 400 bytes for the platform's START, END and REPORT
// lines (estimated, not measured); and an EMF document per sender in the
// batch (290 bytes, measured the same way).
const (
	logBytesPerInvocation = 281 + 530 + 400
	logBytesPerOwner      = 290
)

// emfMetricsPerSink is the metrics a function emits whatever its senders:
// ten per sink, Dropped and OtherSinks (shared/emf); two more per sender.
const emfMetricsPerSink = 12

// Compute plans for in, which must be valid (Validate).
func Compute(in Input) Plan {
	p := Plan{Input: in}
	p.Rates = rates(in)
	p.Stream = stream(in, p.Rates)
	opt := p.Stream.Options[p.Stream.Chosen]
	p.Mapping = mapping(in, p.Rates, opt.Shards)
	p.Quotas = quotas(in, p.Rates, p.Mapping)
	p.Bill = append(p.Bill, opt.Lines...)
	p.Bill = append(p.Bill, bill(in, p.Rates, p.Mapping, opt.Shards)...)
	for _, l := range p.Bill {
		p.Total += l.USD
	}
	p.Warnings = warnings(in, &p, opt)
	p.Context = context(in, p.Mapping, opt)
	p.Sources = []string{
		"prices: us-east-1, first tier, read " + PricesRead + " (internal/ops/capacity/prices.go names each source)",
		"throughput: " + MeasuredOn,
		fmt.Sprintf("defaults: ratio %.2f, %.0f-byte events, %.0f events per record, measured on make cost's generated application logs", Sample.Ratio, Sample.EventBytes, Sample.EventsPerRecord),
	}
	return p
}

func rates(in Input) Rates {
	r := Rates{AvgJSON: in.DailyBytes / DaySeconds, RecordBytes: in.RecordBytes()}
	r.PeakJSON = r.AvgJSON * in.PeakFactor
	r.AvgStream, r.PeakStream = r.AvgJSON/in.Ratio, r.PeakJSON/in.Ratio
	r.AvgEvents, r.PeakEvents = r.AvgJSON/in.EventBytes, r.PeakJSON/in.EventBytes
	r.AvgRecords, r.PeakRecords = r.AvgEvents/in.EventsPerRecord, r.PeakEvents/in.EventsPerRecord
	return r
}

// stream prices the four ways to run and read the stream and picks the
// cheapest one no limit rules out.
func stream(in Input, r Rates) Stream {
	// Every per-shard limit is planned at Near of it at the peak: the peak
	// factor is an estimate, and a burst over a full shard is throttled.
	byBytes, byRecords := r.PeakStream/(Near*ShardWriteBytes), r.PeakRecords/(Near*ShardWriteRecords)
	s := Stream{WriteShards: max(1, int(math.Ceil(max(byBytes, byRecords)))), BoundBy: "bytes"}
	if byRecords > byBytes {
		s.BoundBy = "records"
	}
	n := float64(len(in.EnabledSinks()))
	month := struct{ bytes, records float64 }{r.AvgStream * MonthSeconds, r.AvgRecords * MonthSeconds}
	readGB := month.bytes / GiB
	// Standard consumers share a shard's 2 MiB/s: every shard's peak times
	// the sinks must stay within Near of it. Provisioned adds shards for
	// that; on demand cannot (the plan assumes its shards run as full as
	// provisioned ones at the peak, as they do right after it scaled to a
	// new peak).
	stdShards := max(s.WriteShards, int(math.Ceil(n*r.PeakStream/(Near*ShardReadBytes))))
	inGB := month.records * math.Ceil(r.RecordBytes/OnDemandRoundBytes) * OnDemandRoundBytes / GiB
	putUnits := month.records * math.Ceil(r.RecordBytes/PutUnitBytes)
	odBase := []Line{
		{"Kinesis", "on-demand stream-hours", MonthHours, "stream-hours", MonthHours * KinesisOnDemandStreamHour},
		{"Kinesis", "on-demand data in (records rounded up to 1 KB)", inGB, "GB", inGB * KinesisOnDemandPerGBIn},
	}
	provBase := func(shards int) []Line {
		h := float64(shards * MonthHours)
		return []Line{
			{"Kinesis", fmt.Sprintf("shard-hours (%d %s)", shards, plural(shards, "shard")), h, "shard-hours", h * KinesisShardHour},
			{"Kinesis", "PUT payload units (25 KB)", putUnits, "units", putUnits * KinesisPerPutUnit},
		}
	}
	efoHours := func(shards int) float64 { return n * float64(shards*MonthHours) }
	s.Options = []StreamOption{
		{Mode: OnDemand, Reads: Standard, Shards: s.WriteShards, ReadShare: n * r.PeakStream / float64(s.WriteShards) / ShardReadBytes,
			Lines: append(slices.Clone(odBase), Line{"Kinesis", fmt.Sprintf("on-demand data read by %.0f standard consumers", n), n * readGB, "GB", n * readGB * KinesisOnDemandPerGBOut})},
		{Mode: OnDemand, Reads: FanOut, Shards: s.WriteShards,
			Lines: append(slices.Clone(odBase), Line{"Kinesis", fmt.Sprintf("on-demand enhanced fan-out data read by %.0f consumers", n), n * readGB, "GB", n * readGB * KinesisOnDemandEFOPerGB})},
		{Mode: Provisioned, Reads: Standard, Shards: stdShards, ReadShare: n * r.PeakStream / float64(stdShards) / ShardReadBytes,
			Lines: provBase(stdShards)},
		{Mode: Provisioned, Reads: FanOut, Shards: s.WriteShards,
			Lines: append(provBase(s.WriteShards),
				Line{"Kinesis", fmt.Sprintf("enhanced fan-out consumer-shard-hours (%.0f consumers)", n), efoHours(s.WriteShards), "consumer-shard-hours", efoHours(s.WriteShards) * KinesisEFOConsumerShardHour},
				Line{"Kinesis", fmt.Sprintf("enhanced fan-out data read by %.0f consumers", n), n * readGB, "GB", n * readGB * KinesisEFOPerGB})},
	}
	s.Chosen = -1
	for i := range s.Options {
		o := &s.Options[i]
		for _, l := range o.Lines {
			o.USD += l.USD
		}
		switch {
		case o.Reads == Standard && o.ReadShare > Near:
			o.Why = fmt.Sprintf("%.0f standard consumers read %.2f MiB/s of a shard at the peak, %.0f%% of its 2 MiB/s", n, o.ReadShare*2, 100*o.ReadShare)
		case o.Mode == OnDemand && r.PeakStream > OnDemandMaxWriteBytes(in.Region):
			o.Why = fmt.Sprintf("the peak, %.0f MB/s, is over the %.0f MB/s an on-demand stream scales to in %s", r.PeakStream/1e6, OnDemandMaxWriteBytes(in.Region)/1e6, in.Region)
		case o.Mode == Provisioned && o.Shards > ShardQuota(in.Region):
			o.Why = fmt.Sprintf("%d shards are over the account's default quota of %d in %s: request an increase", o.Shards, ShardQuota(in.Region), in.Region)
		default:
			o.Feasible = true
		}
		if o.Feasible && (s.Chosen < 0 || o.USD < s.Options[s.Chosen].USD) {
			s.Chosen = i
		}
	}
	if s.Chosen < 0 {
		s.Chosen = 3 // nothing fits the defaults: provisioned fan-out, once the quota is raised
	}
	return s
}

// Throughput of a function delivering share of the events: decode for
// every event, the rest of the path for each delivery.
func effectiveMBps(t Throughput, share float64) float64 {
	return 1 / (1/t.Decode + share*(1/t.Path-1/t.Decode))
}

// MemoryFor is the smallest memory size (a multiple of 64 MB, at least 128)
// whose CPU share gives vcpu, whose GOMEMLIMIT (2/3 of memory, as the
// stack sets it) holds peakHeapMB, and whose decompression cap (an eighth
// of it, up to 64 MiB from 512 MB) holds invocationJSON bytes, the
// inflated payloads of one full invocation: below that the functions cut
// ordinary batches and hand the rest back to Lambda, which counts each cut
// against the mapping's retryAttempts.
func MemoryFor(vcpu, peakHeapMB, invocationJSON float64) int {
	need := max(MBPerVCPU*vcpu, peakHeapMB*3/2, float64(config.MemoryForDecompressed(invocationJSON)))
	return min(MaxMemoryMB, max(MinMemoryMB, int(math.Ceil(need/64))*64))
}

// InvocationJSON is the uncompressed JSON one full invocation carries at a
// gzip ratio: a 6 MB event is base64 record data (3 bytes per 4) around
// little else.
func InvocationJSON(ratio float64) float64 { return MaxInvocationBytes * 3 / 4 * ratio }

// LambdaGBSeconds is what CPU-bound work of cpuSeconds on one core bills at
// memoryMB: below 1,769 MB the function runs at its memory's vCPU share,
// so the duration stretches and the GB-seconds stay the same; above it a
// one-core path pays for memory it cannot use.
func LambdaGBSeconds(cpuSeconds float64, memoryMB int) float64 {
	return cpuSeconds * max(1, MBPerVCPU/float64(memoryMB)) * float64(memoryMB) / 1024
}

// invocations per second of one shard's consumer: a batch is sent when it
// is full, when the window (or, without one, Lambda's once-a-second poll)
// ends, and never without records; parallelization sends that many batches
// at once.
func invocations(streamBps, records, batchBytes float64, window, parallel int) float64 {
	return min(records, max(streamBps/batchBytes, float64(parallel)/float64(max(window, 1))))
}

func mapping(in Input, r Rates, shards int) Mapping {
	m := Mapping{}
	// Lambda stops a batch at 6 MB of invocation payload: base64 data (4
	// bytes per 3) and each record's envelope.
	m.BatchSize = min(MaxBatchSize, max(1, int(MaxInvocationBytes/(r.RecordBytes*4/3+recordEnvelope))))
	m.BatchBytes = float64(m.BatchSize) * r.RecordBytes
	sh := float64(shards)
	if fill := m.BatchBytes / (r.AvgStream / sh); fill > 1 {
		m.BatchWindowSeconds = min(MaxWindowSeconds, int(math.Ceil(fill)))
	}
	// The smallest parallelization at which one instance keeps up with a
	// shard's peak with Headroom on at most one vCPU (the path runs on one core).
	shardJSON := r.PeakJSON / sh
	vcpu := func(s string, par int) float64 {
		return Headroom * shardJSON / float64(par) / (effectiveMBps(Measured[s], in.Shares[s]) * 1e6)
	}
	m.ParallelizationFactor = MaxParallelization
	for par := 1; par <= MaxParallelization; par++ {
		ok := true
		for _, s := range in.EnabledSinks() {
			ok = ok && vcpu(s, par) <= 1
		}
		if ok {
			m.ParallelizationFactor = par
			break
		}
	}
	m.AvgInvocations = sh * invocations(r.AvgStream/sh, r.AvgRecords/sh, m.BatchBytes, m.BatchWindowSeconds, m.ParallelizationFactor)
	m.PeakInvocations = sh * invocations(r.PeakStream/sh, r.PeakRecords/sh, m.BatchBytes, m.BatchWindowSeconds, m.ParallelizationFactor)
	monthJSON := r.AvgJSON * MonthSeconds
	for _, s := range in.EnabledSinks() {
		f := Function{Sink: s, Share: in.Shares[s], MBps: effectiveMBps(Measured[s], in.Shares[s]), VCPU: vcpu(s, m.ParallelizationFactor)}
		f.MemoryMB = MemoryFor(f.VCPU, Measured[s].PeakHeapMB, min(m.BatchBytes*in.Ratio, InvocationJSON(in.Ratio)))
		f.Concurrency = shards * m.ParallelizationFactor
		f.CPUSeconds = monthJSON / 1e6 / f.MBps
		f.Invocations = m.AvgInvocations * MonthSeconds
		m.FunctionMemoryMB = max(m.FunctionMemoryMB, f.MemoryMB)
		m.Concurrency += f.Concurrency
		m.Functions = append(m.Functions, f)
	}
	for i := range m.Functions {
		m.Functions[i].GBSeconds = LambdaGBSeconds(m.Functions[i].CPUSeconds, m.FunctionMemoryMB)
	}
	return m
}

func quotas(in Input, r Rates, m Mapping) Quotas {
	q := Quotas{FirehoseQuota: QuotaFor(in.Region), PutLogEventsQuota: PutLogEventsQuota, S3PrefixLimit: S3PutsPerPrefix}
	if f := in.Shares[SinkFirehose]; f > 0 {
		events := r.PeakEvents * f
		q.FirehoseBytes = events * in.LineBytes()
		// Records are packed up to 1,000 KiB, and every invocation with
		// events for Firehose sends at least one.
		q.FirehoseRecords = min(events, max(q.FirehoseBytes/FirehoseRecordBytes, m.PeakInvocations))
		q.FirehoseRequests = max(q.FirehoseBytes/FirehoseBatchBytes, q.FirehoseRecords/FirehoseBatchRecords, min(m.PeakInvocations, q.FirehoseRecords))
		// Each stream planned at Near of its quota, like the shards.
		q.FirehoseStreams = max(1, int(math.Ceil(max(q.FirehoseBytes/q.FirehoseQuota.Bytes, q.FirehoseRequests/q.FirehoseQuota.Requests, q.FirehoseRecords/q.FirehoseQuota.Records)/Near)))
	}
	if f := in.Shares[SinkLogs]; f > 0 {
		// A record is one log stream's events, and the sink writes them to
		// one log stream: one call per record at least (an upper bound:
		// records of one stream in one batch share calls).
		q.PutLogEvents = r.PeakRecords * f * logsCallsPerRecord(in.Workload)
	}
	if f := in.Shares[SinkS3]; f > 0 {
		q.S3Puts = m.PeakInvocations * s3ObjectsPerInvocation(in, r.PeakRecords/m.PeakInvocations, f)
		q.S3PutsPerPrefix = m.PeakInvocations
	}
	return q
}

// logsCallsPerRecord is the PutLogEvents calls one record's events take.
func logsCallsPerRecord(w Workload) float64 {
	bytes := w.EventsPerRecord * (w.MessageBytes() + LogsEventOverhead)
	return max(math.Ceil(bytes/LogsBatchBytes), math.Ceil(w.EventsPerRecord/LogsBatchEvents))
}

// s3ObjectsPerInvocation is the objects one invocation writes: one per
// partition (owner, log group, hour) among its records, at most one per
// record carrying S3 events.
func s3ObjectsPerInvocation(in Input, recordsPerInvocation, share float64) float64 {
	partitions := float64(in.Senders) * float64(in.LogGroupsPerSender)
	return max(1, min(recordsPerInvocation*min(share, 1), partitions))
}

// bill is the monthly bill of everything but the stream.
func bill(in Input, r Rates, m Mapping, shards int) []Line {
	var out []Line
	add := func(service, item string, qty float64, unit string, usd float64) {
		out = append(out, Line{service, item, qty, unit, usd})
	}
	monthEvents := r.AvgEvents * MonthSeconds
	monthJSON := r.AvgJSON * MonthSeconds
	var gbs, inv float64
	for _, f := range m.Functions {
		gbs += f.GBSeconds
		inv += f.Invocations
	}
	add("Lambda", fmt.Sprintf("duration, %d functions at %d MB arm64", len(m.Functions), m.FunctionMemoryMB), gbs, "GB-seconds", gbs*LambdaArmGBSecond)
	add("Lambda", "requests", inv, "requests", inv*LambdaPerRequest)
	if f := in.Shares[SinkFirehose]; f > 0 {
		// An invocation packs its lines into as few records of up to 1,000
		// KiB as hold them; Firehose bills each record rounded up to 5 KB.
		perInvocation := r.AvgEvents / m.AvgInvocations * f * in.LineBytes()
		n := max(1, math.Ceil(perInvocation/FirehoseRecordBytes))
		billed := n * math.Ceil(perInvocation/n/FirehoseBillUnit) * FirehoseBillUnit
		gb := billed * m.AvgInvocations * MonthSeconds / GiB
		add("Firehose", "ingestion (NDJSON lines packed into records, each billed in 5 KB steps)", gb, "GB", gb*FirehosePerGB)
	}
	if f := in.Shares[SinkLogs]; f > 0 {
		gb := monthEvents * f * (in.MessageBytes() + LogsEventOverhead) / GiB
		add("CloudWatch Logs", "logs sink ingestion (messages + 26 bytes each)", gb, "GB", gb*LogsIngestPerGB)
	}
	recordsPerInvocation := r.AvgRecords / m.AvgInvocations
	logGB := inv * (logBytesPerInvocation + logBytesPerOwner*min(float64(in.Senders), recordsPerInvocation)) / GiB
	add("CloudWatch Logs", "the functions' own logs and EMF documents", logGB, "GB", logGB*LogsIngestPerGB)
	metrics := float64(len(m.Functions)) * (emfMetricsPerSink + 2*float64(in.Senders))
	add("CloudWatch", "custom metrics (EMF: events and bytes per sender and sink)", metrics, "metrics", MetricsUSD(metrics))
	if f := in.Shares[SinkS3]; f > 0 {
		puts := m.AvgInvocations * s3ObjectsPerInvocation(in, recordsPerInvocation, f) * MonthSeconds
		add("S3", "PUT requests", puts, "requests", puts*S3PerPut)
		gb := monthJSON * f * in.LineBytes() / in.EventBytes / (in.Ratio * S3GzipGain) / GiB
		add("S3", "Standard storage of a month's objects, per month kept", gb, "GB-months", gb*S3StandardGBMonth)
	}
	add("DynamoDB", "ledger: one strongly consistent GetItem per invocation", inv, "read units", inv*DynamoReadUnit)
	// The first enabled sink's function writes the health table: each
	// heartbeat, and each log group's item once an hour per instance that
	// sees it (every instance, for a log group busy enough), never more
	// often than records arrive.
	instances := float64(shards * m.ParallelizationFactor)
	groups := float64(in.Senders) * float64(in.LogGroupsPerSender)
	writes := float64(in.Senders)*HeartbeatsPerHour*MonthHours +
		min(groups*instances*LogGroupWritesPerHour*MonthHours, r.AvgRecords*MonthSeconds)
	add("DynamoDB", "health table: heartbeats, log groups hourly per instance", writes, "write units", writes*DynamoWriteUnit)
	return out
}

// MetricsUSD prices n custom metrics for a month through CloudWatch's tiers.
func MetricsUSD(n float64) float64 {
	tiers := []struct{ upTo, usd float64 }{{10000, CloudWatchMetricMonth}, {250000, 0.10}, {1000000, 0.05}, {math.Inf(1), 0.02}}
	var usd, from float64
	for _, t := range tiers {
		if n <= from {
			break
		}
		usd += (min(n, t.upTo) - from) * t.usd
		from = t.upTo
	}
	return usd
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
