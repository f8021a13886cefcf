package capacity

import (
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

// input is the reference plan of docs/performance.md: the sample workload (ratio 3.706,
// 319.2-byte events, 1,000 per record: 86,130.6-byte records), peak 3x,
// 10 senders of 20 log groups, every event to S3, 30% to Firehose, 10% to
// CloudWatch Logs, in us-east-1.
func input(dailyBytes float64) Input {
	return Input{DailyBytes: dailyBytes, PeakFactor: 3, Workload: Sample, Senders: 10, LogGroupsPerSender: 20,
		Shares: map[string]float64{SinkS3: 1, SinkFirehose: 0.3, SinkLogs: 0.1}, Region: "us-east-1"}
}

func line(t *testing.T, p Plan, item string) Line {
	t.Helper()
	for _, l := range p.Bill {
		if strings.HasPrefix(l.Item, item) {
			return l
		}
	}
	t.Fatalf("no bill line %q in %+v", item, p.Bill)
	return Line{}
}

// Test10GBADay: 10^10 bytes a day is 115,740.74 B/s of JSON on average,
// 347,222.2 at the peak (x3), 93,691.9 B/s on the stream (/3.706) and
// 93,691.9 / 86,130.6 = 1.0878 records/s: far under one shard's 80% of
// 1 MiB/s (838,861 B/s). A month (730 h = 2,628,000 s) is 0.36259 x
// 2,628,000 = 952,903.1 records of 86,130.6 bytes, 8.2075e10 bytes
// (76.439 GB of 2^30).
func Test10GBADay(t *testing.T) {
	p := Compute(input(10e9))
	if p.Stream.WriteShards != 1 {
		t.Errorf("write shards %d, want 1", p.Stream.WriteShards)
	}
	records := 1e10 / 86400 / 319.2 / 1000 * 2628000 // 952,903.1
	gb := 1e10 / 86400 / 3.706 * 2628000 / (1 << 30) // 76.439
	for _, o := range p.Stream.Options {
		var want float64
		switch o.Mode + "/" + o.Reads {
		case "on-demand/standard":
			// 730 h x $0.04 + records x 85 KiB (86,130.6 rounded up to
			// 1 KiB) x $0.08/GB + 3 reads x 76.439 GB x $0.04
			want = 730*0.04 + records*85*1024/(1<<30)*0.08 + 3*gb*0.04 // $44.55
		case "on-demand/enhanced fan-out":
			want = 730*0.04 + records*85*1024/(1<<30)*0.08 + 3*gb*0.05 // $46.85
		case "provisioned/standard":
			// 1 shard x 730 h x $0.015 + records x 4 PUT units (86,130.6 /
			// 25,600 = 3.36, rounded up) x $0.014/M
			want = 730*0.015 + records*4*0.014e-6 // $11.00
		case "provisioned/enhanced fan-out":
			want = 730*0.015 + records*4*0.014e-6 + 3*730*0.015 + 3*gb*0.013 // $46.83
		}
		near(t, o.Mode+"/"+o.Reads, o.USD, want)
		if !o.Feasible {
			t.Errorf("%s/%s ruled out: %s", o.Mode, o.Reads, o.Why)
		}
	}
	if o := p.Stream.Options[p.Stream.Chosen]; o.Mode != Provisioned || o.Reads != Standard || o.Shards != 1 {
		t.Errorf("chose %+v, want one provisioned shard read by standard consumers (cheapest: $11.00 against $44.55)", o)
	}
	m := p.Mapping
	// Batch: 6,291,456 / (86,130.6 x 4/3 + 500) = 54.5 records. A shard
	// takes 31,231 B/s on average: a 54-record batch (4,651,052 bytes)
	// fills in 149 s, so the window is the 5 s cap, and 0.2 invocations/s
	// (records arrive at 0.363/s: enough for one every 5 s).
	if m.BatchSize != 54 || m.BatchWindowSeconds != 5 || m.ParallelizationFactor != 1 {
		t.Errorf("mapping %d/%d/%d, want batch 54, window 5, parallelization 1", m.BatchSize, m.BatchWindowSeconds, m.ParallelizationFactor)
	}
	near(t, "invocations/s", m.AvgInvocations, 0.2)
	// Memory: S3 at 347,222 B/s of JSON x Headroom 2 / 110 MB/s = 0.0063
	// vCPU (11 MB); the 48 MB peak heap x 1.5 = 72 MB; a full batch (54
	// records, 4.65 MB) inflates at ratio 3.71 to 17.3 MB, whose cap needs
	// 8 x 16.5 MiB = 132 MB: that binds, 192 MB.
	if m.FunctionMemoryMB != 192 {
		t.Errorf("memory %d MB, want 192", m.FunctionMemoryMB)
	}
	near(t, "s3 vCPU", m.Functions[0].VCPU, 2*1e10/86400*3/110e6)
	// Lambda: S3 CPU = 3.0417e11 bytes a month / 110 MB/s = 2,765.2 s;
	// Firehose (share 0.3): 1/(1/216 + 0.3 x (1/122 - 1/216)) = 175.4
	// MB/s; Logs (0.1): 1/(1/290 + 0.1 x (1/180 - 1/290)) = 273.3 MB/s.
	// At 128 MB the duration stretches 1769/128: GB-seconds = CPU x 1769/1024.
	month := 1e10 / 86400 * 2628000
	cpu := month/1e6/110 + month/1e6*(1.0/216+0.3*(1.0/122-1.0/216)) + month/1e6*(1.0/290+0.1*(1.0/180-1.0/290))
	near(t, "Lambda duration", line(t, p, "duration").USD, cpu*1769/1024*0.0000133334)
	near(t, "Lambda requests", line(t, p, "requests").USD, 3*0.2*2628000*0.20e-6)
	// Firehose: an invocation holds 362.6 / 0.2 = 1,813 events; 0.3 of
	// them as 430.0-byte lines (319.2 + 110.8) is 233,882 bytes, one record
	// billed as 46 x 5 KiB = 235,520 bytes, 525,600 times a month.
	perInvocation := 1e10 / 86400 / 319.2 / 0.2 * 0.3 * 430
	near(t, "Firehose", line(t, p, "ingestion").USD, math.Ceil(perInvocation/5120)*5120*0.2*2628000/(1<<30)*0.029)
	// Logs: 0.1 x events x (201.0-byte messages + 26).
	near(t, "Logs", line(t, p, "logs sink").USD, 0.1*records*1000*(319.2-118.2+26)/(1<<30)*0.50)
	// S3: an invocation holds 0.363/0.2 = 1.81 records, so 1.81 objects:
	// PUTs = records a month; storage: the month's JSON x 430/319.2 (lines)
	// / (3.706 x 1.234) (gzip).
	near(t, "S3 PUT", line(t, p, "PUT requests").USD, records*0.005/1000)
	near(t, "S3 storage", line(t, p, "Standard storage").USD, month*430/319.2/(3.706*1.234)/(1<<30)*0.023)
	// Ledger: one read unit per invocation of each function. Health: 10
	// senders x 12 heartbeats x 730 h, plus 200 log groups x 1 instance x
	// 730 h (fewer than the 952,903 records).
	near(t, "ledger", line(t, p, "ledger").USD, 3*0.2*2628000*0.125e-6)
	near(t, "health", line(t, p, "health").USD, (10*12*730+200*1*730)*0.625e-6)
	// The functions' logs: 1,576,800 invocations x (1,211 bytes + 290 per
	// sender in the batch: 0.3626 records / 0.2 invocations = 1.81).
	near(t, "own logs", line(t, p, "the functions' own logs").USD, 3*0.2*2628000*(1211+290*(1e10/86400/319.2/1000/0.2))/(1<<30)*0.50)
	// Metrics: 3 functions x (12 + 2 x 10 senders) = 96 at $0.30.
	near(t, "metrics", line(t, p, "custom metrics").USD, 96*0.30)
	if len(p.Warnings) != 0 {
		t.Errorf("warnings %q, want none", p.Warnings)
	}
	if got := strings.Join(p.Context, " "); got != "streamMode=provisioned shardCount=1 enhancedFanOut=false batchSize=54 batchWindowSeconds=5 parallelizationFactor=1 functionMemoryMB=192" {
		t.Errorf("context %q", got)
	}
}

// Test1TBADay: 10^12 bytes a day peaks at 9,369,191 B/s on the stream:
// 9,369,191 / 838,861 (80% of 1 MiB/s) = 11.17, so 12 shards for writes.
// Three standard consumers read 3 x 9,369,191 = 28.1 MB/s, which at 80% of
// 2 MiB/s a shard needs 16.75, so 17 shards. On demand, 12 shards' worth
// read at 3 x 780,766 B/s = 112% of 2 MiB/s: only with fan-out.
func Test1TBADay(t *testing.T) {
	p := Compute(input(1e12))
	if p.Stream.WriteShards != 12 || p.Stream.BoundBy != "bytes" {
		t.Errorf("write shards %d (%s), want 12 (bytes)", p.Stream.WriteShards, p.Stream.BoundBy)
	}
	records := 1e12 / 86400 / 319.2 / 1000 * 2628000 // 95,290,309
	gb := 1e12 / 86400 / 3.706 * 2628000 / (1 << 30) // 7,643.9
	for _, o := range p.Stream.Options {
		switch o.Mode + "/" + o.Reads {
		case "on-demand/standard":
			if o.Feasible || o.Shards != 12 {
				t.Errorf("on-demand with standard consumers: %+v, want ruled out", o)
			}
		case "on-demand/enhanced fan-out":
			near(t, o.Mode+"/"+o.Reads, o.USD, 730*0.04+records*85*1024/(1<<30)*0.08+3*gb*0.05) // $1,793.72
		case "provisioned/standard":
			if o.Shards != 17 {
				t.Errorf("provisioned standard: %d shards, want 17", o.Shards)
			}
			near(t, o.Mode+"/"+o.Reads, o.USD, 17*730*0.015+records*4*0.014e-6) // $191.49
		case "provisioned/enhanced fan-out":
			near(t, o.Mode+"/"+o.Reads, o.USD, 12*730*0.015+records*4*0.014e-6+3*12*730*0.015+3*gb*0.013) // $829.04
		}
	}
	if o := p.Stream.Options[p.Stream.Chosen]; o.Mode != Provisioned || o.Reads != Standard {
		t.Errorf("chose %s/%s, want provisioned/standard ($191 against $829 with fan-out and $1,794 on demand)", o.Mode, o.Reads)
	}
	// A shard averages 3,123,064 / 17 = 183,710 B/s: a batch fills in 25 s,
	// window 5 s, 0.2 invocations/s per shard, 3.4 in all; at the peak a
	// shard's 2,042,484 B/s of JSON x 2 / 110 MB/s = 0.037 vCPU.
	m := p.Mapping
	if m.BatchSize != 54 || m.BatchWindowSeconds != 5 || m.ParallelizationFactor != 1 || m.FunctionMemoryMB != 192 {
		t.Errorf("mapping %+v", m)
	}
	near(t, "invocations/s", m.AvgInvocations, 17*0.2)
	if m.Concurrency != 3*17 {
		t.Errorf("concurrency %d, want 51 (3 functions x 17 shards)", m.Concurrency)
	}
	// Firehose at the peak: 10^12 x 3 / 86,400 / 319.2 = 108,779 events/s
	// x 0.3 x 430 bytes = 14,032,478 B/s (13.4 MiB/s): 2.68 streams of 5
	// MiB/s, at 80% each 3.35, so 4.
	q := p.Quotas
	near(t, "Firehose bytes/s", q.FirehoseBytes, 1e12*3/86400/319.2*0.3*430)
	if q.FirehoseStreams != 4 {
		t.Errorf("Firehose streams %d, want 4", q.FirehoseStreams)
	}
	// PutLogEvents: 108.78 records/s x 0.1, one call each (1,000 x 227
	// bytes is under 1 MiB).
	near(t, "PutLogEvents/s", q.PutLogEvents, 1e12*3/86400/319.2/1000*0.1)
	// S3 at the peak: 3.4 invocations/s of 108.78 / 3.4 = 32 records, each
	// its own object (200 partitions): 108.78 PUTs/s; one prefix at worst
	// gets one per invocation.
	near(t, "S3 PUTs/s", q.S3Puts, 1e12*3/86400/319.2/1000)
	near(t, "S3 PUTs/s per prefix", q.S3PutsPerPrefix, 3.4)
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "Firehose needs 4 streams") {
		t.Errorf("warnings %q, want the Firehose streams one", p.Warnings)
	}
}

// Test10TBADay: 10x the 1 TB case: 93,691,911 B/s at the peak, 111.7 ->
// 112 write shards, 167.5 -> 168 for three standard consumers; Firehose
// 140 MB/s: 26.8 streams, 33.5 at 80%: 34.
func Test10TBADay(t *testing.T) {
	p := Compute(input(10e12))
	o := p.Stream.Options[p.Stream.Chosen]
	if p.Stream.WriteShards != 112 || o.Mode != Provisioned || o.Reads != Standard || o.Shards != 168 {
		t.Errorf("stream: %d write shards, chose %s/%s with %d shards; want 112, provisioned/standard with 168", p.Stream.WriteShards, o.Mode, o.Reads, o.Shards)
	}
	records := 10e12 / 86400 / 319.2 / 1000 * 2628000
	near(t, "Kinesis", o.USD, 168*730*0.015+records*4*0.014e-6) // $1,892.96
	if p.Quotas.FirehoseStreams != 34 {
		t.Errorf("Firehose streams %d, want 34", p.Quotas.FirehoseStreams)
	}
	// 3 x 168 = 504 instances: under 80% of 1,000.
	if p.Mapping.Concurrency != 504 {
		t.Errorf("concurrency %d, want 504", p.Mapping.Concurrency)
	}
	// Health: 200 log groups x 168 instances x 730 h = 24.5 M writes, under
	// the 952.9 M records; plus 87,600 heartbeats.
	near(t, "health", line(t, p, "health").USD, (10*12*730+200*168*730)*0.625e-6)
	var storage bool
	for _, w := range p.Warnings {
		storage = storage || strings.Contains(w, "past the first 50 TB")
	}
	if !storage {
		t.Errorf("warnings %q: want S3 past the first storage tier (81 TB a month)", p.Warnings)
	}
}

// TestSmallRecordsBindOnRecords: 1 event of 500 bytes per record at ratio
// 2 is a 250-byte record; 1 TB a day peaks at 69,444 records/s, 86.8
// shards at 800 records/s against 16.6 for the bytes. On demand bills each
// record as 1 KB.
func TestSmallRecordsBindOnRecords(t *testing.T) {
	in := input(1e12)
	in.Workload = Workload{Ratio: 2, EventBytes: 500, EventsPerRecord: 1}
	p := Compute(in)
	if p.Stream.WriteShards != 87 || p.Stream.BoundBy != "records" {
		t.Errorf("write shards %d (%s), want 87 (records)", p.Stream.WriteShards, p.Stream.BoundBy)
	}
	// One PutLogEvents call per record: 69,444 x 0.1 = 6,944/s, over 80%
	// of the 5,000/s quota.
	near(t, "PutLogEvents/s", p.Quotas.PutLogEvents, 1e12*3/86400/500*0.1)
	var warned bool
	for _, w := range p.Warnings {
		warned = warned || strings.Contains(w, "PutLogEvents")
	}
	if !warned {
		t.Errorf("no PutLogEvents warning in %q", p.Warnings)
	}
}

// TestFirehoseQuotaByRegion: eu-central-1 has 1 MiB/s per Firehose stream:
// the 1 TB case's 13.4 MiB/s needs 13.38 / 0.8 -> 17 streams.
func TestFirehoseQuotaByRegion(t *testing.T) {
	in := input(1e12)
	in.Region = "eu-central-1"
	p := Compute(in)
	if p.Quotas.FirehoseStreams != 17 {
		t.Errorf("streams %d, want 17", p.Quotas.FirehoseStreams)
	}
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "prices are us-east-1's") {
		t.Errorf("no price warning for eu-central-1 in %q", p.Warnings)
	}
}

// TestOneSinkShareZero: a function whose routes send it nothing still
// decodes every record, at decode speed.
func TestOneSinkShareZero(t *testing.T) {
	in := input(1e12)
	in.Shares = map[string]float64{SinkS3: 0}
	p := Compute(in)
	near(t, "MB/s", p.Mapping.Functions[0].MBps, 276)
	for _, l := range p.Bill {
		if l.Service == "S3" {
			t.Errorf("bill has %+v for a sink with share 0", l)
		}
	}
	if got := strings.Join(p.Context, " "); !strings.Contains(got, "firehoseEnabled=false logsEnabled=false") {
		t.Errorf("context %q: want the disabled sinks", got)
	}
	// One standard consumer: 9,369,191 B/s over 12 shards is 37% of 2 MiB/s.
	if o := p.Stream.Options[p.Stream.Chosen]; o.Shards != 12 || o.Reads != Standard {
		t.Errorf("chose %+v", o)
	}
}

// TestParallelization: at a ratio of 100, 300-byte events, 1,000 to a
// record, 10 TB a day peaks at 3,472,222 B/s on the stream: 4.14 -> 5
// shards (80% of 1 MiB/s each). A shard's peak is then 69.4 MB/s of JSON,
// and with headroom 2 the S3 path (110 MB/s) needs 1.26 vCPU per instance:
// over one core, so parallelization 2 (0.63 vCPU, 1,152 MB).
func TestParallelization(t *testing.T) {
	in := input(10e12)
	in.Shares = map[string]float64{SinkS3: 1}
	in.Workload = Workload{Ratio: 100, EventBytes: 300, EventsPerRecord: 1000}
	p := Compute(in)
	if p.Mapping.ParallelizationFactor != 2 {
		t.Errorf("parallelization %d, want 2", p.Mapping.ParallelizationFactor)
	}
	if o := p.Stream.Options[p.Stream.Chosen]; o.Shards != 5 {
		t.Fatalf("%d shards, want 5", o.Shards)
	}
	vcpu := 2 * 10e12 * 3 / 86400 / 5 / 2 / 110e6
	near(t, "vCPU", p.Mapping.Functions[0].VCPU, vcpu)
	if p.Mapping.FunctionMemoryMB != 1152 { // 1769 x 0.631 = 1,116 -> 1,152
		t.Errorf("memory %d, want 1152", p.Mapping.FunctionMemoryMB)
	}
}

func TestMemoryFor(t *testing.T) {
	for _, tt := range []struct {
		vcpu, heap, json float64
		want             int
	}{
		{0.0063, 48, 0, 128},      // heap: 72 MB, under the 128 floor
		{0.2, 48, 0, 384},         // CPU: 1769 x 0.2 = 353.8 -> 384
		{0.01, 200, 0, 320},       // heap: 300 -> 320
		{1, 48, 0, 1792},          // one vCPU: 1769 -> 1792
		{10, 48, 0, 10240},        // capped
		{0.0063, 48, 16.9e6, 192}, // cap: a 6 MB invocation of the sample data inflates to 16.9 MB; 8 x 16.1 MiB = 129 -> 192
		{0.0063, 48, 45e6, 384},   // cap: the same at a gzip ratio of 10, 8 x 42.9 MiB = 344 -> 384
		{0.0063, 48, 200e6, 512},  // cap: past 64 MiB the cap stops growing at 512 MB
		{0.2, 48, 200e6, 512},     // the larger of CPU (384) and cap (512)
	} {
		if got := MemoryFor(tt.vcpu, tt.heap, tt.json); got != tt.want {
			t.Errorf("MemoryFor(%g, %g, %g) = %d, want %d", tt.vcpu, tt.heap, tt.json, got, tt.want)
		}
	}
}

// TestLambdaGBSeconds: 1,000 CPU seconds bill 1,000 x 1769/1024 GB-s at
// any size up to 1,769 MB, and 1,000 x 3538/1024 at 3,538 MB.
func TestLambdaGBSeconds(t *testing.T) {
	near(t, "128", LambdaGBSeconds(1000, 128), 1000*1769.0/1024)
	near(t, "1024", LambdaGBSeconds(1000, 1024), 1000*1769.0/1024)
	near(t, "3538", LambdaGBSeconds(1000, 3538), 1000*3538.0/1024)
}

// TestMetricsUSD: 10,000 at $0.30, the next 240,000 at $0.10.
func TestMetricsUSD(t *testing.T) {
	near(t, "96", MetricsUSD(96), 28.8)
	near(t, "12,000", MetricsUSD(12000), 3000+200)
	near(t, "300,000", MetricsUSD(300000), 3000+24000+2500)
}

func TestValidate(t *testing.T) {
	if err := input(1e12).Validate(); err != nil {
		t.Fatalf("reference input refused: %v", err)
	}
	for _, tt := range []struct {
		name string
		edit func(*Input)
		want string
	}{
		{"no volume", func(in *Input) { in.DailyBytes = 0 }, "daily volume"},
		{"NaN volume", func(in *Input) { in.DailyBytes = math.NaN() }, "daily volume"},
		{"peak below 1", func(in *Input) { in.PeakFactor = 0.5 }, "peak factor"},
		{"event smaller than its JSON", func(in *Input) { in.EventBytes = 100 }, "besides its message"},
		{"ratio below 1", func(in *Input) { in.Ratio = 0.9 }, "compression ratio"},
		{"records over 1 MiB", func(in *Input) { in.EventsPerRecord = 20000 }, "lower the events per record"},
		{"no senders", func(in *Input) { in.Senders = 0 }, "senders"},
		{"no log groups", func(in *Input) { in.LogGroupsPerSender = 0 }, "log groups"},
		{"no sink", func(in *Input) { in.Shares = nil }, "no sink enabled"},
		{"unknown sink", func(in *Input) { in.Shares = map[string]float64{"kafka": 1} }, `sink "kafka"`},
		{"negative share", func(in *Input) { in.Shares = map[string]float64{SinkS3: -1} }, "share of s3"},
		{"region", func(in *Input) { in.Region = "Virginia" }, "region"},
		{"region typo", func(in *Input) { in.Region = "us-esat-1" }, "did you mean us-east-1?"},
	} {
		in := input(1e12)
		tt.edit(&in)
		if err := in.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %q", tt.name, err, tt.want)
		}
	}
	// Every problem in one error.
	in := input(1e12)
	in.PeakFactor, in.Senders = 0, 0
	if err := in.Validate(); err == nil || !strings.Contains(err.Error(), "peak factor") || !strings.Contains(err.Error(), "senders") {
		t.Errorf("two problems: %v", err)
	}
}
